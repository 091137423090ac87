//! How the command line is presented outside the parser: the help footers
//! (`-h`, `--help`), the man page and the shell completion scripts that
//! `qtap --generate man|bash|zsh|fish` writes. Everything is built from the
//! clap definition and the `+option` table the parser itself uses
//! ([`PLUS_OPTIONS`]) and from the record type table of `dns::types`, so
//! none of them can drift from what qtap accepts. The committed copies in
//! `man/` and `completions/` are checked against this output by a test.
//!
//! This module parses nothing and decides nothing about a run; it only
//! writes text to the writer it is given.

use std::fmt::Write as _;
use std::io::Write;

use roff::{bold, italic, roman, Inline, Roff};

use crate::cli::{Generate, PlusKind, PLUS_OPTIONS};
use crate::dns::types;
use crate::error::exits;

/// Writes the requested file to `out`.
pub fn generate(what: Generate, out: &mut dyn Write) -> std::io::Result<()> {
    match what {
        Generate::Man => man_page(out),
        Generate::Bash => out.write_all(bash_completion().as_bytes()),
        Generate::Zsh => out.write_all(zsh_completion()?.as_bytes()),
        Generate::Fish => out.write_all(fish_completion().as_bytes()),
    }
}

/// dig's words and single-dash flags (the parser's classifier, not clap,
/// reads them), documented once for `--help` and the man page.
pub const DIG_ARGUMENTS: &[(&str, &str)] = &[
    (
        "@SERVER",
        "the server to ask: an address, a host name, or an https:// URL \
         (default: the first nameserver of /etc/resolv.conf)",
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
        "the server port (default 53; 853 for TLS and QUIC, 443 for HTTPS)",
    ),
    ("-4, -6", "use only IPv4 or only IPv6"),
    ("-t TYPE", "the record type, even where a name is expected"),
    ("-c CLASS", "the class, even where a name is expected"),
    (
        "-x ADDR",
        "reverse lookup: the PTR record of an IPv4 or IPv6 address",
    ),
    (
        "-q NAME",
        "look up NAME, even if it looks like a type or class",
    ),
    (
        "-f FILE",
        "batch mode: one lookup per line of FILE, with the command line's options",
    ),
];

