complete -c qtap -l https -d 'Query over DNS-over-HTTPS, port 443 (+https)' -r
complete -c qtap -l tls-ca -d 'Verify the server certificate against this CA file (PEM) instead of the system roots' -r -F
complete -c qtap -l tls-hostname -d 'The name the server certificate must carry (default: the server\'s name or address)' -r
complete -c qtap -l tls-sni -d 'The name to send in the TLS SNI extension' -r
complete -c qtap -l tls-pin -d 'Accept the server if its key has this SPKI SHA-256 pin (base64; may repeat)' -r
complete -c qtap -l tls-certfile -d 'Client certificate chain (PEM)' -r -F
complete -c qtap -l tls-keyfile -d 'Client private key (PEM)' -r -F
complete -c qtap -l tap -d 'Record every message sent and received in this dnstap file ("-" for stdout)' -r -F
complete -c qtap -l tap-type -d 'dnstap message types to record: stub (STUB_QUERY/RESPONSE) or tool (TOOL_*, like kdig)' -r -f -a "stub\t'STUB_QUERY / STUB_RESPONSE'
tool\t'TOOL_QUERY / TOOL_RESPONSE, as kdig -E writes'"
complete -c qtap -l tap-identity -d 'Set Dnstap.identity in recorded frames (left out by default, since traces get shared)' -r
complete -c qtap -l read -d 'Render dnstap files instead of querying ("-" for stdin); unix:PATH or tcp:ADDR:PORT listens' -r -F
complete -c qtap -l timeout -d 'Seconds to wait for each reply (+timeout)' -r
complete -c qtap -l tries -d 'Number of UDP tries (+tries)' -r
complete -c qtap -l format -d 'Output format: text (dig\'s layout), short (+short), json (an array of RFC 8427 objects), jsonl (one object a line) or yaml (the Go dnstap tool\'s layout); live or with --read' -r -f -a "text\t'dig\'s text layout'
short\t'Answer RDATA only (same as +short)'
json\t'A JSON array of RFC 8427 objects, one per DNS message, with the dnstap context'
jsonl\t'The same objects as JSON Lines, one per line'
yaml\t'YAML laid out like the Go `dnstap -y` tool'"
complete -c qtap -l color -d 'When to colour the output' -r -f -a "auto\t'Colour when stdout is a terminal, NO_COLOR is unset and TERM is not dumb'
always\t'Always colour'
never\t'Never colour'"
complete -c qtap -l generate -d 'Write the man page or a shell completion script to stdout' -r -f -a "man\t'The roff man page (man/qtap.1)'
bash\t'bash completion (completions/qtap.bash)'
zsh\t'zsh completion (completions/qtap.zsh)'
fish\t'fish completion (completions/qtap.fish)'"
complete -c qtap -l qname -d 'Select exchanges about NAME or any name below it (label by label, any case; may repeat)' -r
complete -c qtap -l qname-regex -d 'Select exchanges whose query name, as shown (e.g. www.example.com.), matches RE' -r
complete -c qtap -l qtype -d 'Select exchanges whose question has this type (A, AAAA, TYPE65, ...)' -r
complete -c qtap -l rcode -d 'Select exchanges answered with this rcode (NXDOMAIN, SERVFAIL, 3, ...)' -r
complete -c qtap -l msg-type -d 'Select by dnstap message type (CLIENT_QUERY, ...) or family (auth, resolver, client, forwarder, stub, tool, update)' -r
complete -c qtap -l addr -d 'Select exchanges with this address, or one in this prefix, on either side' -r
complete -c qtap -l port -d 'Select exchanges with this port on either side' -r
complete -c qtap -l proto -d 'Select by transport: udp, tcp, dot, doh or doq' -r
complete -c qtap -l since -d 'Select messages recorded at or after TIME (RFC 3339, or relative: -10m, -2h)' -r
complete -c qtap -l until -d 'Select messages recorded at or before TIME (RFC 3339, or relative: -10m, -2h)' -r
complete -c qtap -l slower-than -d 'Select exchanges whose response took longer than DURATION (250ms, 1.5s, ...)' -r
complete -c qtap -l identity -d 'Select frames with this dnstap identity' -r
complete -c qtap -l write -d 'With --read: save the selected frames as a dnstap file ("-" for stdout) instead of rendering them; with a collector (--read unix:PATH or tcp:ADDR:PORT), save what it receives while showing it' -r -F
complete -c qtap -l scrub-key -d 'Key for --scrub\'s address pseudonyms: a file of 32 bytes or 64 hex digits (default: a random key for this run only)' -r -F
complete -c qtap -l replay -d 'Send every query of a dnstap trace to the server again and show what changed ("-" for stdin)' -r -F
complete -c qtap -l rate -d 'With --replay: send at most QPS queries per second' -r
complete -c qtap -l speed -d 'With --replay: pace the queries by their recorded times, N times faster than recorded (1: real time)' -r
complete -c qtap -l mismatches -d 'With --replay: write the recorded query and response and the new response of every query that differs to this dnstap file, ready to attach to a bug report' -r -F
complete -c qtap -l replay-edns -d 'With --replay: the queries\' EDNS: keep (as recorded), fresh-cookie (a new client cookie instead of the recorded one), no-cookie, none (no OPT record)' -r -f -a "keep\t'Send the recorded OPT record as it is'
fresh-cookie\t'Replace a recorded COOKIE by a fresh client cookie (no server cookie): a server whose secret changed answers as to a new client'
no-cookie\t'Remove the COOKIE option'
none\t'Remove the OPT record (a query without EDNS)'"
complete -c qtap -l top -d 'Rows in the top lists of --stats and of --replay\'s summary' -r
complete -c qtap -l hex -d 'Render DNS messages given as hex or base64 ("-": one per line from stdin)' -r
complete -c qtap -l wire -d 'Render the DNS message in FILE (raw bytes; "-" for stdin)' -r -F
complete -c qtap -l max-frame-size -d 'Largest data frame accepted by --read, in bytes' -r
complete -c qtap -l rotate-size -d 'Start a new --write file once it holds this many bytes (suffixes K, M, G)' -r
complete -c qtap -l rotate-interval -d 'Start a new --write file at each multiple of this interval on the clock (90, 15m, 1h, 1d)' -r
complete -c qtap -l rotate-keep -d 'Keep only the last N --write files of the run; older ones are removed' -r
complete -c qtap -l socket-mode -d 'Permission bits of a --read or --replay unix: socket file, in octal (e.g. 660)' -r
complete -c qtap -l socket-owner -d 'Owner of a --read or --replay unix: socket file: USER[:GROUP], names or numbers' -r
complete -c qtap -l collector-buffer -d 'Memory a collector\'s queue holds for rendering and saving, for all senders together (suffixes K, M, G; default 16M)' -r
complete -c qtap -l max-connections -d 'Senders a collector serves at once (default 64); more are refused, reported on stderr, and make the exit code 8' -r
complete -c qtap -l tcp -d 'Query over TCP (+tcp)'
complete -c qtap -l tls -d 'Query over DNS-over-TLS, port 853 (+tls)'
complete -c qtap -l https-get -d 'DNS-over-HTTPS with GET instead of POST (+https-get)'
complete -c qtap -l quic -d 'Query over DNS-over-QUIC, port 853 (+quic)'
complete -c qtap -l tls-insecure -d 'Accept any server certificate (insecure; announced with a warning)'
complete -c qtap -l tls-info -d 'Show the negotiated TLS version, cipher suite, ALPN and the server key pin'
complete -c qtap -l keepopen -d 'Reuse one connection for all queries of the run (+keepopen)'
complete -c qtap -l tc -d 'Select exchanges with a truncated (TC) message'
complete -c qtap -l do -d 'Select exchanges with the DNSSEC OK (DO) bit set'
complete -c qtap -l scrub -d 'Make the trace safe to share: pseudonymous addresses, no identity, version, ECS, cookies, NSID or padding (see "SHARING A TRACE SAFELY")'
complete -c qtap -l scrub-ports -d 'With --scrub: replace ports too (a keyed permutation)'
complete -c qtap -l scrub-names -d 'With --scrub: replace each label of question and owner names by a keyed hash of the same length (names inside RDATA stay)'
complete -c qtap -l stats -d 'With --read: a summary instead of the messages (counts, pairs, top names and clients, latency percentiles); --format json for machines'
complete -c qtap -l rrsets -d 'With --read: the unique RRsets seen in responses, passive-DNS style (DNSDB\'s text layout, or with --format jsonl/json the common output format as JSON Lines)'
complete -c qtap -l compare-ttl -d 'With --replay: compare TTLs too'
complete -c qtap -l ignore-rrsig-times -d 'With --replay: leave RRSIG expiration, inception and signature out of the comparison (a re-signed zone compares equal)'
complete -c qtap -l until-closed -d 'With --read or --replay unix:PATH or tcp:ADDR:PORT: end once every sender that connected has closed its connection (after the first), not only on a signal'
complete -c qtap -l no-output -d 'Show nothing of what a collector receives (with --write: a capture daemon)'
complete -c qtap -s h -l help -d 'Print help (see more with \'--help\')'
complete -c qtap -s V -l version -d 'Print version'

