//! The man page: clap_mangen's title, name and options sections, with
//! qtap's own synopsis, description, dig's words, DIG OPTIONS (from the
//! option table), trace files, examples, exit status and environment.

use std::fmt::Write as _;
use std::io::Write;

use roff::{bold, italic, roman, Inline, Roff};

use super::super::plus::{PlusKind, PlusOption, TABLE};
use super::{DIG_ARGUMENTS, ENVIRONMENT, EXIT_STATUS};

/// The clap command with its defaults filled in (`num_args` is only known
/// after `build`).
fn built_command() -> clap::Command {
    let mut cmd = crate::cli::command();
    cmd.build();
    cmd
}

/// `*bold*`, `<italic>` and plain text, for the synopsis.
pub(super) fn markup(text: &str) -> Vec<Inline> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let Some(i) = rest.find(['*', '<']) else {
            out.push(roman(rest));
            break;
        };
        let (plain, tail) = rest.split_at(i);
        if !plain.is_empty() {
            out.push(roman(plain));
        }
        let (open, body) = tail.split_at(1);
        let end = if open == "*" { '*' } else { '>' };
        match body.find(end) {
            Some(j) => {
                let inner = body.get(..j).unwrap_or_default();
                out.push(if open == "*" {
                    bold(inner)
                } else {
                    italic(inner)
                });
                rest = body.get(j + 1..).unwrap_or_default();
            }
            None => {
                out.push(roman(tail));
                break;
            }
        }
    }
    out
}

fn section(roff: &mut Roff, title: &str, paragraphs: &[&str]) {
    roff.control("SH", [title]);
    for (i, p) in paragraphs.iter().enumerate() {
        if i > 0 {
            roff.control("PP", []);
        }
        roff.text([roman(*p)]);
    }
}

fn tagged(roff: &mut Roff, tag: Vec<Inline>, text: &str) {
    roff.control("TP", []);
    roff.text(tag);
    roff.text([roman(text)]);
}

/// An indented, unfilled block of command lines.
fn commands(roff: &mut Roff, lines: &[&str]) {
    roff.control("RS", ["4"]);
    roff.control("nf", []);
    for line in lines {
        roff.text([roman(*line)]);
    }
    roff.control("fi", []);
    roff.control("RE", []);
}

/// The tag of a `+option` in the man page: `+[no]name[=VALUE]` with the
/// parts to type in bold.
fn plus_tag(option: &PlusOption) -> Vec<Inline> {
    let (name, kind) = (option.name, option.kind);
    let mut tag = vec![bold("+")];
    if kind != PlusKind::Value {
        tag.push(roman("[no]"));
    }
    tag.push(bold(name));
    match kind {
        PlusKind::Flag => {}
        PlusKind::Value => {
            tag.push(bold("="));
            tag.push(italic(option.value_name));
        }
        PlusKind::FlagOrValue => {
            tag.push(roman("[="));
            tag.push(italic(option.value_name));
            tag.push(roman("]"));
        }
    }
    tag
}

/// The synopsis line of the long options, from the clap definition.
fn long_synopsis() -> String {
    let cmd = built_command();
    let mut line = String::from("*qtap*");
    for arg in cmd.get_arguments() {
        let Some(long) = arg.get_long() else {
            continue;
        };
        if arg.is_hide_set() || matches!(long, "help" | "version" | "read") {
            continue;
        }
        let value = arg
            .get_value_names()
            .and_then(|v| v.first())
            .map(|v| v.to_lowercase());
        let takes = arg.get_num_args().is_some_and(|n| n.takes_values());
        let _ = match (takes, value) {
            (true, Some(v)) if arg.is_require_equals_set() => {
                write!(line, " [*--{long}*[=<{v}>]]")
            }
            (true, Some(v)) => write!(line, " [*--{long}* <{v}>]"),
            _ => write!(line, " [*--{long}*]"),
        };
    }
    line.push_str(" [<name> [<type>] [<class>]]...");
    line
}

