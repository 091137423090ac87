//! The committed man page and completion scripts are exactly what
//! `qtap --generate` writes now (regenerate them as the README's "Man page
//! and completions" says when this fails); the man page renders without
//! groff warnings; the completion scripts really complete `+options` and
//! record types in a real bash (and fish and zsh when installed); and the
//! help texts and usage errors read as a dig user expects.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::qtap;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn committed_man_page_and_completions_are_current() {
    for (what, file) in [
        ("man", "man/qtap.1"),
        ("bash", "completions/qtap.bash"),
        ("zsh", "completions/qtap.zsh"),
        ("fish", "completions/qtap.fish"),
    ] {
        let out = qtap().args(["--generate", what]).output().unwrap();
        assert!(out.status.success(), "{what}");
        let committed = std::fs::read(root().join(file)).unwrap_or_default();
        assert!(
            out.stdout == committed,
            "{file} is stale: run `cargo run -q -- --generate {what} > {file}`"
        );
    }
}

#[test]
fn man_page_renders_without_groff_warnings() {
    if !crate::have("groff") {
        return;
    }
    let out = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .arg(root().join("man/qtap.1"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "groff warnings");
}

/// Single-quotes `s` for bash.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Runs the committed bash completion as bash would for the command line
/// `words` (the last word is the one being completed) and returns
/// `complete -p qtap` and the offered words.
fn bash_complete(words: &[&str]) -> (String, Vec<String>) {
    let script = root().join("completions/qtap.bash");
    let cword = words.len() - 1;
    let line = words.join(" ");
    let cur = words[cword];
    let prev = if cword > 0 { words[cword - 1] } else { "" };
    let array: Vec<String> = words.iter().map(|w| sh_quote(w)).collect();
    let program = format!(
        "source {script}; complete -p qtap; echo '--'; \
         COMP_WORDS=({array}); COMP_CWORD={cword}; COMP_LINE={line}; \
         COMP_POINT=${{#COMP_LINE}}; _qtap_dig qtap {cur} {prev}; \
         printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script = sh_quote(&script.to_string_lossy()),
        array = array.join(" "),
        line = sh_quote(&line),
        cur = sh_quote(cur),
        prev = sh_quote(prev),
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program])
        .current_dir(root())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (spec, offered) = stdout.split_once("--\n").unwrap_or((&stdout, ""));
    (
        spec.to_owned(),
        offered
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
    )
}

#[test]
fn bash_completes_plus_options_and_record_types() {
    if !crate::have("bash") {
        return;
    }
    let (spec, offered) = bash_complete(&["qtap", "+tc"]);
    assert!(
        spec.contains("-F _qtap_dig") && spec.trim_end().ends_with(" qtap"),
        "{spec}"
    );
    let mut offered = offered;
    offered.sort();
    assert_eq!(offered, ["+tcflag", "+tcp"]);

    // Flags have a no form, value options an `=`; nothing unrelated.
    let (_, offered) = bash_complete(&["qtap", "x.example", "+no"]);
    assert!(offered.iter().any(|w| w == "+notcp"), "{offered:?}");
    assert!(offered.iter().all(|w| w.starts_with("+no")), "{offered:?}");
    assert!(!offered.iter().any(|w| w == "+nobufsize"), "{offered:?}");
    let (_, offered) = bash_complete(&["qtap", "+bufs"]);
    assert_eq!(offered, ["+bufsize="]);

    // After a name: record types (any case typed); after a type: classes.
    let (_, offered) = bash_complete(&["qtap", "example.com", "AA"]);
    assert_eq!(offered, ["AAAA"]);
    let (_, offered) = bash_complete(&["qtap", "@192.0.2.53", "example.com", "mx"]);
    assert_eq!(offered, ["MX"]);
    let (_, offered) = bash_complete(&["qtap", "example.com", "aaaa", ""]);
    assert!(offered.iter().any(|w| w == "IN"), "{offered:?}");
    assert!(!offered.iter().any(|w| w == "AAAA"), "{offered:?}");
    let (_, offered) = bash_complete(&["qtap", "-t", "SV"]);
    assert_eq!(offered, ["SVCB"]);

    // Not after a long option's value, nor in --read mode: clap's own.
    let (_, offered) = bash_complete(&["qtap", "--tap", "t.fstrm", ""]);
    assert!(!offered.iter().any(|w| w == "A"), "{offered:?}");
    let (_, offered) = bash_complete(&["qtap", "--read", "a.fstrm", ""]);
    assert!(!offered.iter().any(|w| w == "A"), "{offered:?}");
    let (_, offered) = bash_complete(&["qtap", "--colo"]);
    assert_eq!(offered, ["--color"]);
}