# dig-style words, which clap's lines above do not know: +options (from
# qtap's option table), dig's flags, and record types or classes after a name.
set -g __qtap_types A NS MD MF CNAME SOA MB MG MR NULL WKS PTR HINFO MINFO MX TXT RP AFSDB X25 ISDN RT NSAP NSAP-PTR SIG KEY PX GPOS AAAA LOC NXT EID NIMLOC SRV ATMA NAPTR KX CERT A6 DNAME SINK OPT APL DS SSHFP IPSECKEY RRSIG NSEC DNSKEY DHCID NSEC3 NSEC3PARAM TLSA SMIMEA HIP NINFO RKEY TALINK CDS CDNSKEY OPENPGPKEY CSYNC ZONEMD SVCB HTTPS SPF UINFO UID GID UNSPEC NID L32 L64 LP EUI48 EUI64 TKEY TSIG IXFR AXFR MAILB MAILA ANY URI CAA AVC DOA AMTRELAY RESINFO WALLET TA DLV
set -g __qtap_classes IN CH HS NONE ANY

function __qtap_plus_options
    printf '%s\t%s\n' \
        '+tcp' 'query over TCP' \
        '+notcp' 'query over TCP' \
        '+vc' 'query over TCP (virtual circuit)' \
        '+novc' 'query over TCP (virtual circuit)' \
        '+recurse' 'set the RD (recursion desired) flag' \
        '+norecurse' 'set the RD (recursion desired) flag' \
        '+dnssec' 'set the DO bit (DNSSEC OK)' \
        '+nodnssec' 'set the DO bit (DNSSEC OK)' \
        '+cdflag' 'set the CD (checking disabled) flag' \
        '+nocdflag' 'set the CD (checking disabled) flag' \
        '+adflag' 'set the AD (authentic data) flag' \
        '+noadflag' 'set the AD (authentic data) flag' \
        '+aaflag' 'set the AA flag in the query' \
        '+noaaflag' 'set the AA flag in the query' \
        '+bufsize=' 'EDNS UDP payload size (0-65535)' \
        '+edns' 'use EDNS, optionally with a version' \
        '+noedns' 'use EDNS, optionally with a version' \
        '+edns=' 'use EDNS, optionally with a version' \
        '+qr' 'show the query as it is sent' \
        '+noqr' 'show the query as it is sent' \
        '+short' 'show answer RDATA only' \
        '+noshort' 'show answer RDATA only' \
        '+timeout=' 'seconds to wait for a reply' \
        '+tries=' 'number of UDP tries' \
        '+retry=' 'number of UDP retries (tries - 1)' \
        '+ignore' 'do not retry over TCP when truncated' \
        '+noignore' 'do not retry over TCP when truncated' \
        '+comments' 'show comment lines' \
        '+nocomments' 'show comment lines' \
        '+question' 'show the question section' \
        '+noquestion' 'show the question section' \
        '+answer' 'show the answer section' \
        '+noanswer' 'show the answer section' \
        '+authority' 'show the authority section' \
        '+noauthority' 'show the authority section' \
        '+additional' 'show the additional section' \
        '+noadditional' 'show the additional section' \
        '+stats' 'show query time, server, when and size' \
        '+nostats' 'show query time, server, when and size' \
        '+cmd' 'show the banner line' \
        '+nocmd' 'show the banner line' \
        '+all' 'set or clear all display flags' \
        '+noall' 'set or clear all display flags' \
        '+cookie' 'send a client COOKIE, optionally a given one (hex)' \
        '+nocookie' 'send a client COOKIE, optionally a given one (hex)' \
        '+cookie=' 'send a client COOKIE, optionally a given one (hex)' \
        '+nsid' 'ask for the server\'s NSID' \
        '+nonsid' 'ask for the server\'s NSID' \
        '+subnet=' 'send CLIENT-SUBNET for ADDR[/LEN]' \
        '+expire' 'ask for the zone\'s EXPIRE timer' \
        '+noexpire' 'ask for the zone\'s EXPIRE timer' \
        '+keepalive' 'ask for the TCP KEEPALIVE timeout' \
        '+nokeepalive' 'ask for the TCP KEEPALIVE timeout' \
        '+padding=' 'pad queries to blocks of N bytes (RFC 8467; 0-512, as dig)' \
        '+ednsopt=' 'send EDNS option CODE[:HEX] (+noednsopt clears them)' \
        '+ednsflags=' 'set extra EDNS flag bits (decimal or 0x hex)' \
        '+zflag' 'set the reserved Z bit in the query header' \
        '+nozflag' 'set the reserved Z bit in the query header' \
        '+multiline' 'long records over several lines, with comments' \
        '+nomultiline' 'long records over several lines, with comments' \
        '+parallel=' 'run up to N lookups at once (output and trace stay in input order)' \
        '+idn' 'IDN: names typed in Unicode are sent as A-labels, A-labels shown in Unicode' \
        '+noidn' 'IDN: names typed in Unicode are sent as A-labels, A-labels shown in Unicode' \
        '+json' 'JSON output (same as --format json)' \
        '+nojson' 'JSON output (same as --format json)' \
        '+yaml' 'YAML output (same as --format yaml)' \
        '+noyaml' 'YAML output (same as --format yaml)' \
        '+ttlid' 'show the TTL column' \
        '+nottlid' 'show the TTL column' \
        '+class' 'show the class column' \
        '+noclass' 'show the class column' \
        '+crypto' 'show key and signature material' \
        '+nocrypto' 'show key and signature material' \
        '+rrcomments' 'show per-record comments (DNSKEY role, algorithm, key id)' \
        '+norrcomments' 'show per-record comments (DNSKEY role, algorithm, key id)' \
        '+split=' 'split base64/hex fields into chunks of W characters (0: never)' \
        '+unknownformat' 'print every RDATA in the RFC 3597 generic form' \
        '+nounknownformat' 'print every RDATA in the RFC 3597 generic form' \
        '+tls' 'query over DNS-over-TLS (port 853)' \
        '+notls' 'query over DNS-over-TLS (port 853)' \
        '+https' 'query over DNS-over-HTTPS (port 443), POST to the path' \
        '+nohttps' 'query over DNS-over-HTTPS (port 443), POST to the path' \
        '+https=' 'query over DNS-over-HTTPS (port 443), POST to the path' \
        '+https-get' 'DNS-over-HTTPS with GET, to the path' \
        '+nohttps-get' 'DNS-over-HTTPS with GET, to the path' \
        '+https-get=' 'DNS-over-HTTPS with GET, to the path' \
        '+https-post' 'DNS-over-HTTPS with POST (the default), to the path' \
        '+nohttps-post' 'DNS-over-HTTPS with POST (the default), to the path' \
        '+https-post=' 'DNS-over-HTTPS with POST (the default), to the path' \
        '+quic' 'query over DNS-over-QUIC (port 853)' \
        '+noquic' 'query over DNS-over-QUIC (port 853)' \
        '+tls-ca' 'verify against the system roots, or this CA file' \
        '+notls-ca' 'verify against the system roots, or this CA file' \
        '+tls-ca=' 'verify against the system roots, or this CA file' \
        '+tls-hostname=' 'the name the server certificate must carry' \
        '+tls-sni=' 'the name sent in TLS SNI' \
        '+tls-pin=' 'accept a server key with this SPKI SHA-256 pin (base64)' \
        '+tls-certfile=' 'client certificate chain (PEM)' \
        '+tls-keyfile=' 'client private key (PEM)' \
        '+tls-insecure' 'accept any server certificate (insecure)' \
        '+notls-insecure' 'accept any server certificate (insecure)' \
        '+tlsinfo' 'show TLS version, cipher, ALPN and the server key pin' \
        '+notlsinfo' 'show TLS version, cipher, ALPN and the server key pin' \
        '+keepopen' 'reuse one connection for all queries' \
        '+nokeepopen' 'reuse one connection for all queries' \
        '+proxy' 'send a PROXY v2 header (LOCAL without addresses; with --replay, the recorded client)' \
        '+noproxy' 'send a PROXY v2 header (LOCAL without addresses; with --replay, the recorded client)' \
        '+proxy=' 'send a PROXY v2 header (LOCAL without addresses; with --replay, the recorded client)' \
        '+proxy-plain' '+proxy, sent before the TLS handshake' \
        '+noproxy-plain' '+proxy, sent before the TLS handshake' \
        '+proxy-plain=' '+proxy, sent before the TLS handshake' \
        '+qid=' 'send this message ID instead of a random one' \
        '+header-only' 'send a query with a header and no question' \
        '+noheader-only' 'send a query with a header and no question' \
        '+opcode=' 'the query\'s OPCODE: QUERY, IQUERY, STATUS, NOTIFY, UPDATE or 0-15' \
        '+raflag' 'set the RA flag in the query' \
        '+noraflag' 'set the RA flag in the query' \
        '+tcflag' 'set the TC flag in the query' \
        '+notcflag' 'set the TC flag in the query' \
        '+ednsnegotiation' 'accepted for dig; qtap never renegotiates the EDNS version (no effect)' \
        '+noednsnegotiation' 'accepted for dig; qtap never renegotiates the EDNS version (no effect)' \
        '+fail' 'accepted for dig; qtap asks one server, so a SERVFAIL always ends the lookup' \
        '+nofail' 'accepted for dig; qtap asks one server, so a SERVFAIL always ends the lookup' \
        '+besteffort' 'accepted for dig; qtap always shows what it can of a malformed reply' \
        '+nobesteffort' 'accepted for dig; qtap always shows what it can of a malformed reply' \
        '+showbadcookie' 'accepted for dig; qtap does not retry after BADCOOKIE, so that reply is shown' \
        '+noshowbadcookie' 'accepted for dig; qtap does not retry after BADCOOKIE, so that reply is shown' \
        '+identify' 'with +short, show the server and query time after each answer; with +nostats, a ;; Received line instead of the statistics' \
        '+noidentify' 'with +short, show the server and query time after each answer; with +nostats, a ;; Received line instead of the statistics' \
        '+ttlunits' 'show TTLs in units (1h30m) rather than seconds' \
        '+nottlunits' 'show TTLs in units (1h30m) rather than seconds' \
        '+expandaaaa' 'show AAAA addresses with every digit' \
        '+noexpandaaaa' 'show AAAA addresses with every digit' \
        '+onesoa' 'in a full zone transfer (AXFR), show the opening SOA record only' \
        '+noonesoa' 'in a full zone transfer (AXFR), show the opening SOA record only' \
        '+trace' 'chase the delegation from the root, showing each step (with +dnssec)' \
        '+notrace' 'chase the delegation from the root, showing each step (with +dnssec)' \
        '+nssearch' 'find the zone\'s servers from the root and show the SOA record of each' \
        '+nonssearch' 'find the zone\'s servers from the root and show the SOA record of each' \
        '+hints=' '+trace, +nssearch: root hints file replacing the built-in root servers (no resolver asked)' \
        '+idnout' 'show A-labels in Unicode (+idn does this and more)' \
        '+noidnout' 'show A-labels in Unicode (+idn does this and more)'