pub(super) fn man_page(out: &mut dyn Write) -> std::io::Result<()> {
    // Options hidden from `-h` (hide_short_help) would lose their only
    // help text in clap_mangen; the man page is the long form of everything.
    let cmd = crate::cli::command().mut_args(|a| a.hide_short_help(false));
    let man = clap_mangen::Man::new(cmd).date("2026-11-22");
    man.render_title(out)?;
    man.render_name_section(out)?;
    let mut roff = Roff::new();
    roff.control("SH", ["SYNOPSIS"]);
    for line in [
        "*qtap* [*@*<server>] [*-p* <port>] [*-4*|*-6*] [*-t* <type>] [*-c* <class>] [*-x* <addr>] \
         [*-q* <name>] [<name> [<type>] [<class>] [*+*<option>...]]...",
        &long_synopsis(),
        "*qtap* *--read* <file>... [*+*<option>...] [*--format* *text*|*short*|*json*|*jsonl*|*yaml*] \
         [*--color* <when>]",
        "*qtap* *-h*|*--help*|*-V*|*--version*",
    ] {
        // .SY/.YS: a synopsis with a hanging indent (groff, mandoc).
        let body = line.strip_prefix("*qtap* ").unwrap_or(line);
        roff.control("SY", ["qtap"]);
        roff.text(markup(body));
        roff.control("YS", []);
    }
    description(&mut roff);
    dig_sections(&mut roff);
    roff.to_writer(out)?;
    man.render_options_section(out)?;
    let mut roff = Roff::new();
    section(&mut roff, "DELEGATION CHASE", CHASE);
    trace_files(&mut roff);
    proxy_protocol(&mut roff);
    replaying(&mut roff);
    sharing(&mut roff);
    examples(&mut roff);
    closing_sections(&mut roff);
    roff.to_writer(out)
}

/// DELEGATION CHASE: +trace, +nssearch and +hints.
const CHASE: &[&str] = &[
    "+trace asks the resolver for the root's NS set, as dig does, then follows the referrals down from the \
     root servers with RD=0 (and +dnssec), showing each step in dig's +trace layout: the answer and authority \
     records, then ;; Received N bytes from ADDR#PORT(NAME) in N ms. Glue is used first; a server named \
     without glue is resolved by a chase of its own from the root (shown too), never by the system resolver. \
     Every server is asked on the -p port; -4/-6 keep the chase to IPv4/IPv6 server addresses (a glueless \
     server is then looked up by A/AAAA). +trace sets dig's trace display defaults (no comments, question, \
     additional section or statistics; +identify), and options after it change them as they do dig's: +short \
     prints TYPE RDATA from server NAME in N ms. for each answer of each step, +stats the statistics instead of \
     the ;; Received line, +comments, +question and +additional what they say. +nssearch asks the resolver for the zone's NS set and their \
     addresses, as dig does (with +hints, the NS set comes from a chase instead), and shows the SOA record \
     of each address as SOA ... from server ADDR in N ms. When no server answers, it says ;; NS servers \
     could not be reached, as dig does, and the exit status is 9.",
    "+hints=FILE replaces the built-in IANA root servers with a root hints file (named.root format: . NS \
     name and name A|AAAA address lines); the chase then starts with a priming query to those servers and \
     never asks the resolver, so it works in a closed lab with no @server (only its port, -p, is used); -6 \
     keeps the chase to the hints' and glue's IPv6 addresses.",
    "Lame servers (an error status, or neither answer, referral nor AA flag), referrals that do not go down \
     towards the name, and glue outside the zone asked are flagged with ;; WARNING: lines and not followed; \
     the next server of the zone is tried. Each referral must go strictly down, glueless servers are resolved \
     at most 4 levels deep and never twice at once, and a lookup sends at most 100 queries; a chase that \
     cannot go on is that lookup's no reply: a ;; +trace: line on stderr, the rest of a -f batch still runs, \
     and the exit status is 9.",
    "With --tap, every message of the chase is recorded as RESOLVER_QUERY/RESOLVER_RESPONSE whose query_zone \
     is the zone whose servers were asked (the resolver's exchange stays STUB). qtap --read FILE +trace (or \
     +nssearch) shows such a recording exactly as the live run did.",
];