/// The exit status table, shown by `--help` and the man page.
pub const EXIT_STATUS: &[(u8, &str)] = &[
    (
        exits::OK,
        "a response was received (NXDOMAIN included); --read rendered everything",
    ),
    (exits::USAGE, "usage error"),
    (
        exits::DATA_LOST,
        "a --read input could not be opened or was damaged: some data was lost",
    ),
    (exits::NO_REPLY, "no reply from the server"),
    (
        exits::INTERNAL,
        "internal error, such as a trace that cannot be written",
    ),
    (
        exits::SIGINT,
        "interrupted by SIGINT; the trace is still complete",
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
const EXAMPLES: &[(&str, &str)] = &[
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
const COMMON_PLUS: &[(&str, &str)] = &[
    ("+tcp  +tls  +https  +quic", "transport"),
    ("+norec  +dnssec  +nsid  +nocookie", "query flags"),
    ("+short  +qr  +noall +answer", "display"),
    ("+timeout=SECS  +tries=N", "waiting"),
];

/// The placeholder for the value of a `+name=value` option.
pub fn value_name(option: &str) -> &'static str {
    match option {
        "bufsize" | "tries" | "retry" | "padding" | "ednsflags" | "parallel" => "N",
        "subnet" => "ADDR/LEN",
        "split" => "W",
        "ednsopt" => "CODE:HEX",
        "edns" => "VERSION",
        "timeout" => "SECS",
        "cookie" => "HEX",
        "https" | "https-get" | "https-post" => "PATH",
        "tls-ca" | "tls-certfile" | "tls-keyfile" => "FILE",
        "tls-hostname" | "tls-sni" => "NAME",
        "tls-pin" => "BASE64",
        _ => "VALUE",
    }
}

/// How an entry of [`PLUS_OPTIONS`] is written in help texts:
/// `+[no]tcp`, `+bufsize=N`, `+[no]cookie[=HEX]`.
pub fn plus_form(name: &str, kind: PlusKind) -> String {
    let value = value_name(name);
    match kind {
        PlusKind::Flag => format!("+[no]{name}"),
        PlusKind::Value => format!("+{name}={value}"),
        PlusKind::FlagOrValue => format!("+[no]{name}[={value}]"),
    }
}

/// Help lines are wrapped here, with a hanging indent, to fit 80 columns,
/// so that clap (which re-wraps only lines wider than the terminal) leaves
/// the columns alone.
const HELP_WIDTH: usize = 80;

/// Appends `  left  text` with `text` starting at column `col`, wrapped.
fn help_row(s: &mut String, col: usize, left: &str, text: &str) {
    let mut line = format!("  {left:<width$}", width = col.saturating_sub(2));
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
        s.push_str("dig-style arguments:\n  ");
        let words: Vec<&str> = DIG_ARGUMENTS.iter().map(|(w, _)| *w).collect();
        s.push_str(&words.join(" ").replace(',', ""));
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
    for (name, kind, help) in PLUS_OPTIONS {
        help_row(&mut s, 26, &plus_form(name, *kind), help);
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
    for (name, kind, help) in PLUS_OPTIONS {
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

/// Long options whose value may be the next word (`--tap FILE`), so the
/// completion scripts do not take that word for a name.
fn long_options_with_value() -> Vec<String> {
    built_command()
        .get_arguments()
        .filter(|a| {
            a.get_num_args().is_some_and(|n| n.min_values() > 0) && !a.is_require_equals_set()
        })
        .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
        .collect()
}

/// The clap command with its defaults filled in (`num_args` is only known
/// after `build`).
fn built_command() -> clap::Command {
    let mut cmd = crate::cli::command();
    cmd.build();
    cmd
}

fn clap_script(shell: clap_complete::Shell) -> String {
    let mut cmd = crate::cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "qtap", &mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

fn fill(template: &str, pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .fold(template.to_owned(), |t, (key, value)| t.replace(key, value))
}

/// clap's script, then `_qtap_dig`, which completes `+options`, `@server`
/// and types and classes after a name and hands everything else to clap's
/// `_qtap`, registered in its place.
fn bash_completion() -> String {
    let plus: Vec<String> = plus_completions().into_iter().map(|(w, _)| w).collect();
    let mut script = clap_script(clap_complete::Shell::Bash);
    script.push_str(&fill(
        BASH_DIG,
        &[
            ("@PLUS@", plus.join(" ")),
            ("@TYPES@", type_mnemonics().join(" ")),
            ("@CLASSES@", class_mnemonics().join(" ")),
            ("@LONGVAL@", long_options_with_value().join(" ")),
        ],
    ));
    script
}

const BASH_DIG: &str = r#"
# dig-style words, which clap's _qtap above does not know: +options (from
# qtap's option table), @server, and record types or classes after a name.
_qtap_plus='@PLUS@'
_qtap_types='@TYPES@'
_qtap_classes='@CLASSES@'
_qtap_longval=' @LONGVAL@ '

_qtap_upper() {
    printf '%s' "$1" | tr '[:lower:]' '[:upper:]'
}

# What the words before the cursor leave: start, name (a name without a
# type yet), typed, classed or read (--read: no lookups); and skip=1 when
# the cursor is on the value of a flag.
_qtap_dig_state() {
    local i word up
    _qtap_state=start
    _qtap_skip=0
    for (( i = 1; i < COMP_CWORD; i++ )); do
        word="${COMP_WORDS[i]}"
        if [[ $word == "=" ]]; then
            _qtap_skip=1
            continue
        fi
        if (( _qtap_skip )); then
            _qtap_skip=0
            continue
        fi
        case "$word" in
            --read|--read=*) _qtap_state=read ;;
            --*) [[ $_qtap_longval == *" $word "* ]] && _qtap_skip=1 ;;
            -p|-t|-c) _qtap_skip=1 ;;
            -x) _qtap_skip=1; [[ $_qtap_state != read ]] && _qtap_state=typed ;;
            -q) _qtap_skip=1; [[ $_qtap_state != read ]] && _qtap_state=name ;;
            -x?*) [[ $_qtap_state != read ]] && _qtap_state=typed ;;
            -q?*) [[ $_qtap_state != read ]] && _qtap_state=name ;;
            [-+@]*) ;;
            *)
                [[ $_qtap_state == read ]] && continue
                up="$(_qtap_upper "$word")"
                if [[ $_qtap_state == name && ( " $_qtap_types " == *" $up "* || $up == TYPE[0-9]* ) ]]; then
                    _qtap_state=typed
                elif [[ ( $_qtap_state == name || $_qtap_state == typed ) && ( " $_qtap_classes " == *" $up "* || $up == CLASS[0-9]* ) ]]; then
                    _qtap_state=classed
                else
                    _qtap_state=name
                fi
                ;;
        esac
    done
}