end

# What the words before the cursor leave: start, name (a name without a
# type yet), typed, classed or read (--read: no lookups).
function __qtap_dig_state
    set -l state start
    set -l skip 0
    for word in (commandline -opc)[2..-1]
        if test $skip -eq 1
            set skip 0
            continue
        end
        switch $word
            case --read '--read=*'
                set state read
            case '--*=*'
            case '--*'
                contains -- $word --tls-ca --tls-hostname --tls-sni --tls-pin --tls-certfile --tls-keyfile --tap --tap-type --tap-identity --read --timeout --tries --format --color --generate --qname --qname-regex --qtype --rcode --msg-type --addr --port --proto --since --until --slower-than --identity --write --scrub-key --replay --rate --speed --mismatches --replay-edns --top --hex --wire --max-frame-size --rotate-size --rotate-interval --rotate-keep --socket-mode --socket-owner --collector-buffer --max-connections; and set skip 1
            case -p -t -c -f -y -k
                set skip 1
            case -x
                set skip 1
                test $state != read; and set state typed
            case -q
                set skip 1
                test $state != read; and set state name
            case '-x?*'
                test $state != read; and set state typed
            case '-q?*'
                test $state != read; and set state name
            case '-*' '+*' '@*'
            case '*'
                test $state = read; and continue
                set -l up (string upper -- $word)
                if test $state = name; and begin; contains -- $up $__qtap_types; or string match -qr '^TYPE[0-9]+$' -- $up; end
                    set state typed
                else if contains -- $state name typed; and begin; contains -- $up $__qtap_classes; or string match -qr '^CLASS[0-9]+$' -- $up; end
                    set state classed
                else
                    set state name
                end
        end
    end
    echo $state
