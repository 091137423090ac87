//! The command line: GNU long options through clap (`gnu`), and dig's own
//! language through a small classifier (`words`: `@server`, `-p`, `-t`,
//! free names, types and classes) and one `+option` table (`plus`). `doc`
//! builds `--help`, the man page and the completion scripts from the same
//! definitions. Pure: no environment, no I/O. The top layer: nothing below
//! it (query, render, tap, dns, pair) imports it.
//!
//! Stage one of two (as ripgrep does it): [`parse`] only splits and checks
//! the words; `config` then turns them into a validated plan, reading
//! /etc/resolv.conf and the terminal where needed.

pub mod doc;
mod gnu;
pub mod plus;
mod words;

use std::ffi::OsString;
use std::path::PathBuf;

pub use self::gnu::{Cli, ColorChoice, Generate};
pub use self::words::parse_batch_line;
use crate::query::spec::QueryOpts;

/// The lookup types, re-exported for the orchestration code that names
/// them through `cli` (the types belong to `query::spec`).
pub use crate::query::spec::{QuerySpec, DEFAULT_DOH_PATH};

/// A usage error: the message names the offending word.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CliError {
    /// `--help` or `--version`: not an error; the text is to be printed.
    #[error("{0}")]
    Help(String),
    /// clap rejected a long option (its text is kept, already formatted).
    #[error("{0}")]
    Clap(String),
    /// A `+option` qtap does not know (or a prefix of several).
    #[error("invalid option: {0}")]
    UnknownOption(String),
    /// A `+option` of dig's that qtap does not have.
    #[error("option {0} is not supported by qtap")]
    NotSupported(String),
    /// A `+option` with a bad or missing value.
    #[error("bad value for {option}: {reason}")]
    BadValue {
        /// The option as typed.
        option: String,
        /// What is wrong.
        reason: String,
    },
    /// A `-x` flag with a flag that needs an argument but has none.
    #[error("option {0} needs an argument")]
    MissingArgument(String),
    /// An unknown `-x` flag.
    #[error("invalid flag: {0}")]
    UnknownFlag(String),
    /// A type after -t that is not a type.
    #[error("invalid type: {0}")]
    BadType(String),
    /// A class after -c that is not a class.
    #[error("invalid class: {0}")]
    BadClass(String),
    /// A name that is not a valid domain name.
    #[error("invalid name {name:?}: {reason}")]
    BadName {
        /// The name as typed.
        name: String,
        /// Why.
        reason: String,
    },
    /// -p with something that is not a port.
    #[error("invalid port: {0}")]
    BadPort(String),
    /// A batch-file line that names a server or port.
    #[error("batch line {0:?}: @server, -p, -4, -6, -y and -k belong on the command line")]
    BatchServer(String),
    /// A query word or `--tap` together with `--read`.
    #[error("{0} cannot be used with --read (it renders files; only +options apply)")]
    ReadConflict(String),
    /// A dig word that is not valid UTF-8 (shown with U+FFFD for the bad bytes).
    #[error("argument {0:?} is not valid UTF-8")]
    NotUtf8(String),
    /// -x with something that is not an address.
    #[error("invalid address for -x: {0}")]
    BadAddress(String),
}

/// Everything on the command line, checked but not yet interpreted
/// against the environment.
#[derive(Clone, Debug, Default)]
pub struct Args {
    /// The GNU options.
    pub cli: Cli,
    /// `@server` as typed.
    pub server: Option<String>,
    /// `-p`.
    pub port: Option<u16>,
    /// True when `@server` came after the last `-p`: a port in the server
    /// text (`@host#port`) then wins over `-p`, as in kdig.
    pub server_after_port: bool,
    /// `-4` (Some(4)) or `-6` (Some(6)).
    pub family: Option<u8>,
    /// The lookups, in order (empty: the root NS query is implied).
    pub queries: Vec<QuerySpec>,
    /// Options that apply to the implied query when no name was given.
    pub default_opts: QueryOpts,
    /// Display settings.
    pub display: crate::render::DisplayOpts,
    /// `-f FILE`: a batch file of lookups, one per line.
    pub batch: Option<PathBuf>,
    /// No name was given: the root NS query was implied.
    pub implied_root: bool,
    /// `-y` or `-k` (the last one given): the TSIG key for every lookup.
    pub tsig: Option<TsigArg>,
    /// The `+options` given that change only how lookups are made
    /// (transport, EDNS, flags, retries...), not what is shown, as typed:
    /// `--read`, `--hex` and `--wire` warn that they do nothing there.
    pub lookup_only: Vec<String>,
}

