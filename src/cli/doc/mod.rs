//! How the command line is presented outside the parser: the help footers
//! (`-h`, `--help`) here, the man page (`man`) and the shell completion
//! scripts (`complete`) that `qtap --generate man|bash|zsh|fish` writes.
//! Everything is built from the clap definition and the `+option` table
//! the parser itself uses ([`TABLE`]) and from the record type table of
//! `dns::types`, so none of them can drift from what qtap accepts. The
//! committed copies in `man/` and `completions/` are checked against this
//! output by a test.
//!
//! This module parses nothing and decides nothing about a run; it only
//! writes text to the writer it is given.

mod complete;
mod man;

use std::io::Write;

use super::plus::{PlusKind, PlusOption, TABLE};
use super::Generate;
use crate::dns::types;
use crate::exit as exits;

/// Writes the requested file to `out`.
pub fn generate(what: Generate, out: &mut dyn Write) -> std::io::Result<()> {
    match what {
        Generate::Man => man::man_page(out),
        Generate::Bash => out.write_all(complete::bash_completion().as_bytes()),
        Generate::Zsh => out.write_all(complete::zsh_completion()?.as_bytes()),
        Generate::Fish => out.write_all(complete::fish_completion().as_bytes()),
    }
}

/// dig's words and single-dash flags (the parser's classifier, not clap,
/// reads them), documented once for `--help` and the man page.
pub const DIG_ARGUMENTS: &[(&str, &str)] = &[
    (
        "@SERVER",
        "the server to ask: an address or a host name, with an optional port as host#port, \
         host:port, [v6addr]:port or [v6addr]#port; or a URL udp://, tcp://, tls://, \
         quic://host[:port] or https://host[:port][/path], whose scheme picks the transport \
         (an IPv6 zone as RFC 6874 writes it: [fe80::1%25eth0]; default: the first nameserver \
         of /etc/resolv.conf)",
    ),
    (
        "NAME",
        "a name to look up; each name starts a new lookup (no name: the root zone's NS)",
    ),
    (
        "TYPE",
        "the record type of the lookup: a mnemonic (A, AAAA, MX, ...) or TYPEnnn (default A)",
    ),
    (
        "CLASS",
        "the class of the lookup: IN, CH, HS, NONE, ANY or CLASSnnn (default IN)",
    ),
    (
        "-p PORT",
        "the server port (default 53; 853 for TLS and QUIC, 443 for HTTPS); when the server \
         names a port too, the later of the two wins, as in kdig",
    ),
    ("-4, -6", "use only IPv4 or only IPv6"),
    ("-t TYPE", "the record type, even where a name is expected"),
    ("-c CLASS", "the class, even where a name is expected"),
    (
        "-x ADDR",
        "reverse lookup: the PTR record of an IPv4 or IPv6 address (or of the first 1-3 octets of an IPv4 address: its reverse zone)",
    ),
    (
        "-q NAME",
        "look up NAME, even if it looks like a type or class",
    ),
    (
        "-f FILE",
        "batch mode: one lookup per line of FILE, with the command line's options",
    ),
    (
        "-y [ALG:]NAME:SECRET",
        "sign every query with this TSIG key (RFC 8945; ALG hmac-md5, hmac-sha1, hmac-sha224, \
         hmac-sha256 (the default), hmac-sha384 or hmac-sha512, or ALG-BITS for a truncated MAC; \
         SECRET in base64) and verify the answers, every message of a zone transfer included; \
         the secret is visible to other users in the process list: prefer -k",
    ),
    (
        "-k FILE",
        "the TSIG key from FILE: a BIND key statement (tsig-keygen, ddns-confgen), a Knot \
         key: section (keymgr -t) or kdig's one line [ALG:]NAME:SECRET",
    ),
];

/// The exit status table, shown by `--help` and the man page.
pub const EXIT_STATUS: &[(u8, &str)] = &[
    (
        exits::OK,
        "a response was received (NXDOMAIN included); --read rendered everything",
    ),
    (
        exits::USAGE,
        "usage error (also a bad server, or a TLS file that cannot be read or is over 4 MiB)",
    ),
    (
        exits::DATA_LOST,
        "a --read input could not be opened or was damaged, or a collector refused or lost \
         frames: some data was lost",
    ),
    (exits::NO_REPLY, "no reply from the server"),
    (
        exits::INTERNAL,
        "internal error, such as a trace that cannot be written or a socket that cannot be \
         listened on",
    ),
    (
        exits::COLLECTOR,
        "--tap unix:/tcp:: the collector is absent or refuses dnstap (before any query is \
         sent), or frames could not be delivered to it",
    ),
    (
        exits::REPLAY_DIFFERS,
        "--replay: some new response differs from the recorded one, or no new response came \
         (as diff's 1); 0 when every response is the same",
    ),
    (
        exits::SIGHUP,
        "interrupted by SIGHUP (closed terminal); the trace is still complete",
    ),
    (
        exits::SIGINT,
        "interrupted by SIGINT; the trace is still complete",
    ),
    (
        exits::SIGQUIT,
        "interrupted by SIGQUIT; the trace is still complete",
    ),
    (
        exits::SIGTERM,
        "interrupted by SIGTERM; the trace is still complete",
    ),
];