_qtap_dig() {
    local cur="${COMP_WORDS[COMP_CWORD]}" prev="" before=""
    (( COMP_CWORD > 0 )) && prev="${COMP_WORDS[COMP_CWORD-1]}"
    (( COMP_CWORD > 1 )) && before="${COMP_WORDS[COMP_CWORD-2]}"
    COMPREPLY=()
    if [[ $cur == +* ]]; then
        COMPREPLY=( $(compgen -W "$_qtap_plus" -- "$cur") )
        if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]]; then
            compopt -o nospace 2>/dev/null
        fi
        return 0
    fi
    if [[ $prev == "=" && $before == +* ]]; then
        case "$before" in
            +tls-ca|+tls-certfile|+tls-keyfile) COMPREPLY=( $(compgen -f -- "$cur") ) ;;
        esac
        return 0
    fi
    if [[ $cur == @* ]]; then
        COMPREPLY=( $(compgen -A hostname -P @ -- "${cur#@}") )
        return 0
    fi
    _qtap_dig_state
    if (( _qtap_skip )); then
        case "$prev" in
            -t) COMPREPLY=( $(compgen -W "$_qtap_types" -- "$(_qtap_upper "$cur")") ); return 0 ;;
            -c) COMPREPLY=( $(compgen -W "$_qtap_classes" -- "$(_qtap_upper "$cur")") ); return 0 ;;
            -p|-x|-q) return 0 ;;
        esac
    elif [[ $cur != -* ]]; then
        case "$_qtap_state" in
            name) COMPREPLY=( $(compgen -W "$_qtap_types $_qtap_classes" -- "$(_qtap_upper "$cur")") ); return 0 ;;
            typed) COMPREPLY=( $(compgen -W "$_qtap_classes" -- "$(_qtap_upper "$cur")") ); return 0 ;;
        esac
    fi
    _qtap "$@"
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _qtap_dig -o nosort -o bashdefault -o default qtap
else
    complete -F _qtap_dig -o bashdefault -o default qtap
fi
"#;

/// clap's trailer, which calls or registers `_qtap`; ours calls `_qtap_dig`.
const ZSH_CLAP_TRAILER: &str = r#"if [ "$funcstack[1]" = "_qtap" ]; then
    _qtap "$@"
else
    compdef _qtap qtap
fi
"#;

/// Quotes `s` for a single-quoted zsh word.
fn zsh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// clap's script with `_qtap_dig` before its trailer, which now calls
/// `_qtap_dig`: the file still defines clap's `_qtap` and autoloads as
/// `_qtap` from `fpath`.
fn zsh_completion() -> std::io::Result<String> {
    let clap = clap_script(clap_complete::Shell::Zsh);
    let Some(at) = clap.rfind(ZSH_CLAP_TRAILER) else {
        return Err(std::io::Error::other(
            "clap_complete's zsh script no longer ends the way qtap expects",
        ));
    };
    let described = |(word, help): &(String, &str)| {
        let word = word.trim_end_matches('=');
        zsh_quote(&format!("{word}:{help}"))
    };
    let all = plus_completions();
    let flags: Vec<String> = all
        .iter()
        .filter(|(w, _)| !w.ends_with('='))
        .map(described)
        .collect();
    let values: Vec<String> = all
        .iter()
        .filter(|(w, _)| w.ends_with('='))
        .map(described)
        .collect();
    let mut script = clap.get(..at).unwrap_or_default().to_owned();
    script.push_str(&fill(
        ZSH_DIG,
        &[
            ("@FLAGS@", flags.join(" \\\n        ")),
            ("@VALUES@", values.join(" \\\n        ")),
            ("@TYPES@", type_mnemonics().join(" ")),
            ("@CLASSES@", class_mnemonics().join(" ")),
            ("@LONGVAL@", long_options_with_value().join(" ")),
        ],
    ));
    Ok(script)
}