/// DESCRIPTION.
fn description(roff: &mut Roff) {
    section(
        roff,
        "DESCRIPTION",
        &[
            "qtap is a DNS debugging tool in the spirit of dig and kdig. It sends DNS queries and \
             prints the answers in dig 9.18's text layout. With --tap it records every message it \
             sends and receives as a dnstap trace: a Frame Streams file with content type \
             protobuf:dnstap.Dnstap, holding the verbatim wire bytes, the addresses, ports and \
             transport, and timestamps to the nanosecond. With --read it renders any dnstap file, \
             written by qtap, kdig, Knot, Unbound or BIND, in the same layout. The output of a live \
             run and the --read output of its trace are identical, byte for byte: live mode \
             renders the very records it writes.",
            "Words are read as dig reads them, in any order: @server names the server, a word \
             that is a record type or class sets the type or class of the current lookup, and any \
             other word starts a new lookup, so one run can make several lookups. Options starting \
             with + are dig's query and display options: those before the first name apply to \
             every lookup, those after a name to that lookup only, and display options to the \
             whole run; with --read, --hex or --wire only display options apply, and the others \
             are named in a warning. GNU long options (--tcp, --tap FILE, ...) may appear anywhere.",
            "Defaults follow dig 9.18: the first nameserver of /etc/resolv.conf, UDP with a TCP \
             retry when the answer is truncated, EDNS0 with a UDP size of 1232, a client COOKIE, \
             RD and AD set, a 5 second timeout and 3 tries. DNS over TLS, HTTPS and QUIC verify \
             the server certificate against the system roots; there is never a silent plaintext \
             fallback.",
        ],
    );
}

/// DIG-STYLE ARGUMENTS and DIG OPTIONS (from the option table).
fn dig_sections(roff: &mut Roff) {
    roff.control("SH", ["DIG-STYLE ARGUMENTS"]);
    for (word, text) in DIG_ARGUMENTS {
        let tag = match word.split_once(' ') {
            Some((flag, value)) => vec![bold(flag), roman(" "), italic(value)],
            None if word.starts_with('-') => vec![bold(*word)],
            None => match word.strip_prefix('@') {
                Some(v) => vec![bold("@"), italic(v)],
                None => vec![italic(*word)],
            },
        };
        tagged(roff, tag, text);
    }
    roff.control("SH", ["DIG OPTIONS"]);
    roff.text([roman(
        "Each option can be written +name or, to turn it off, +noname. Options taking a value \
         are written +name=value. As in dig, a name may be shortened to any prefix that belongs \
         to one option only (+mul for +multiline, +nostat for +nostats); a prefix of several \
         options is an error that lists them, and dig's options that qtap lacks are named as \
         such.",
    )]);
    for option in TABLE {
        tagged(roff, plus_tag(option), option.help);
    }
}