/// Environment variables qtap reads.
pub const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "NO_COLOR",
        "when set and not empty, --color=auto gives plain output",
    ),
    ("TERM", "when \"dumb\", --color=auto gives plain output"),
    ("TZ", "the time zone of the ;; WHEN: lines, as for dig"),
];

/// Examples shown by `-h`, `--help` and the man page: (command, what it does).
pub(super) const EXAMPLES: &[(&str, &str)] = &[
    (
        "qtap example.com AAAA",
        "ask the resolver of /etc/resolv.conf",
    ),
    (
        "qtap @9.9.9.9 example.com MX +tls",
        "the same over DNS-over-TLS",
    ),
    (
        "qtap example.com --tap trace.fstrm",
        "also record a dnstap trace",
    ),
    (
        "qtap --read trace.fstrm +qr",
        "show a trace again, with the queries",
    ),
];

/// The `+options` `-h` shows, grouped; `--help` shows all of them.
pub(super) const COMMON_PLUS: &[(&str, &str)] = &[
    ("+tcp  +tls  +https  +quic", "transport"),
    ("+norec  +dnssec  +nsid  +nocookie", "query flags"),
    ("+short  +qr  +noall +answer", "display"),
    ("+timeout=SECS  +tries=N", "waiting"),
];

/// How an entry of [`TABLE`] is written in help texts:
/// `+[no]tcp`, `+bufsize=N`, `+[no]cookie[=HEX]`.
pub fn plus_form(option: &PlusOption) -> String {
    let (name, value) = (option.name, option.value_name);
    match option.kind {
        PlusKind::Flag => format!("+[no]{name}"),
        PlusKind::Value => format!("+{name}={value}"),
        PlusKind::FlagOrValue => format!("+[no]{name}[={value}]"),
    }
}

/// Help lines are wrapped here, with a hanging indent, to fit 80 columns,
/// so that clap (which re-wraps only lines wider than the terminal) leaves
/// the columns alone.
pub(super) const HELP_WIDTH: usize = 80;

/// Appends `  left  text` with `text` starting at column `col`, wrapped;
/// a `left` too wide for its column gets a line of its own.
pub(super) fn help_row(s: &mut String, col: usize, left: &str, text: &str) {
    let mut line = format!("  {left:<width$}", width = col.saturating_sub(2));
    if 2 + left.chars().count() >= col {
        s.push_str(line.trim_end());
        s.push('\n');
        line = " ".repeat(col);
    }
    let mut first = true;
    for word in text.split_whitespace() {
        if !first && line.len() + 1 + word.len() > HELP_WIDTH {
            s.push_str(line.trim_end());
            s.push('\n');
            line = " ".repeat(col);
            first = true;
        }
        if !first {
            line.push(' ');
        }
        line.push_str(word);
        first = false;
    }
    s.push_str(line.trim_end());
    s.push('\n');
}

/// The text clap prints after the options: for `-h` (`long == false`) the
/// dig words, the common `+options` and examples; for `--help` every
/// `+option` of [`PLUS_OPTIONS`], the dig words, exit status and
/// environment.
pub fn help_footer(long: bool) -> String {
    let mut s = String::new();
    if !long {
        s.push_str("dig-style arguments:\n");
        // One line of the words, wrapped between words (never inside one).
        let mut line = String::from(" ");
        for (word, _) in DIG_ARGUMENTS {
            let word = word.replace(',', "");
            if line.len() + 1 + word.len() > HELP_WIDTH {
                s.push_str(&line);
                s.push('\n');
                line = String::from(" ");
            }
            line.push(' ');
            line.push_str(&word);
        }
        s.push_str(&line);
        s.push_str("\n\nCommon +options (+noNAME turns one off):\n");
        for (words, what) in COMMON_PLUS {
            help_row(&mut s, 38, words, what);
        }
        s.push_str("\nExamples:\n");
        for (cmd, what) in EXAMPLES {
            help_row(&mut s, 38, cmd, what);
        }
        s.push_str("\n'qtap --help' lists every option and +option; 'man qtap' is the manual.");
        return s;
    }
    s.push_str("dig-style arguments:\n");
    for (word, what) in DIG_ARGUMENTS {
        help_row(&mut s, 26, word, what);
    }
    s.push_str(
        "\n+options: before the first name they apply to every lookup, after a name to\n\
         that lookup only; display options apply to the whole run.\n",
    );
    for option in TABLE {
        help_row(&mut s, 26, &plus_form(option), option.help);
    }
    s.push_str("\nExit status:\n");
    for (code, what) in EXIT_STATUS {
        help_row(&mut s, 7, &code.to_string(), what);
    }
    s.push_str("\nEnvironment:\n");
    for (var, what) in ENVIRONMENT {
        help_row(&mut s, 12, var, what);
    }
    s.push_str("\nExamples:\n");
    for (cmd, what) in EXAMPLES {
        help_row(&mut s, 38, cmd, what);
    }
    s.push_str("\nThe manual, with what a trace holds and how to share one: man qtap");
    s
}