const ZSH_DIG: &str = r#"# dig-style words, which clap's _qtap above does not know: +options (from
# qtap's option table), @server, and record types or classes after a name.
_qtap_dig() {
    local cur=${words[CURRENT]} prev=${words[CURRENT-1]} word up state=start
    local -i i skip=0
    local -a plus_flags plus_values rtypes classes longval
    plus_flags=(
        @FLAGS@
    )
    plus_values=(
        @VALUES@
    )
    rtypes=(@TYPES@)
    classes=(@CLASSES@)
    longval=(@LONGVAL@)
    if [[ $cur == +tls-(ca|certfile|keyfile)=* ]]; then
        compset -P '*='
        _files
        return
    fi
    if [[ $cur == +*=* ]]; then
        return 1
    fi
    if [[ $cur == +* ]]; then
        _describe -t dig-options 'dig option' plus_flags -- plus_values -S '='
        return
    fi
    if [[ $cur == @* ]]; then
        compset -P '@'
        _hosts
        return
    fi
    for (( i = 2; i < CURRENT; i++ )); do
        word=${words[i]}
        if (( skip )); then
            skip=0
            continue
        fi
        case $word in
            (--read|--read=*) state=read ;;
            (--*=*) ;;
            (--*) (( ${longval[(Ie)$word]} )) && skip=1 ;;
            (-p|-t|-c) skip=1 ;;
            (-x) skip=1; [[ $state != read ]] && state=typed ;;
            (-q) skip=1; [[ $state != read ]] && state=name ;;
            (-x?*) [[ $state != read ]] && state=typed ;;
            (-q?*) [[ $state != read ]] && state=name ;;
            ([-+@]*) ;;
            (*)
                [[ $state == read ]] && continue
                up=${(U)word}
                if [[ $state == name ]] && { (( ${rtypes[(Ie)$up]} )) || [[ $up == TYPE<0-65535> ]] }; then
                    state=typed
                elif [[ $state == (name|typed) ]] && { (( ${classes[(Ie)$up]} )) || [[ $up == CLASS<0-65535> ]] }; then
                    state=classed
                else
                    state=name
                fi
                ;;
        esac
    done
    if (( skip )); then
        case $prev in
            (-t) compadd -M 'm:{a-z}={A-Z}' -a rtypes; return ;;
            (-c) compadd -M 'm:{a-z}={A-Z}' -a classes; return ;;
            (-p|-x|-q) return 1 ;;
        esac
    elif [[ $cur != -* ]]; then
        case $state in
            (name) compadd -M 'm:{a-z}={A-Z}' -a rtypes classes; return ;;
            (typed) compadd -M 'm:{a-z}={A-Z}' -a classes; return ;;
        esac
    fi
    _qtap "$@"
}

if [ "$funcstack[1]" = "_qtap" ]; then
    _qtap_dig "$@"
else
    compdef _qtap_dig qtap
fi
"#;

/// Quotes `s` for a single-quoted fish word.
fn fish_quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', r"\\").replace('\'', r"\'"))
}

/// clap's `complete` lines, then conditions that complete `+options`,
/// dig's flags, and types or classes after a name.
fn fish_completion() -> String {
    let plus: Vec<String> = plus_completions()
        .iter()
        .map(|(w, help)| format!("{} {}", fish_quote(w), fish_quote(help)))
        .collect();
    let mut script = clap_script(clap_complete::Shell::Fish);
    script.push_str(&fill(
        FISH_DIG,
        &[
            ("@PLUS@", plus.join(" \\\n        ")),
            ("@TYPES@", type_mnemonics().join(" ")),
            ("@CLASSES@", class_mnemonics().join(" ")),
            ("@LONGVAL@", long_options_with_value().join(" ")),
        ],
    ));
    script
}

const FISH_DIG: &str = r#"
# dig-style words, which clap's lines above do not know: +options (from
# qtap's option table), dig's flags, and record types or classes after a name.
set -g __qtap_types @TYPES@
set -g __qtap_classes @CLASSES@

function __qtap_plus_options
    printf '%s\t%s\n' \
        @PLUS@
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
                contains -- $word @LONGVAL@; and set skip 1
            case -p -t -c
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
complete -c qtap -f -n '__qtap_dig_word; and test (__qtap_dig_state) = name' -a "$__qtap_types" -d 'record type'
complete -c qtap -f -n '__qtap_dig_word; and contains -- (__qtap_dig_state) name typed' -a "$__qtap_classes" -d 'class'
"#;