/// REPLAYING A TRACE: --replay.
fn replaying(roff: &mut Roff) {
    section(
        roff,
        "REPLAYING A TRACE",
        &[
            "--replay FILE sends every query of a dnstap trace to @server again: each query \
             frame's message, or the query message of a response frame that carries one, with \
             its recorded bytes apart from the message ID (--replay-edns rewrites the COOKIE \
             option or drops the OPT record). A recorded TSIG record is removed (it signs the \
             recorded time); -y or -k signs each query afresh and verifies the answers \
             (one that does not verify differs, kind tsig). Each \
             goes over the transport recorded in its frame \
             unless +tcp, +tls, +https, +quic or a scheme://server chooses one; +timeout, \
             +tries, the TC retry over TCP and +parallel=N work as for lookups. --rate QPS caps \
             the pace; --speed N paces the queries by their recorded times, N times faster. The \
             trace is read as a stream, in bounded memory.",
            "--replay unix:PATH or --replay tcp:ADDR:PORT listens as the collector does (any \
             number of Frame Streams senders; --socket-mode, --socket-owner, --max-connections \
             and --collector-buffer apply) and replays each query as it arrives. SIGINT or \
             SIGTERM ends it (or, with --until-closed, the last sender's leaving, after the \
             first came): the listener closes, what was handed over is replayed, then the \
             summary and the exit status come as for a file. A query whose response the sender \
             has not recorded 5 seconds after the query came in (by qtap's clock: query-only \
             logging, or a query the server dropped) counts as having none, and its case is \
             shown then; the cases after it wait for it, to keep the order. --speed is refused \
             there.",
            "With +proxy each replayed query opens with a PROXY version 2 header whose source is \
             the client address and port recorded with it (the frame's query_address and \
             query_port) and whose destination is the target, so a server's proxy port applies \
             its access control and views per original client. An IPv4 address paired with an \
             IPv6 one goes IPv4-mapped in an IPv6 header. A frame without a recorded address \
             gets the LOCAL command (the server sees qtap's own address); +proxy=SRC-DST sends \
             those addresses with every query. Over TCP and TLS a +keepopen connection \
             is reused only by the same client's next query. Not over DNS over QUIC: a recorded DoQ query gets no new response.",
            "Each new response is compared with the recorded one: rcode, opcode and header \
             flags, EDNS (COOKIE and PADDING aside), and each record section as a set of RRsets \
             (order-insensitive; TTLs only with --compare-ttl; RRSIG expiration, inception and \
             signature left out with --ignore-rrsig-times). IDs and TSIG records are never \
             compared; only the first message of a zone transfer is. Each query is classed \
             same, differs, no recorded response, or no new response (silence, replies that do \
             not match the query, which are skipped with a warning until the deadline, or a \
             transport error on every try).",
            "Every case that is not the same is shown in trace order: a ;; DIFFERS: line with the \
             query's number, name, type and frame offset, then the recorded lines prefixed with - \
             and the new ones with + (whole RRsets in dig's record layout, section headers as \
             context). A summary follows, in the manner of respdiff: counts per class, per kind \
             of difference (rcode, flags, answer, authority, additional, edns, malformed, tsig) \
             and the most frequent differing names and types (--top). --format jsonl gives one JSON \
             object per case and the summary last; --format json one object with cases and \
             summary. --mismatches FILE writes the recorded query and response and the new \
             response of each case that differs or got no answer to a dnstap file; --tap \
             records the replay itself.",
            "Exit status 0 when every response is the same, 12 when any differs or is missing, \
             9 when the server answered none, 8 when the trace could not be read or was damaged.",
        ],
    );
}

/// TRACE FILES: what a trace holds and how to share one.
fn trace_files(roff: &mut Roff) {
    section(
        roff,
        "TRACE FILES",
        &[
            "A trace is a Frame Streams file (content type protobuf:dnstap.Dnstap): a START \
             control frame, one data frame per DNS message, and a STOP frame. Each message qtap \
             sends is a STUB_QUERY frame and each response it accepts a STUB_RESPONSE frame \
             (TOOL_QUERY and TOOL_RESPONSE with --tap-type tool, as kdig writes). A frame holds \
             the socket family and protocol (UDP, TCP, DOT, DOH with its HTTP version, or DOQ), \
             the local address and port of the real socket, the server's address and port, the \
             wall-clock times of query and response in nanoseconds, and the verbatim DNS message; \
             response frames also hold the query and its time, so one frame gives the round-trip \
             time. A truncated UDP answer followed by its TCP retry is recorded as both exchanges. \
             Replies that do not match the query are reported on stderr and not recorded.",
            "Dnstap.version is \"qtap VERSION\". Dnstap.identity is left out unless \
             --tap-identity is given.",
            "What --tap PATH does depends on what is at PATH when the run starts. Nothing, or a \
             trace (a regular file with one link): the trace is written to a new file beside PATH \
             named .qtap-PID-RANDOM.tmp, created exclusively (a planted file or symbolic link is \
             never opened) with mode 0600, and renamed over PATH when complete, with a STOP \
             frame, also after a timeout, an error, SIGINT, SIGTERM, SIGHUP or SIGQUIT. A \
             replaced trace keeps its permission bits and owner; a new one gets 0666 & ~umask.",
            "A regular file with several hard links, one reached through a symbolic link, or one \
             whose owner qtap (not running as root) cannot give a new file: the trace is written \
             to the temporary file, then copied into the existing file (not atomically), so \
             links, mode and owner stay. A device, FIFO or socket, directly or through a symbolic \
             link (/dev/null, /dev/stdout): written straight through, as kdig -E does; a FIFO \
             waits for its reader; the file standard output goes to, when the text goes there \
             too, is refused (exit status 1: use --tap -, which sends the text to stderr). A symbolic link owned by another user in a sticky, world-writable directory (such as \
             /tmp; the kernel's protected_symlinks rule, applied always), a directory, a dangling symbolic link, a file with no write \
             permission bit (also for root) or one the user may not write: refused before \
             anything is sent (exit status 10).",
            "A run that records nothing (it failed before sending) leaves PATH as it was. Only \
             SIGKILL, a crash or a signal qtap does not catch (SIGUSR2, SIGALRM, SIGUSR1 outside \
             the collector) leaves the temporary file behind; the next run into the same \
             directory warns about such leftovers. With --tap - or --write -, a trace cut short \
             (its reader went away) is an error (exit status 10); with stdout on a terminal they \
             are refused (exit status 1): a trace is binary. A trace file may not be one of the \
             run's inputs (the --replay trace, the -k key, the -f batch file, a +hints file, the \
             --scrub-key) nor the other output (--tap and --mismatches): refused before anything \
             is sent (exit status 1), told by inode, through links.",
            "To share a trace, check first that it shows what you saw (qtap --read trace.fstrm \
             +qr), then attach the file itself to the bug report, with the command line and the \
             output of qtap --version. It is binary: compress it if it is large, but do not \
             convert it. The receiver needs no qtap: kdig -G, dnstap-read, fstrm_dump and the Go \
             dnstap tool read it too.",
            "Privacy: a trace holds your own address and port (which may be a private network \
             address), the server's address, every name you looked up and every answer, the \
             times of your queries to the nanosecond, and the EDNS client COOKIE, which can link \
             your queries together. It holds no TLS keys or certificates, and no host name \
             unless you set --tap-identity. To share less, record a \
             fresh trace of only the lookups that show the problem, with +nocookie if the cookie \
             does not matter; or cut and scrub a trace as SHARING A TRACE SAFELY says.",
        ],
    );
}

