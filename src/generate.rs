//! `qtap --generate man|bash|zsh|fish`: the man page and shell completion
//! scripts, built from the same clap definition and `+option` table the
//! parser uses, so they cannot drift. The committed copies in `man/` and
//! `completions/` are checked against this output by a test.

use std::io::Write;

use clap::CommandFactory;
use roff::{bold, italic, roman, Roff};

use crate::cli::{Cli, Generate, PlusKind, PLUS_OPTIONS};

/// Writes the requested file to `out`.
pub fn generate(what: Generate, out: &mut dyn Write) -> std::io::Result<()> {
    let mut cmd = Cli::command();
    match what {
        Generate::Man => man_page(cmd, out),
        Generate::Bash => {
            clap_complete::generate(clap_complete::Shell::Bash, &mut cmd, "qtap", out);
            Ok(())
        }
        Generate::Zsh => {
            clap_complete::generate(clap_complete::Shell::Zsh, &mut cmd, "qtap", out);
            Ok(())
        }
        Generate::Fish => {
            clap_complete::generate(clap_complete::Shell::Fish, &mut cmd, "qtap", out);
            Ok(())
        }
    }
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

fn tagged(roff: &mut Roff, tag: &str, text: &str) {
    roff.control("TP", []);
    roff.text([bold(tag)]);
    roff.text([roman(text)]);
}

fn man_page(cmd: clap::Command, out: &mut dyn Write) -> std::io::Result<()> {
    let man = clap_mangen::Man::new(cmd).date("2026-11-22");
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    let mut roff = Roff::new();
    section(
        &mut roff,
        "DESCRIPTION",
        &[
            "qtap sends DNS queries and prints the answers in dig's text layout. With --tap it records every \
             message it sends and receives as a dnstap trace (a Frame Streams file with content type \
             protobuf:dnstap.Dnstap). With --read it renders any dnstap file, written by qtap, Knot, Unbound, \
             BIND or kdig, in the same layout; the live output and the --read output of the same trace are \
             identical.",
            "Words are read as dig reads them: @server names the server, a word that is a record type or class \
             sets the type or class of the current lookup, any other word starts a new lookup. Options \
             starting with + are dig's query and display options; those before the first name apply to every \
             lookup, those after a name to that lookup only. Display options apply to the whole run.",
        ],
    );
    roff.control("SH", ["DIG OPTIONS"]);
    for (name, kind, help) in PLUS_OPTIONS {
        let tag = match kind {
            PlusKind::Flag => format!("+[no]{name}"),
            PlusKind::Value => format!("+{name}=VALUE"),
            PlusKind::FlagOrValue => format!("+[no]{name}[=VALUE]"),
        };
        tagged(&mut roff, &tag, help);
    }
    tagged(&mut roff, "-p PORT", "server port (53)");
    tagged(&mut roff, "-4, -6", "use only IPv4 or IPv6 servers");
    tagged(&mut roff, "-t TYPE", "record type (mnemonic or TYPEnnn)");
    tagged(&mut roff, "-c CLASS", "class: IN, CH, HS or CLASSnnn");
    tagged(
        &mut roff,
        "-x ADDR",
        "reverse lookup of an IPv4 or IPv6 address",
    );
    tagged(
        &mut roff,
        "-q NAME",
        "query this name, even if it looks like a type",
    );
    roff.to_writer(out)?;
    man.render_options_section(out)?;
    let mut roff = Roff::new();
    section(
        &mut roff,
        "TRACE FILES",
        &[
            "Each message qtap sends is recorded as a STUB_QUERY frame, each response it accepts as a \
             STUB_RESPONSE frame (TOOL_QUERY/TOOL_RESPONSE with --tap-type tool). A frame holds the socket \
             family and protocol, the local address and port, the server's address and port, wall-clock times \
             in nanoseconds and the verbatim DNS message; response frames also hold the query and its time. \
             Dnstap.version is \"qtap VERSION\"; Dnstap.identity is set only with --tap-identity.",
            "The trace is written to a temporary file beside the target and renamed into place when complete, \
             so an existing file is never half overwritten. It ends with a STOP frame even after a timeout, an \
             error, SIGINT or SIGTERM.",
            "Privacy: a trace contains your resolver's and your own addresses, the names you looked up and the \
             answers. Review it before attaching it to a public bug report.",
        ],
    );
    section(
        &mut roff,
        "EXAMPLES",
        &[
            "qtap example.com AAAA",
            "qtap @192.0.2.53 -p 5353 example.com MX +tcp --tap trace.fstrm",
            "qtap --read trace.fstrm +qr",
            "qtap --read /var/log/knot/dnstap.fstrm +short",
        ],
    );
    roff.control("SH", ["EXIT STATUS"]);
    for (code, text) in [
        (
            "0",
            "a response was received (NXDOMAIN included); --read rendered everything",
        ),
        ("1", "usage error"),
        (
            "8",
            "a --read input could not be opened or was damaged: data was lost",
        ),
        ("9", "no reply from the server"),
        (
            "10",
            "internal error, such as a trace that cannot be written",
        ),
        (
            "130, 143",
            "interrupted by SIGINT or SIGTERM; the trace is complete",
        ),
    ] {
        tagged(&mut roff, code, text);
    }
    section(
        &mut roff,
        "ENVIRONMENT",
        &["NO_COLOR: when set and not empty, --color=auto gives plain output. TZ: the time zone of WHEN lines."],
    );
    section(
        &mut roff,
        "FILES",
        &["/etc/resolv.conf: the default server is its first nameserver."],
    );
    roff.control("SH", ["SEE ALSO"]);
    roff.text([
        italic("dig"),
        roman("(1), "),
        italic("kdig"),
        roman("(1), "),
        italic("dnstap-read"),
        roman("(1), "),
        italic("fstrm_dump"),
        roman("(1)"),
    ]);
    roff.to_writer(out)
}