/// `*bold*`, `<italic>` and plain text, for the synopsis.
fn markup(text: &str) -> Vec<Inline> {
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
fn plus_tag(name: &str, kind: PlusKind) -> Vec<Inline> {
    let mut tag = vec![bold("+")];
    if kind != PlusKind::Value {
        tag.push(roman("[no]"));
    }
    tag.push(bold(name));
    match kind {
        PlusKind::Flag => {}
        PlusKind::Value => {
            tag.push(bold("="));
            tag.push(italic(value_name(name)));
        }
        PlusKind::FlagOrValue => {
            tag.push(roman("[="));
            tag.push(italic(value_name(name)));
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

fn man_page(out: &mut dyn Write) -> std::io::Result<()> {
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
        "*qtap* *--read* <file>... [*+*<option>...] [*--format* *text*|*short*] [*--color* <when>]",
        "*qtap* *-h*|*--help*|*-V*|*--version*",
    ] {
        // .SY/.YS: a synopsis with a hanging indent (groff, mandoc).
        let body = line.strip_prefix("*qtap* ").unwrap_or(line);
        roff.control("SY", ["qtap"]);
        roff.text(markup(body));
        roff.control("YS", []);
    }
    section(
        &mut roff,
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
             whole run. GNU long options (--tcp, --tap FILE, ...) may appear anywhere.",
            "Defaults follow dig 9.18: the first nameserver of /etc/resolv.conf, UDP with a TCP \
             retry when the answer is truncated, EDNS0 with a UDP size of 1232, a client COOKIE, \
             RD and AD set, a 5 second timeout and 3 tries. DNS over TLS, HTTPS and QUIC verify \
             the server certificate against the system roots; there is never a silent plaintext \
             fallback.",
        ],
    );
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
        tagged(&mut roff, tag, text);
    }
    roff.control("SH", ["DIG OPTIONS"]);
    roff.text([roman(
        "Each option can be written +name or, to turn it off, +noname. Options taking a value \
         are written +name=value.",
    )]);
    for (name, kind, help) in PLUS_OPTIONS {
        tagged(&mut roff, plus_tag(name, *kind), help);
    }
    roff.to_writer(out)?;
    man.render_options_section(out)?;
    let mut roff = Roff::new();
    section(
        &mut roff,
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
             --tap-identity is given. The trace is written to a temporary file beside the target \
             and renamed into place when complete, so an existing file is never half overwritten; \
             it ends with a STOP frame even after a timeout, an error, SIGINT or SIGTERM.",
            "To share a trace, check first that it shows what you saw (qtap --read trace.fstrm \
             +qr), then attach the file itself to the bug report, with the command line and the \
             output of qtap --version. It is binary: compress it if it is large, but do not \
             convert it. The receiver needs no qtap: kdig -G, dnstap-read, fstrm_dump and the Go \
             dnstap tool read it too.",
            "Privacy: a trace holds your own address and port (which may be a private network \
             address), the server's address, every name you looked up and every answer, the \
             times of your queries to the nanosecond, and the EDNS client COOKIE, which can link \
             your queries together. It holds no TLS keys or certificates, and no host name \
             unless you set --tap-identity. qtap does not edit traces: to share less, record a \
             fresh trace of only the lookups that show the problem, with +nocookie if the cookie \
             does not matter.",
        ],
    );
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
            "Structured output: one RFC 8427 JSON object per DNS message with its dnstap context              and the exact bytes (a JSON array, or JSON Lines), and YAML in the layout of the Go              dnstap tool; live or from a trace:",
            &[
                "qtap example.com --format json",
                "qtap --read trace.fstrm --format jsonl +qr",
                "qtap --read trace.fstrm +yaml",
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
        commands(&mut roff, lines);
    }
    roff.control("SH", ["EXIT STATUS"]);
    for (code, text) in EXIT_STATUS {
        tagged(&mut roff, vec![bold(code.to_string())], text);
    }
    roff.control("SH", ["ENVIRONMENT"]);
    for (var, text) in ENVIRONMENT {
        tagged(&mut roff, vec![bold(*var)], text);
    }
    roff.control("SH", ["FILES"]);
    tagged(
        &mut roff,
        vec![bold("/etc/resolv.conf")],
        "the default server is its first nameserver (127.0.0.1, with a warning, when there is none)",
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
    roff.to_writer(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(what: Generate) -> String {
        let mut out = Vec::new();
        generate(what, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn plus_completions_follow_the_option_kinds() {
        let words: Vec<String> = plus_completions().into_iter().map(|(w, _)| w).collect();
        for (name, kind, _) in PLUS_OPTIONS {
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
                let value = match value_name(name) {
                    "BASE64" => "J179J8409BniOQf6zIqeJzU7i2Y91yPAa5AvbwNoE94=",
                    "HEX" => "0102030405060708",
                    "PATH" => "/dns-query",
                    "FILE" | "NAME" => "x",
                    "ADDR/LEN" => "192.0.2.0/24",
                    "CODE:HEX" => "65001:abcd",
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
        for (name, _, help) in PLUS_OPTIONS {
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
    fn zsh_script_keeps_clap_function_and_calls_the_wrapper() {
        let zsh = text(Generate::Zsh);
        assert!(zsh.starts_with("#compdef qtap\n"));
        assert!(zsh.contains("\n_qtap() {"));
        assert!(zsh.contains("compdef _qtap_dig qtap"));
        assert!(!zsh.contains("compdef _qtap qtap"));
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
        for (name, kind, _) in PLUS_OPTIONS {
            assert!(long.contains(&plus_form(name, *kind)), "{name}");
        }
    }
}
