//! The committed man page and completion scripts are exactly what
//! `qtap --generate` writes now; regenerate them when this fails:
//! `for w in man bash zsh fish; do ...` (see README).

use std::path::Path;

use crate::qtap;

#[test]
fn committed_man_page_and_completions_are_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (what, file) in [
        ("man", "man/qtap.1"),
        ("bash", "completions/qtap.bash"),
        ("zsh", "completions/_qtap"),
        ("fish", "completions/qtap.fish"),
    ] {
        let out = qtap().args(["--generate", what]).output().unwrap();
        assert!(out.status.success(), "{what}");
        let committed = std::fs::read(root.join(file)).unwrap();
        assert!(
            out.stdout == committed,
            "{file} is stale: run `qtap --generate {what} > {file}`"
        );
    }
}

#[test]
fn man_page_renders_without_groff_warnings() {
    if !crate::have("groff") {
        return;
    }
    let out = std::process::Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("man/qtap.1"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "groff warnings");
}