/// PROXY PROTOCOL: what +proxy and +proxy-plain send, where, and what a
/// trace records of it.
fn proxy_protocol(roff: &mut Roff) {
    section(
        roff,
        "PROXY PROTOCOL",
        &[
            "With +proxy qtap puts a PROXY protocol version 2 header (HAProxy's \
             proxy-protocol.txt) in front of its queries, as dig 9.20 does, so that a server \
             listening behind a proxy port (Unbound's proxy-protocol-port, BIND's allow-proxy, \
             dnsdist, Knot Resolver) takes the client address the header gives. \
             +proxy=SRC[#PORT]-DST[#PORT] sends the PROXY command with these addresses, both IPv4 \
             or both IPv6 (IPv6 addresses may be written in brackets); the source port defaults \
             to 0 and the destination port to 53. +proxy alone sends the LOCAL command, which \
             tells the server to use the connection's own addresses.",
            "Over UDP the header opens every datagram (UDP over IPv4 or IPv6). Over TCP it is \
             sent once, when the connection opens (TCP over IPv4 or IPv6): a +keepopen \
             connection carries one header for all its queries, and a query with another header \
             opens a new connection. Over DNS over TLS and HTTPS, +proxy sends the header as the \
             first bytes inside the encrypted channel, right after the handshake (what Unbound \
             and dnsdist expect); +proxy-plain sends it in clear before the handshake (what \
             HAProxy and the PROXY specification describe). Over UDP and TCP the two are the \
             same. +noproxy-plain keeps the header but inside the encryption; +noproxy sends \
             none. DNS over QUIC defines no place for the header: +proxy with +quic is an error.",
            "A trace records what was sent, and from where: its query messages are the DNS \
             messages alone, without the header, and its query address and port are those of \
             qtap's own socket, not the addresses the header claims.",
        ],
    );
}