#[test]
fn bash_completes_files_after_f_and_tls_file_options_and_never_a_lone_dash() {
    if !crate::have("bash") {
        return;
    }
    // The tests run in the repository: Cargo.toml is a file there.
    let (_, offered) = bash_complete(&["qtap", "-f", "Cargo.t"]);
    assert_eq!(offered, ["Cargo.toml"]);
    // With `=` a word break (bash's default) and without.
    let (_, offered) = bash_complete(&["qtap", "+tls-ca", "=", "Cargo.t"]);
    assert_eq!(offered, ["Cargo.toml"]);
    let (_, offered) = bash_complete(&["qtap", "+tls-certfile=Cargo.t"]);
    assert_eq!(offered, ["+tls-certfile=Cargo.toml"]);
    // After -f's value, dig words again.
    let (_, offered) = bash_complete(&["qtap", "-f", "b.txt", "example.com", "AA"]);
    assert_eq!(offered, ["AAAA"]);
    for words in [
        &["qtap", "-"][..],
        &["qtap", "x.example", "-"],
        &["qtap", ""],
    ] {
        let (_, offered) = bash_complete(words);
        assert!(!offered.iter().any(|w| w == "-"), "{words:?}: {offered:?}");
    }
}

#[test]
fn fish_completes_plus_options_and_record_types() {
    if !crate::have("fish") {
        return;
    }
    let script: PathBuf = root().join("completions/qtap.fish");
    let complete = |line: &str| -> Vec<String> {
        let program = format!(
            "source {}; complete -C {}",
            sh_quote(&script.to_string_lossy()),
            sh_quote(line)
        );
        let out = Command::new("fish")
            .args(["--no-config", "-c", &program])
            .current_dir(root())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.split('\t').next().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(complete("qtap +tc"), ["+tcflag", "+tcp"]);
    assert!(complete("qtap -f Cargo.t").contains(&"Cargo.toml".to_owned()));
    assert_eq!(complete("qtap example.com AA"), ["AAAA"]);
    assert!(complete("qtap example.com AAAA ").contains(&"IN".to_owned()));
}

#[test]
fn zsh_script_is_valid_zsh() {
    if !crate::have("zsh") {
        return;
    }
    let out = Command::new("zsh")
        .arg("-n")
        .arg(root().join("completions/qtap.zsh"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// zsh autoloads the script as `_qtap` from `fpath` at the first TAB and
/// calls `_qtap` from then on: every completion of a session, not only the
/// first, must reach the dig-aware function. The completion system's
/// helpers are stubbed to say who called them.
#[test]
fn zsh_completes_dig_words_at_every_tab_of_a_session() {
    if !crate::have("zsh") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("completions/qtap.zsh"),
        dir.path().join("_qtap"),
    )
    .unwrap();
    let program = r#"
        fpath=("$QTAP_FPATH" $fpath); autoload -Uz _qtap
        _describe() { print -r -- "dig $2" }
        _arguments() { print -r -- "clap" }
        _files() { print -r -- "files" }
        compdef() { : }
        words=(qtap +mul); CURRENT=2; _qtap
        words=(qtap +mul); CURRENT=2; _qtap
        words=(qtap -f b); CURRENT=3; _qtap
        words=(qtap --col); CURRENT=2; _qtap
    "#;
    let out = Command::new("zsh")
        .args(["-f", "-c", program])
        .env("QTAP_FPATH", dir.path())
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "dig dig-options\ndig dig-options\nfiles\nclap\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn short_help_is_a_summary_and_long_help_lists_every_plus_option() {
    let short = qtap().arg("-h").output().unwrap();
    let long = qtap().arg("--help").output().unwrap();
    assert_eq!(short.status.code(), Some(0));
    assert_eq!(long.status.code(), Some(0));
    let short = String::from_utf8_lossy(&short.stdout);
    let long = String::from_utf8_lossy(&long.stdout);
    for word in [
        "Usage: qtap [@server]",
        "--tap",
        "--read",
        "+tcp",
        "-x ADDR",
    ] {
        assert!(short.contains(word), "-h lacks {word}");
    }
    for word in [
        "--tls-keyfile",
        "+tls-pin=BASE64",
        "+[no]nsid",
        "Exit status:",
    ] {
        assert!(!short.contains(word), "-h has {word}");
        assert!(long.contains(word), "--help lacks {word}");
    }
}

#[test]
fn unknown_plus_option_names_the_nearest_valid_one() {
    let out = qtap().args(["example.com", "+tcpp"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "qtap: invalid option: +tcpp (did you mean +tcp?)\n"
    );
}

/// Prose in the man page has no runs of spaces (a Rust string continued
/// without `\` once put a dozen into a paragraph), and the synopsis lists
/// every `--format` that `--read` takes.
#[test]
fn man_page_prose_has_no_runs_of_spaces_and_the_synopsis_lists_every_format() {
    let man = std::fs::read_to_string(root().join("man/qtap.1")).unwrap();
    let mut literal = false;
    for line in man.lines() {
        match line {
            ".nf" => literal = true,
            ".fi" => literal = false,
            _ if !literal && !line.starts_with('.') => {
                assert!(!line.contains("   "), "runs of spaces: {line:?}");
            }
            _ => {}
        }
    }
    let read = man
        .lines()
        .find(|l| l.starts_with("\\fB\\-\\-read\\fR"))
        .unwrap();
    for format in ["text", "short", "json", "jsonl", "yaml"] {
        assert!(read.contains(&format!("\\fB{format}\\fR")), "{read}");
    }
}