/// Where the TSIG key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TsigArg {
    /// `-y [alg:]name:secret`, already parsed.
    Key(crate::dns::tsig::Key),
    /// `-k FILE`: read (size-bounded) and parsed by [`crate::config`].
    File(PathBuf),
}

/// The clap command with the help footers: `-h` lists the dig words and
/// the common `+options`, `--help` every one of [`plus::TABLE`] (see
/// [`doc::help_footer`]).
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
        .after_help(doc::help_footer(false))
        .after_long_help(doc::help_footer(true))
}

/// Splits argv into the words for clap and the dig words, then parses both.
/// `argv` includes the program name.
pub fn parse<I, T>(argv: I) -> Result<Args, CliError>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString>,
{
    let base = <Cli as clap::CommandFactory>::command();
    let with_value = gnu::long_options_with_value(&base);
    let (gnu, dig) = split_argv(argv.into_iter().map(Into::into).collect(), &with_value)?;
    // The help footers (every +option) are only built when help is asked
    // for: they were a quarter of qtap's own start-up work.
    let wants_help = gnu.iter().skip(1).any(|a| a == "-h" || a == "--help");
    let cmd = if wants_help {
        base.after_help(doc::help_footer(false))
            .after_long_help(doc::help_footer(true))
    } else {
        base
    };
    let parsed = cmd
        .try_get_matches_from(&gnu)
        .and_then(|m| <Cli as clap::FromArgMatches>::from_arg_matches(&m));
    let cli = parsed.map_err(|e| match e.kind() {
        clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
            CliError::Help(e.to_string())
        }
        _ => {
            // clap's message is several lines; keep the one that names the problem.
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("bad option");
            CliError::Clap(first.trim_start_matches("error: ").to_owned())
        }
    })?;
    let mut args = Args {
        cli,
        ..Args::default()
    };
    let dig = words::idn_to_ascii(dig)?;
    words::parse_dig_words(&mut args, &dig)?;
    if !args.cli.read.is_empty() {
        // --read renders files: query words would be silently ignored.
        let query_word = dig.iter().find(|w| !w.starts_with('+'));
        if let Some(word) = query_word {
            return Err(CliError::ReadConflict(word.clone()));
        }
        if args.cli.tap.is_some() {
            return Err(CliError::ReadConflict("--tap".into()));
        }
    }
    Ok(args)
}

/// Sorts the words: GNU long options (with their values, and the files
/// after `--read`) go to clap as they are, so a file name that is not
/// UTF-8 reaches the file system unchanged; dig's words must be UTF-8.
fn split_argv(
    argv: Vec<OsString>,
    with_value: &[String],
) -> Result<(Vec<OsString>, Vec<String>), CliError> {
    let mut argv = argv.into_iter();
    let mut gnu = vec![argv.next().unwrap_or_else(|| "qtap".into())];
    let mut dig = Vec::new();
    let mut in_read = false;
    while let Some(os) = argv.next() {
        let word = os.to_string_lossy();
        if word.starts_with("--") {
            in_read = word == "--read"
                || word.starts_with("--read=")
                || word == "--hex"
                || word.starts_with("--hex=");
            let takes_value = with_value.iter().any(|w| *w == word);
            gnu.push(os);
            if takes_value {
                if let Some(v) = argv.next() {
                    gnu.push(v);
                }
            }
        } else if word == "-h" || word == "-V" {
            gnu.push(os);
        } else if in_read && !word.starts_with('+') && (!word.starts_with('-') || word == "-") {
            // Further files after --read FILE (messages after --hex HEX);
            // a lone `-` is stdin there too.
            gnu.push(os);
        } else {
            in_read = false;
            let text = os
                .into_string()
                .map_err(|os| CliError::NotUtf8(os.to_string_lossy().into_owned()))?;
            dig.push(text);
        }
    }
    Ok((gnu, dig))
}