/// SHARING A TRACE SAFELY: selection, --write, --scrub, --stats.
fn sharing(roff: &mut Roff) {
    section(
        roff,
        "SHARING A TRACE SAFELY",
        &[
            "Cut: the selection options (--qname, --qname-regex, --qtype, --rcode, --msg-type, \
             --addr, --port, --proto, --since, --until, --slower-than, --tc, --do, --identity) \
             pick exchanges. The same option repeated means any of its values; different options \
             must all hold. Each option is tested against the query and the response of an \
             exchange together, and both are kept or left out together: a query kept only because \
             of its response comes out just before it. --since and --until form one window that \
             one message of the exchange must fall in. At most 10000 queries wait for their \
             response; past that the oldest is dropped and its response is judged alone. \
             --write OUT saves the selected frames, byte for byte, as a new trace (START, the \
             frames, STOP); OUT may not be an input; - is stdout.",
            "Scrub: --scrub, with --write or when rendering. Replaced: the query_address and \
             response_address of every frame, by a Crypto-PAn pseudonym (prefix-preserving: \
             addresses sharing n leading bits get pseudonyms sharing n leading bits) under a key \
             read from --scrub-key FILE (32 bytes, or 64 hex digits) or, by default, random for \
             the run, so two runs give different pseudonyms; the addresses of EDNS Client Subnet \
             options, with the same mapping, cut to their source prefix; ports, with \
             --scrub-ports, by a keyed permutation. Removed: Dnstap.identity, Dnstap.version, \
             Dnstap.extra and Message.policy. Zeroed in place (same length, so messages still \
             parse and pair): the data of COOKIE, NSID and PADDING options. With --scrub-names, \
             each label of the question and owner names becomes a keyed hash of the same length \
             (the same label, in any case, always the same hash). A summary on stderr counts \
             each kind.",
            "Not removed: query names (without --scrub-names), names inside RDATA and the rest of \
             every record (a PTR query for a client's address shows it without --scrub-names; an \
             answer holding one always does), query_zone, times to the \
             nanosecond, message IDs, transports, sizes, EDNS options other than those above, and \
             which addresses share a prefix (by design). A message that cannot be parsed \
             as far as its OPT record is kept as it is and counted on stderr. Crypto-PAn \
             pseudonyms resist casual reading, not a determined attacker who knows some of the \
             addresses: prefixes and the traffic's shape remain.",
            "Look: --stats summarises a trace (frames and messages by type, transport, rcode, \
             qtype and opcode; answered and unanswered queries and unsolicited responses; damage; \
             the top --top N query names and clients; latency percentiles p50, p90, p99, p99.9 \
             and max for the --top N busiest servers and transports, the rest in one (other) row, \
             with a histogram), --format json for machines. \
             --rrsets lists the unique RRsets of the responses, passive-DNS style, with bailiwick, \
             first and last seen and count (DNSDB's layout, or the common output format as JSON \
             Lines with --format jsonl); records outside the bailiwick are flagged. --hex HEX... \
             and --wire FILE render DNS messages given by hand.",
        ],
    );
}

