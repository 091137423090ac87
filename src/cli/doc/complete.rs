//! The shell completion scripts: clap_complete's script for the GNU long
//! options, with a wrapper per shell that completes dig's words
//! (`+options` from the option table, `@server`, types and classes).

use super::{class_mnemonics, plus_completions, type_mnemonics};

/// Long options whose value may be the next word (`--tap FILE`), so the
/// completion scripts do not take that word for a name: the parser's list.
pub(super) fn long_options_with_value() -> Vec<String> {
    super::super::gnu::long_options_with_value(&crate::cli::command())
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
pub(super) fn bash_completion() -> String {
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
            -p|-t|-c|-f|-y|-k) _qtap_skip=1 ;;
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
    # Without `=` in COMP_WORDBREAKS the file name is part of the word.
    if [[ $cur == +tls-ca=* || $cur == +tls-certfile=* || $cur == +tls-keyfile=* ]]; then
        COMPREPLY=( $(compgen -f -P "${cur%%=*}=" -- "${cur#*=}") )
        return 0
    fi
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
            -f|-k) COMPREPLY=( $(compgen -f -- "$cur") ); return 0 ;;
            -p|-x|-q|-y) return 0 ;;
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

/// How clap's zsh script opens its completion function.
const ZSH_CLAP_FN: &str = "\n_qtap() {\n";

/// Quotes `s` for a single-quoted zsh word.
fn zsh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// clap's script, its function renamed `_qtap_clap`, then our `_qtap`
/// before the trailer, which now calls it: the file autoloads as
/// `_qtap` from `fpath`.
pub(super) fn zsh_completion() -> std::io::Result<String> {
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
    // Autoloaded from fpath, this file runs once, at the first completion,
    // and whatever it defines as `_qtap` is what zsh calls from then on: so
    // `_qtap` must be the dig-aware function, and clap's gets another name.
    let clap_head = clap.get(..at).unwrap_or_default();
    if clap_head.matches(ZSH_CLAP_FN).count() != 1 {
        return Err(std::io::Error::other(
            "clap_complete's zsh script no longer defines _qtap the way qtap expects",
        ));
    }
    let mut script = clap_head.replace(ZSH_CLAP_FN, "\n_qtap_clap() {\n");
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

const ZSH_DIG: &str = r#"# dig-style words, which clap's _qtap_clap above does not know: +options (from
# qtap's option table), @server, and record types or classes after a name.
_qtap() {
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
            (-p|-t|-c|-f|-y|-k) skip=1 ;;
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
            (-f|-k) _files; return ;;
            (-p|-x|-q|-y) return 1 ;;
        esac
    elif [[ $cur != -* ]]; then
        case $state in
            (name) compadd -M 'm:{a-z}={A-Z}' -a rtypes classes; return ;;
            (typed) compadd -M 'm:{a-z}={A-Z}' -a classes; return ;;
        esac
    fi
    _qtap_clap "$@"
}

if [ "$funcstack[1]" = "_qtap" ]; then
    _qtap "$@"
else
    compdef _qtap qtap
fi
"#;

/// Quotes `s` for a single-quoted fish word.
fn fish_quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', r"\\").replace('\'', r"\'"))
}

/// clap's `complete` lines, then conditions that complete `+options`,
/// dig's flags, and types or classes after a name.
pub(super) fn fish_completion() -> String {
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
"#;