/// The words completed for a `+`: `+name` and `+noname` for options that
/// can be switched off, `+name=` for those that take a value.
pub fn plus_completions() -> Vec<(String, &'static str)> {
    let mut words = Vec::new();
    for PlusOption {
        name, kind, help, ..
    } in TABLE
    {
        if *kind != PlusKind::Value {
            words.push((format!("+{name}"), *help));
            words.push((format!("+no{name}"), *help));
        }
        if *kind != PlusKind::Flag {
            words.push((format!("+{name}="), *help));
        }
    }
    words
}

/// Every record type mnemonic qtap knows, in type number order.
pub fn type_mnemonics() -> Vec<&'static str> {
    (0..=u16::MAX).filter_map(types::known_type_name).collect()
}

/// The class mnemonics qtap accepts after a name.
pub fn class_mnemonics() -> Vec<String> {
    [
        types::CLASS_IN,
        types::CLASS_CH,
        types::CLASS_HS,
        types::CLASS_NONE,
        types::CLASS_ANY,
    ]
    .iter()
    .map(|c| types::class_name(*c).into_owned())
    .collect()
}

#[cfg(test)]
mod tests {
    use super::complete::*;
    use super::man::*;
    use super::*;
    use roff::Roff;

    fn text(what: Generate) -> String {
        let mut out = Vec::new();
        generate(what, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn plus_completions_follow_the_option_kinds() {
        let words: Vec<String> = plus_completions().into_iter().map(|(w, _)| w).collect();
        for PlusOption { name, kind, .. } in TABLE {
            let flag = words.contains(&format!("+{name}"));
            let off = words.contains(&format!("+no{name}"));
            let value = words.contains(&format!("+{name}="));
            match kind {
                PlusKind::Flag => assert!(flag && off && !value, "{name}"),
                PlusKind::Value => assert!(!flag && !off && value, "{name}"),
                PlusKind::FlagOrValue => assert!(flag && off && value, "{name}"),
            }
        }
        // Every completed word, with a value where one is needed, parses.
        for word in words {
            let typed = if word.ends_with('=') {
                let name = word.trim_start_matches('+').trim_end_matches('=');
                let option = TABLE.iter().find(|o| o.name == name).unwrap();
                let value = match option.value_name {
                    "BASE64" => "J179J8409BniOQf6zIqeJzU7i2Y91yPAa5AvbwNoE94=",
                    "HEX" => "0102030405060708",
                    "PATH" => "/dns-query",
                    "FILE" | "NAME" => "x",
                    "ADDR/LEN" => "192.0.2.0/24",
                    "CODE:HEX" => "65001:abcd",
                    "SRC[#PORT]-DST[#PORT]" => "192.0.2.1#5353-127.0.0.1",
                    _ => "1",
                };
                format!("{word}{value}")
            } else {
                word
            };
            assert!(crate::cli::parse(["qtap", &typed]).is_ok(), "{typed}");
        }
    }

    #[test]
    fn a_help_tag_wider_than_its_column_gets_a_line_of_its_own() {
        let mut s = String::new();
        help_row(&mut s, 10, "+short", "fits");
        help_row(&mut s, 10, "+too-wide", "next line");
        assert_eq!(s, "  +short  fits\n  +too-wide\n          next line\n");
    }

    #[test]
    fn type_list_is_what_the_parser_accepts() {
        let names = type_mnemonics();
        for name in ["A", "AAAA", "MX", "TXT", "SVCB", "HTTPS", "ANY", "AXFR"] {
            assert!(names.contains(&name), "{name}");
        }
        for name in &names {
            assert!(types::parse_type(name).is_some(), "{name}");
        }
        for name in class_mnemonics() {
            assert!(types::parse_class(&name).is_some(), "{name}");
        }
        assert_eq!(class_mnemonics(), ["IN", "CH", "HS", "NONE", "ANY"]);
    }

    #[test]
    fn long_options_with_a_separate_value_come_from_clap() {
        let long = long_options_with_value();
        for name in ["--tap", "--read", "--tls-ca", "--timeout", "--color"] {
            assert!(long.iter().any(|l| l == name), "{name}");
        }
        for name in ["--tcp", "--https", "--help"] {
            assert!(!long.iter().any(|l| l == name), "{name}");
        }
    }

    #[test]
    fn man_page_documents_every_option() {
        let man = text(Generate::Man);
        for heading in [
            "NAME",
            "SYNOPSIS",
            "DESCRIPTION",
            "\"DIG OPTIONS\"",
            "\"TRACE FILES\"",
            "EXAMPLES",
            "\"EXIT STATUS\"",
            "ENVIRONMENT",
            "\"SEE ALSO\"",
        ] {
            assert!(man.contains(&format!(".SH {heading}\n")), "{heading}");
        }
        for PlusOption { name, help, .. } in TABLE {
            let escaped = name.replace('-', "\\-");
            assert!(man.contains(&format!("\\fB{escaped}\\fR")), "+{name}");
            let help = help.replace('-', "\\-").replace('\'', "\\*(Aq");
            assert!(man.contains(&help), "+{name}");
        }
        for arg in crate::cli::command().get_arguments() {
            if let (Some(long), false) = (arg.get_long(), arg.is_hide_set()) {
                let flag = format!("\\-\\-{}", long.replace('-', "\\-"));
                assert!(man.matches(&flag).count() >= 2, "--{long}");
            }
        }
        assert!(!man.contains("--generate") && !man.contains("\\-\\-generate"));
        assert!(man.contains("NO_COLOR"));
        assert!(man.contains("\\-\\-format json"), "JSON example");
    }

    #[test]
    fn markup_splits_bold_italic_and_plain() {
        let mut roff = Roff::new();
        roff.text(markup("*qtap* [*@*<server>] x"));
        assert_eq!(roff.to_roff(), "\\fBqtap\\fR [\\fB@\\fR\\fIserver\\fR] x\n");
    }

    #[test]
    fn bash_script_wraps_clap_and_fills_every_list() {
        let bash = text(Generate::Bash);
        assert!(bash.contains("_qtap() {"));
        assert!(bash.contains("complete -F _qtap_dig"));
        for key in ["@PLUS@", "@TYPES@", "@CLASSES@", "@LONGVAL@"] {
            assert!(!bash.contains(key), "{key}");
        }
        assert!(bash.contains("_qtap_plus='+tcp +notcp +vc +novc "));
        assert!(bash.contains(" AAAA "));
    }

    #[test]
    fn zsh_script_renames_clap_function_and_autoloads_the_dig_one() {
        let zsh = text(Generate::Zsh);
        assert!(zsh.starts_with("#compdef qtap\n"));
        // One `_qtap`, ours, defined after clap's `_qtap_clap`, which it calls.
        assert_eq!(zsh.matches("\n_qtap() {").count(), 1);
        let clap_at = zsh.find("\n_qtap_clap() {").unwrap();
        let ours_at = zsh.find("\n_qtap() {").unwrap();
        assert!(clap_at < ours_at);
        assert!(zsh.contains("    _qtap_clap \"$@\"\n"));
        assert!(zsh.contains("compdef _qtap qtap"));
        assert!(zsh.contains("'+tcp:query over TCP'"));
        assert!(zsh.contains("'+nsid:ask for the server'\\''s NSID'"));
    }

    #[test]
    fn help_rows_wrap_with_a_hanging_indent() {
        let mut s = String::new();
        help_row(&mut s, 10, "+x", &"word ".repeat(30));
        let lines: Vec<&str> = s.lines().collect();
        assert!(lines.len() > 1);
        assert!(lines[0].starts_with("  +x      word"));
        for line in &lines[1..] {
            assert!(line.starts_with("          word"), "{line:?}");
        }
        for footer in [help_footer(false), help_footer(true)] {
            for line in footer.lines() {
                assert!(line.len() <= HELP_WIDTH, "{line:?}");
            }
        }
    }

    #[test]
    fn help_footers_show_valid_options() {
        let shown = COMMON_PLUS
            .iter()
            .chain(EXAMPLES)
            .flat_map(|(words, _)| words.split_whitespace());
        for word in shown {
            if let Some(opt) = word.strip_prefix('+') {
                let typed = match opt.split_once('=') {
                    Some((name, _)) => format!("+{name}=1"),
                    None => format!("+{opt}"),
                };
                assert!(crate::cli::parse(["qtap", &typed]).is_ok(), "{typed}");
            }
        }
        let long = help_footer(true);
        for option in TABLE {
            assert!(long.contains(&plus_form(option)), "{}", option.name);
        }
    }
}