/// EXAMPLES.
fn examples(roff: &mut Roff) {
    roff.control("SH", ["EXAMPLES"]);
    let examples: &[(&str, &[&str])] = &[
        (
            "Look up the AAAA records of example.com with the resolver of /etc/resolv.conf; \
             then several lookups in one run, answers only; then a reverse lookup:",
            &[
                "qtap example.com AAAA",
                "qtap a.example A b.example MX +short",
                "qtap -x 192.0.2.1",
            ],
        ),
        (
            "Ask a given server on a given port, without recursion, and record the exchange:",
            &["qtap @192.0.2.53 -p 5353 example.com SOA +norec --tap trace.fstrm"],
        ),
        (
            "Show the trace again, exactly as it was shown live; with the queries; as answers \
             only; and a trace written by another tool:",
            &[
                "qtap --read trace.fstrm",
                "qtap --read trace.fstrm +qr",
                "qtap --read trace.fstrm +short",
                "qtap --read knotd.dnstap",
            ],
        ),
        (
            "Each transport: UDP (the default, with a TCP retry when truncated), TCP, DNS over \
             TLS, DNS over HTTPS (POST, the URL form, and GET) and DNS over QUIC:",
            &[
                "qtap @192.0.2.53 example.com",
                "qtap @192.0.2.53 example.com +tcp",
                "qtap @9.9.9.9 example.com +tls",
                "qtap @dns.example example.com +https",
                "qtap @https://dns.example/dns-query example.com",
                "qtap @dns.example example.com +https-get",
                "qtap @dns.example example.com +quic",
            ],
        ),
        (
            "DNS over TLS to a test server with its own CA, showing the negotiated TLS \
             parameters; and accepting a server by its key pin alone:",
            &[
                "qtap @127.0.0.1 www.test +tls +tls-ca=ca.pem +tls-hostname=dns.test +tlsinfo",
                "qtap @192.0.2.53 example.com +tls +tls-pin=BASE64",
            ],
        ),
        (
            "Ask a server's PROXY port (here Unbound's proxy-protocol-port 5300) as if from \
             192.0.2.1 port 5353:",
            &["qtap @127.0.0.1 -p 5300 example.com +proxy=192.0.2.1#5353-127.0.0.1#5300"],
        ),
        (
            "Structured output: one RFC 8427 JSON object per DNS message with its dnstap context \
             and the exact bytes (a JSON array, or JSON Lines), and YAML in the layout of the Go \
             dnstap tool; live or from a trace:",
            &[
                "qtap example.com --format json",
                "qtap --read trace.fstrm --format jsonl +qr",
                "qtap --read trace.fstrm +yaml",
            ],
        ),
        (
            "Live capture: stand in as the dnstap collector of a running server (Knot's \
             mod-dnstap sink, Unbound's dnstap-socket-path or dnstap-ip, BIND's dnstap-output \
             unix), show its traffic as it arrives and save it; a capture daemon with hourly \
             files; and stream qtap's own records to an existing collector:",
            &[
                "qtap --read unix:/run/dnstap.sock --write capture.fstrm",
                "qtap --read tcp:127.0.0.1:6000 --format jsonl",
                "qtap --read unix:/run/dnstap.sock --no-output --write 'cap-%Y%m%d-%H.fstrm' --rotate-interval 1h --rotate-keep 48",
                "qtap @192.0.2.53 example.com --tap unix:/run/collector.sock",
            ],
        ),
        (
            "Cut a trace to the NXDOMAIN answers about example.com, scrubbed, for a bug report; \
             a summary; the slow exchanges of the last ten minutes; a message by hand:",
            &[
                "qtap --read big.fstrm --qname example.com --rcode NXDOMAIN --scrub --write cut.fstrm",
                "qtap --read big.fstrm --stats --top 20",
                "qtap --read big.fstrm --since -10m --slower-than 500ms",
                "qtap --hex 000101000001000000000000037777770000010001",
            ],
        ),
        (
            "Replay a capture against a server after a change, 64 queries at a time, keeping the \
             mismatches for a bug report; then at ten times the recorded pace:",
            &[
                "qtap --replay capture.fstrm @127.0.0.1 +parallel=64 --mismatches diffs.fstrm",
                "qtap --replay capture.fstrm @127.0.0.1 --speed 10 --ignore-rrsig-times",
            ],
        ),
        (
            "A zone transfer, recorded message by message; dig's multi-line layout:",
            &[
                "qtap @192.0.2.53 example.com AXFR --tap axfr.fstrm",
                "qtap @192.0.2.53 example.com DNSKEY +multiline",
            ],
        ),
    ];
    for (text, lines) in examples {
        roff.control("PP", []);
        roff.text([roman(*text)]);
        commands(roff, lines);
    }
}

/// EXIT STATUS, ENVIRONMENT, FILES and SEE ALSO.
fn closing_sections(roff: &mut Roff) {
    roff.control("SH", ["EXIT STATUS"]);
    for (code, text) in EXIT_STATUS {
        tagged(roff, vec![bold(code.to_string())], text);
    }
    roff.control("SH", ["ENVIRONMENT"]);
    for (var, text) in ENVIRONMENT {
        tagged(roff, vec![bold(*var)], text);
    }
    roff.control("SH", ["FILES"]);
    tagged(
        roff,
        vec![bold("/etc/resolv.conf")],
        "the default server is its first nameserver of the family asked for (127.0.0.1, or ::1 with -6, with a \
         warning, when there is none)",
    );
    roff.control("SH", ["SEE ALSO"]);
    roff.text([
        bold("dig"),
        roman("(1), "),
        bold("kdig"),
        roman("(1), "),
        bold("dnstap-read"),
        roman("(1), "),
        bold("fstrm_dump"),
        roman("(1); the dnstap schema at https://dnstap.info"),
    ]);
}