/// Adds the lookups of a batch file's lines (numbered, as
/// [`crate::config::read_batch`] gives them) to `args`. Without names on
/// the command line, the batch replaces the implied root query. A bad line
/// is returned with its number.
pub fn add_batch(args: &mut Args, lines: &[(usize, String)]) -> Result<(), (usize, CliError)> {
    let mut queries = Vec::new();
    for (n, line) in lines {
        queries.extend(parse_batch_line(args, line).map_err(|e| (*n, e))?);
    }
    if args.implied_root {
        args.queries.clear();
    }
    args.queries.extend(queries);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::plus::{edit_distance, nearest_plus_option, TABLE};
    use super::*;
    use crate::dns::name::Name;
    use crate::dns::types;
    use crate::query::spec::Transport;

    fn p(words: &[&str]) -> Args {
        let mut argv = vec!["qtap"];
        argv.extend_from_slice(words);
        parse(argv).unwrap()
    }

    fn perr(words: &[&str]) -> CliError {
        let mut argv = vec!["qtap"];
        argv.extend_from_slice(words);
        parse(argv).unwrap_err()
    }

    #[test]
    fn name_type_class_and_server() {
        let a = p(&["@192.0.2.53", "example.com", "AAAA", "CH"]);
        assert_eq!(a.server.as_deref(), Some("192.0.2.53"));
        assert_eq!(a.queries.len(), 1);
        let q = &a.queries[0];
        assert_eq!(q.name.to_string(), "example.com.");
        assert_eq!(q.qtype, types::AAAA);
        assert_eq!(q.qclass, types::CH);
    }

    #[test]
    fn several_queries_in_one_run() {
        let a = p(&["a.example", "A", "b.example", "MX", "c.example"]);
        let got: Vec<(String, u16)> = a
            .queries
            .iter()
            .map(|q| (q.name.to_string(), q.qtype))
            .collect();
        assert_eq!(
            got,
            [
                ("a.example.".into(), types::A),
                ("b.example.".into(), types::MX),
                ("c.example.".into(), types::A)
            ]
        );
    }

    #[test]
    fn dash_flags() {
        let a = p(&["-p", "5353", "-t", "TXT", "-c", "IN", "-q", "mx", "-6"]);
        assert_eq!(a.port, Some(5353));
        assert_eq!(a.family, Some(6));
        assert_eq!(a.queries[0].name.to_string(), "mx.");
        assert_eq!(a.queries[0].qtype, types::TXT);
        let a = p(&["example.com", "-tMX", "-p53"]);
        assert_eq!(a.queries[0].qtype, types::MX);
        assert_eq!(a.port, Some(53));
        let a = p(&["-t", "TYPE65400", "x.example"]);
        assert_eq!(a.queries[0].qtype, 65400);
    }

    #[test]
    fn zone_transfers_use_tcp_and_ixfr_takes_a_serial() {
        let a = p(&["example.com", "AXFR", "example.org", "ixfr=2024"]);
        assert_eq!(a.queries[0].qtype, types::AXFR);
        assert_eq!(a.queries[0].opts.transport, Transport::Tcp);
        assert_eq!(a.queries[1].qtype, types::IXFR);
        assert_eq!(a.queries[1].ixfr_serial, Some(2024));
        assert_eq!(a.queries[1].opts.transport, Transport::Tcp);
        let a = p(&["-t", "IXFR=7", "example.com", "+tls"]);
        assert_eq!(a.queries[0].ixfr_serial, Some(7));
        assert_eq!(a.queries[0].opts.transport, Transport::Tls);
        assert!(matches!(perr(&["-t", "IXFR=x"]), CliError::BadType(_)));
    }

    #[test]
    fn type_any_goes_over_tcp_unless_notcp_says_otherwise() {
        // As dig 9.18 does.
        let a = p(&["example.com", "ANY", "example.org", "ANY", "+notcp"]);
        assert_eq!(a.queries[0].opts.transport, Transport::Tcp);
        assert_eq!(a.queries[1].opts.transport, Transport::Udp);
        let a = p(&["+novc", "-t", "ANY", "example.com"]);
        assert_eq!(a.queries[0].opts.transport, Transport::Udp);
        let a = p(&["example.com", "ANY", "+tls"]);
        assert_eq!(a.queries[0].opts.transport, Transport::Tls);
        let a = p(&["example.com", "A"]);
        assert_eq!(a.queries[0].opts.transport, Transport::Udp);
    }

    #[test]
    fn reverse_lookup() {
        let a = p(&["-x", "192.0.2.1"]);
        assert_eq!(a.queries[0].name.to_string(), "1.2.0.192.in-addr.arpa.");
        assert_eq!(a.queries[0].qtype, types::PTR);
        // The first octets only, as dig takes them: the reverse zone.
        let a = p(&["-x", "192.0.2"]);
        assert_eq!(a.queries[0].name.to_string(), "2.0.192.in-addr.arpa.");
        assert_eq!(
            p(&["-x", "10"]).queries[0].name.to_string(),
            "10.in-addr.arpa."
        );
        for bad in [
            "1.2.3.4/24",
            "1..2",
            "256.1",
            "1.2.3.4.5",
            "",
            "a.b",
            "1.2.-3",
        ] {
            assert_eq!(
                perr(&["-x", bad]),
                CliError::BadAddress(bad.into()),
                "{bad}"
            );
        }
    }

    #[test]
    fn no_name_means_root_ns() {
        let a = p(&[]);
        assert_eq!(a.queries[0].name, Name::root());
        assert_eq!(a.queries[0].qtype, types::NS);
    }

    #[test]
    fn plus_options_before_a_name_are_defaults_after_it_are_local() {
        let a = p(&["+tcp", "a.example", "+norec", "b.example"]);
        assert_eq!(a.queries[0].opts.transport, Transport::Tcp);
        assert!(!a.queries[0].opts.rd);
        assert_eq!(a.queries[1].opts.transport, Transport::Tcp);
        assert!(a.queries[1].opts.rd);
    }

    #[test]
    fn plus_option_values_and_edns() {
        let a = p(&[
            "x.example",
            "+bufsize=4096",
            "+dnssec",
            "+tries=2",
            "+timeout=1",
        ]);
        let o = &a.queries[0].opts;
        assert_eq!(o.bufsize, 4096);
        assert!(o.dnssec);
        assert_eq!(o.tries, 2);
        assert_eq!(o.timeout, 1);
        let a = p(&["x.example", "+noedns", "+retry=0", "+nocookie"]);
        let o = &a.queries[0].opts;
        assert_eq!(o.edns, None);
        assert_eq!(o.tries, 1);
        assert_eq!(o.cookie, None);
        let a = p(&["x.example", "+cookie=0102030405060708"]);
        assert_eq!(
            a.queries[0].opts.cookie,
            Some(Some(vec![1, 2, 3, 4, 5, 6, 7, 8]))
        );
    }

    #[test]
    fn edns_options() {
        let a = p(&[
            "x.example",
            "+subnet=192.0.2.9/24",
            "+expire",
            "+keepalive",
            "+padding=128",
            "+ednsopt=65001:abcd",
            "+ednsopt=10",
            "+ednsflags=0x10",
            "+zflag",
        ]);
        let o = &a.queries[0].opts;
        assert_eq!(o.subnet, Some(("192.0.2.9".parse().unwrap(), 24)));
        assert!(o.expire && o.keepalive && o.zflag);
        assert_eq!(o.padding, Some(128));
        assert_eq!(o.ednsopts, [(65001, vec![0xab, 0xcd]), (10, vec![])]);
        assert_eq!(o.ednsflags, 0x10);
        let a = p(&["x.example", "+subnet=2001:db8::1"]);
        assert_eq!(a.queries[0].opts.subnet.unwrap().1, 128);
        assert!(matches!(
            perr(&["+subnet=192.0.2.0/33"]),
            CliError::BadValue { .. }
        ));
        assert!(matches!(
            perr(&["+ednsopt=x:00"]),
            CliError::BadValue { .. }
        ));
        assert!(matches!(
            perr(&["+ednsopt=1:0g"]),
            CliError::BadValue { .. }
        ));
        assert!(matches!(
            perr(&["+ednsflags=70000"]),
            CliError::BadValue { .. }
        ));
        // Digits that do not fit are out of range, as dig says; not "not a number".
        assert_eq!(
            perr(&["+bufsize=70000"]).to_string(),
            "bad value for +bufsize=70000: \"70000\" is out of range"
        );
        // Odd names: one line naming the input once, then why (dig: "'a..b'
        // is not a legal name (empty label)").
        let long_label = format!("{}.com", "a".repeat(64));
        let long_name = "abcdefghi.".repeat(26) + "com";
        for (name, why) in [
            ("a..b", "empty label"),
            (".a", "empty label"),
            (long_label.as_str(), "label longer than 63 bytes"),
            (long_name.as_str(), "longer than 255 bytes"),
            ("\\256.com", "bad escape"),
            ("x\\", "bad escape"),
        ] {
            let e = perr(&[name]).to_string();
            assert_eq!(e, format!("invalid name {name:?}: {why}"));
        }
        let e = perr(&["-y", "hmac-sha256:a..b:AAAA", "x."]).to_string();
        assert_eq!(e.matches("a..b").count(), 1, "{e}");
        assert!(e.ends_with("invalid key name \"a..b\": empty label"), "{e}");
        // dig 9.18: "invalid padding '513': out of range".
        assert_eq!(
            perr(&["+padding=513"]).to_string(),
            "bad value for +padding=513: \"513\" is out of range (at most 512)"
        );
        assert_eq!(p(&["+padding=512"]).queries[0].opts.padding, Some(512));
        // Not "unlimited": at least one lookup at a time.
        assert_eq!(
            perr(&["+parallel=0"]).to_string(),
            "bad value for +parallel=0: \"0\" is out of range (at least 1)"
        );
        assert_eq!(p(&["+parallel=1"]).queries[0].opts.parallel, 1);
        assert_eq!(
            perr(&["+tries=x1"]).to_string(),
            "bad value for +tries=x1: \"x1\" is not a valid number"
        );
    }

    #[test]
    fn display_flags_are_global() {
        let a = p(&["x.example", "+short", "+noall", "+answer", "+qr"]);
        assert!(a.display.short && a.display.answer && a.display.qr);
        assert!(!a.display.comments && !a.display.stats && !a.display.cmd);
    }

    #[test]
    fn long_options_mix_with_dig_words() {
        let a = p(&[
            "example.com",
            "--tap",
            "t.fstrm",
            "MX",
            "--tcp",
            "--timeout=2",
        ]);
        assert_eq!(a.cli.tap.as_deref(), Some(std::path::Path::new("t.fstrm")));
        assert_eq!(a.queries[0].qtype, types::MX);
        assert_eq!(a.queries[0].opts.transport, Transport::Tcp);
        assert_eq!(a.queries[0].opts.timeout, 2);
        let a = p(&["--read", "a.fstrm", "b.fstrm", "+qr"]);
        assert_eq!(a.cli.read.len(), 2);
        assert!(a.display.qr);
        // Stdin among the files, as the help says ("-" for stdin).
        let a = p(&["--read", "a.fstrm", "-", "+qr"]);
        assert_eq!(a.cli.read, [PathBuf::from("a.fstrm"), PathBuf::from("-")]);
        let a = p(&["--hex", "0000", "-"]);
        assert_eq!(a.cli.hex, ["0000", "-"]);
    }

    #[test]
    fn usage_errors_name_the_word() {
        assert_eq!(
            perr(&["x.example", "+bogus"]),
            CliError::UnknownOption("+bogus".into())
        );
        assert!(matches!(perr(&["-t", "NOTATYPE"]), CliError::BadType(_)));
        assert!(matches!(perr(&["-p", "99999"]), CliError::BadPort(_)));
        assert!(matches!(perr(&["-x", "nope"]), CliError::BadAddress(_)));
        assert!(matches!(perr(&["-z"]), CliError::UnknownFlag(_)));
        assert!(matches!(perr(&["-p"]), CliError::MissingArgument(_)));
        assert!(matches!(perr(&["+bufsize=big"]), CliError::BadValue { .. }));
        assert!(matches!(perr(&["+tcp=1"]), CliError::BadValue { .. }));
        assert!(matches!(perr(&["--bogus"]), CliError::Clap(_)));
        assert!(matches!(perr(&["+cookie=0102"]), CliError::BadValue { .. }));
    }

    #[test]
    fn unknown_plus_options_suggest_the_nearest_valid_one() {
        let cases = [
            ("+tcpp", "+tcpp (did you mean +tcp?)"),
            ("+tpc", "+tpc (did you mean +tcp?)"),
            ("+notcpp", "+notcpp (did you mean +notcp?)"),
            ("+dnsec", "+dnsec (did you mean +dnssec?)"),
            ("+TCP", "+TCP (did you mean +tcp?)"),
            (
                "+tls-hostnme=x",
                "+tls-hostnme=x (did you mean +tls-hostname?)",
            ),
            ("+bufsixe=1", "+bufsixe=1 (did you mean +bufsize?)"),
        ];
        for (word, message) in cases {
            assert_eq!(
                perr(&["x.example", word]),
                CliError::UnknownOption(message.into()),
                "{word}"
            );
        }
        // Nothing near: no hint, rather than a wild guess.
        for word in ["+bogus", "+x", "+zzzzzzzz"] {
            assert_eq!(
                perr(&[word]),
                CliError::UnknownOption(word.into()),
                "{word}"
            );
        }
        assert_eq!(
            perr(&["+tcpp"]).to_string(),
            "invalid option: +tcpp (did you mean +tcp?)"
        );
    }

    #[test]
    fn every_suggestion_is_itself_a_valid_option() {
        for word in [
            "tc",
            "tlss",
            "quick",
            "noedn",
            "cookies",
            "https-gett",
            "keepopn",
        ] {
            let near = nearest_plus_option(word).unwrap_or_else(|| panic!("{word}"));
            assert!(
                parse(["qtap", &format!("+{near}")]).is_ok(),
                "{word} -> {near}"
            );
        }
    }

    #[test]
    fn edit_distance_counts_each_kind_of_edit() {
        assert_eq!(edit_distance("tcp", "tcp"), 0);
        assert_eq!(edit_distance("tcp", "tcpp"), 1);
        assert_eq!(edit_distance("tcp", "tp"), 1);
        assert_eq!(edit_distance("tcp", "tcq"), 1);
        assert_eq!(edit_distance("tcp", "tpc"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn short_help_lists_common_options_and_long_help_every_one() {
        let short = command().render_help().to_string();
        let long = command().render_long_help().to_string();
        for common in [
            "--tcp", "--tls", "--tap", "--read", "+short", "-x ADDR", "--help",
        ] {
            assert!(short.contains(common), "-h lacks {common}:\n{short}");
        }
        for rare in ["--tls-pin", "--max-frame-size", "+tls-keyfile"] {
            assert!(!short.contains(rare), "-h shows {rare}");
            assert!(long.contains(rare), "--help lacks {rare}");
        }
        // clap may re-wrap the footer on a narrow terminal: compare words.
        let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        let long_words = words(&long);
        for plus::PlusOption { name, help, .. } in TABLE {
            assert!(
                long.contains(&format!("+{name}")) || long.contains(&format!("+[no]{name}")),
                "--help lacks +{name}"
            );
            assert!(
                long_words.contains(&words(help)),
                "--help lacks the text of +{name}"
            );
        }
        assert!(short.lines().count() < long.lines().count() / 2);
    }

    #[test]
    fn batch_lines_use_the_command_line_defaults() {
        let base = p(&["+tcp", "-f", "batch.txt"]);
        assert_eq!(
            base.batch.as_deref(),
            Some(std::path::Path::new("batch.txt"))
        );
        assert!(base.implied_root);
        let q = parse_batch_line(&base, "a.example MX b.example +notcp").unwrap();
        assert_eq!(q.len(), 2);
        assert_eq!(
            (q[0].qtype, &q[0].opts.transport),
            (types::MX, &Transport::Tcp)
        );
        assert_eq!(q[1].opts.transport, Transport::Udp);
        assert!(matches!(
            parse_batch_line(&base, "@192.0.2.1 a.example"),
            Err(CliError::BatchServer(_))
        ));
        assert!(parse_batch_line(&base, "a.example +bogus").is_err());
        let named = p(&["x.example", "-f", "b"]);
        assert!(!named.implied_root);
    }

    #[test]
    fn tsig_words_take_a_key_or_a_file_and_the_last_wins() {
        let a = p(&["-y", "hmac-sha1:k.example:AQID", "x.example"]);
        let Some(TsigArg::Key(key)) = &a.tsig else {
            panic!("{:?}", a.tsig)
        };
        assert_eq!(key.algorithm, crate::dns::tsig::Algorithm::HmacSha1);
        let a = p(&["x.example", "-yk.example:AQID", "-k", "f.key"]);
        assert_eq!(a.tsig, Some(TsigArg::File("f.key".into())));
        let a = p(&["-kf.key", "x.example", "-y", "k.example:AQID"]);
        assert!(matches!(a.tsig, Some(TsigArg::Key(_))));
        let err = perr(&["-y", "hmac-sha1:k.example:not*base64", "x"]).to_string();
        assert_eq!(err, "bad value for -y: the secret is not valid base64");
        assert_eq!(perr(&["-y"]).to_string(), "option -y needs an argument");
        let base = p(&["-f", "b"]);
        assert!(matches!(
            parse_batch_line(&base, "a.example -y k:AQID"),
            Err(CliError::BatchServer(_))
        ));
    }

    #[test]
    fn idn_names_become_a_labels_only_with_idn() {
        let a = p(&["bücher.example", "+idn"]);
        assert_eq!(a.queries[0].name.to_string(), "xn--bcher-kva.example.");
        assert!(a.display.idn);
        let a = p(&["bücher.example"]);
        assert_eq!(a.queries[0].name.to_string(), "b\\195\\188cher.example.");
        let a = p(&["+idn", "bücher.example", "+noidn"]);
        assert!(!a.display.idn);
    }

    #[test]
    fn read_mode_takes_only_display_options() {
        assert!(matches!(
            perr(&["example.com", "--read", "t.fstrm"]),
            CliError::ReadConflict(_)
        ));
        assert!(matches!(
            perr(&["--read", "t.fstrm", "--tap", "u"]),
            CliError::ReadConflict(_)
        ));
        assert!(matches!(
            perr(&["@192.0.2.1", "--read", "t"]),
            CliError::ReadConflict(_)
        ));
        assert_eq!(p(&["--read", "t.fstrm", "+qr", "+short"]).cli.read.len(), 1);
    }

    #[test]
    fn long_options_taking_the_next_word_come_from_clap() {
        use clap::CommandFactory;
        let with_value = gnu::long_options_with_value(&Cli::command());
        for name in [
            "--tls-ca",
            "--tls-pin",
            "--tap",
            "--tap-type",
            "--read",
            "--timeout",
            "--format",
            "--color",
            "--max-frame-size",
            "--generate",
        ] {
            assert!(with_value.iter().any(|w| w == name), "{name}");
        }
        for name in ["--tcp", "--https", "--tls-info", "--help", "--version"] {
            assert!(!with_value.iter().any(|w| w == name), "{name}");
        }
        // A value in the next word is the option's, even when it looks like a name.
        let a = p(&["--tap", "x.example", "y.example"]);
        assert_eq!(a.queries[0].name.to_string(), "y.example.");
    }

    #[test]
    fn verify_clap_definition() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn plus_options_may_be_shortened_to_a_unique_prefix_as_in_dig() {
        let a = p(&[
            "x.example",
            "+mul",
            "+nottl",
            "+nostat",
            "+tri=1",
            "+bufsiz=4096",
            "+nocomment",
            "+noaddit",
            "+ednsneg",
            "+v",
        ]);
        let (o, d) = (&a.queries[0].opts, &a.display);
        assert!(d.multiline && !d.ttlid && !d.stats && !d.comments && !d.additional);
        assert_eq!((o.tries, o.bufsize), (1, 4096));
        assert_eq!(o.transport, Transport::Tcp);
        // dig's own short forms that are prefixes of several names.
        let a = p(&["x.example", "+ttl", "+rec", "+noad", "+cd"]);
        assert!(a.display.ttlid && a.queries[0].opts.rd && a.queries[0].opts.cd);
        assert!(!a.queries[0].opts.ad);
        let a = p(&["x.example", "+do", "+i"]);
        assert!(a.queries[0].opts.dnssec && a.queries[0].opts.ignore_tc);
    }

    #[test]
    fn an_ambiguous_prefix_is_refused_with_its_candidates() {
        assert_eq!(
            perr(&["+co"]),
            CliError::UnknownOption("+co (ambiguous: +comments, +cookie)".into())
        );
        assert_eq!(
            perr(&["+nom"]).to_string(),
            "invalid option: +nom (ambiguous: +mapped, +multiline)"
        );
        // dig's options count: +tr is trace, tries or trusted-key.
        assert_eq!(
            perr(&["+tr=1"]),
            CliError::UnknownOption("+tr=1 (ambiguous: +trace, +tries, +trusted-key)".into())
        );
        assert!(matches!(perr(&["+tls-"]), CliError::UnknownOption(m) if m.contains("ambiguous")));
    }

    #[test]
    fn dig_options_qtap_lacks_are_named_as_such() {
        assert_eq!(
            perr(&["+topdown"]).to_string(),
            "option +topdown is not supported by qtap"
        );
        assert_eq!(perr(&["+ndots=2"]), CliError::NotSupported("+ndots".into()));
    }

    #[test]
    fn trace_and_nssearch_are_options_with_digs_prefixes() {
        use crate::query::spec::Chase;
        use crate::render::options::ChaseLayout;
        let a = p(&["x.example", "+tra"]);
        assert_eq!(a.queries[0].opts.chase, Some(Chase::Trace));
        assert!(
            a.queries[0].opts.dnssec,
            "+trace sets +dnssec, as dig's does"
        );
        assert_eq!(a.display.chase, Some(ChaseLayout::Trace));
        let a = p(&["x.example", "+trace", "+nodnssec", "+nssearch"]);
        assert_eq!(a.queries[0].opts.chase, Some(Chase::NsSearch));
        assert!(!a.queries[0].opts.dnssec);
        let a = p(&["x.example", "+trace", "+notrace"]);
        assert_eq!(a.queries[0].opts.chase, None);
        assert_eq!(a.display.chase, None);
        assert!(matches!(perr(&["x", "+hints"]), CliError::BadValue { .. }));
    }

    #[test]
    fn dig_918_query_options() {
        let a = p(&[
            "x.example",
            "+qid=4660",
            "+header-only",
            "+opcode=notify",
            "+raflag",
            "+tcflag",
        ]);
        let o = &a.queries[0].opts;
        assert_eq!(o.qid, Some(4660));
        assert!(o.header.header_only && o.header.ra && o.header.tc);
        assert_eq!(o.header.opcode, 4);
        assert_eq!(p(&["+opcode=15"]).queries[0].opts.header.opcode, 15);
        assert_eq!(p(&["+opcode=UPDATE"]).queries[0].opts.header.opcode, 5);
        assert_eq!(
            p(&["+opcode=5", "+noopcode"]).queries[0].opts.header.opcode,
            0
        );
        for bad in ["+opcode=16", "+opcode=bogus", "+qid=65536", "+qid=-1"] {
            assert!(matches!(perr(&[bad]), CliError::BadValue { .. }), "{bad}");
        }
        // Accepted for dig, no effect on qtap.
        for word in [
            "+fail",
            "+nofail",
            "+besteffort",
            "+nobesteffort",
            "+showbadcookie",
            "+noshowbadcookie",
            "+ednsnegotiation",
            "+noednsneg",
        ] {
            assert_eq!(p(&[word]).queries[0].opts, p(&[]).queries[0].opts, "{word}");
        }
    }

    #[test]
    fn dig_918_display_options() {
        let a = p(&[
            "+identify",
            "+ttlunits",
            "+expandaaaa",
            "+onesoa",
            "+idnout",
        ]);
        let d = &a.display;
        assert!(d.identify && d.ttlunits && d.expandaaaa && d.onesoa && d.idn);
        assert!(!p(&["+idnout", "+noidnout"]).display.idn);
        assert!(p(&["+nottlid", "+ttlunits"]).display.ttlid);
    }

    #[test]
    fn long_tls_pin_is_checked_like_the_plus_form() {
        let pin = "J179J8409BniOQf6zIqeJzU7i2Y91yPAa5AvbwNoE94=";
        assert_eq!(p(&["--tls-pin", pin]).queries[0].opts.tls.pins, [pin]);
        for bad in ["nope", "AAAA"] {
            assert!(
                matches!(perr(&["--tls-pin", bad]), CliError::BadValue { option, .. } if option == "--tls-pin"),
                "{bad}"
            );
        }
    }

    #[test]
    fn numbers_and_hex_take_no_sign() {
        for words in [
            &["+cookie=+0010203040506070"][..],
            &["+ednsopt=10:+1"],
            &["+ednsopt=+10"],
            &["+ednsflags=0x+10"],
            &["+ednsflags=+16"],
            &["+bufsize=+512"],
            &["+subnet=192.0.2.0/+24"],
            &["+timeout=+2"],
        ] {
            assert!(
                matches!(perr(words), CliError::BadValue { .. }),
                "{words:?}"
            );
        }
        assert!(matches!(perr(&["-p", "+53"]), CliError::BadPort(_)));
    }

    #[test]
    fn ixfr_with_a_bad_serial_is_an_error_not_a_name() {
        for serial in ["IXFR=-1", "ixfr=+1", "IXFR=", "IXFR=4294967296"] {
            assert_eq!(
                perr(&["example.com", serial]),
                CliError::BadType(serial.into()),
                "{serial}"
            );
        }
    }

    #[test]
    fn non_utf8_file_names_reach_clap_unchanged() {
        use std::os::unix::ffi::OsStringExt;
        let name = std::ffi::OsString::from_vec(b"t\xff.fstrm".to_vec());
        let argv = vec![
            std::ffi::OsString::from("qtap"),
            "x.example".into(),
            "--tap".into(),
            name.clone(),
        ];
        let a = parse(argv).unwrap();
        assert_eq!(a.cli.tap.as_deref(), Some(std::path::Path::new(&name)));
        let word = std::ffi::OsString::from_vec(b"x\xff.example".to_vec());
        assert!(matches!(
            parse([std::ffi::OsString::from("qtap"), word]),
            Err(CliError::NotUtf8(_))
        ));
    }
}