end

function __qtap_dig_word
    set -l cur (commandline -ct)
    not string match -q -- '-*' $cur; and not string match -q -- '+*' $cur; and not string match -q -- '@*' $cur
end

complete -c qtap -f -n 'string match -q -- "+*" (commandline -ct)' -a '(__qtap_plus_options)'
complete -c qtap -s p -d 'Server port' -x
complete -c qtap -s 4 -d 'Use only IPv4'
complete -c qtap -s 6 -d 'Use only IPv6'
complete -c qtap -s t -d 'Record type' -x -a "$__qtap_types"
complete -c qtap -s c -d 'Class' -x -a "$__qtap_classes"
complete -c qtap -s x -d 'Reverse lookup of an address' -x
complete -c qtap -s q -d 'Name to look up' -x
complete -c qtap -s f -d 'Batch file: one lookup per line' -r -F
complete -c qtap -s y -d 'TSIG key: [alg:]name:secret' -x
complete -c qtap -s k -d 'TSIG key file' -r -F
complete -c qtap -f -n '__qtap_dig_word; and test (__qtap_dig_state) = name' -a "$__qtap_types" -d 'record type'
complete -c qtap -f -n '__qtap_dig_word; and contains -- (__qtap_dig_state) name typed' -a "$__qtap_classes" -d 'class'
