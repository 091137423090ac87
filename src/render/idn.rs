//! `+idn` output: names whose labels are valid A-labels (`xn--…`) shown in
//! Unicode, as dig's `+idnout` does. Applied where a name is rendered (owner,
//! question, banner, names inside RDATA), never to other text: TXT data, the
//! banner's version and identity stay as they came.
//!
//! A label is shown in Unicode only when it is a valid IDNA label (UTS #46
//! non-transitional processing with the STD3 rules and hyphen checks, which
//! include IDNA2008's bidi and joiner rules), when its Unicode form converts
//! back to the same A-label, and when it holds nothing that could disguise
//! the text around it: no bidi controls (U+202E…), no line or paragraph
//! separators (U+2028/2029), no spaces or controls, and nothing that looks
//! like or maps to a full stop (U+3002, U+FF0E, U+FF61). Any other label is
//! shown as the A-label, escaped like every label. Pure.

use idna::uts46::{AsciiDenyList, DnsLength, Hyphens, Uts46};

use crate::dns::name::{write_label, write_name as write_ascii_name, Name};

/// Appends `name` in presentation form; with `idn`, each label that
/// [`unicode_label`] accepts is shown in Unicode.
pub fn write_name(out: &mut String, name: &Name, idn: bool) {
    if !idn || name.is_root() {
        write_ascii_name(out, name);
        return;
    }
    for label in name.labels() {
        match unicode_label(label) {
            Some(text) => out.push_str(&text),
            None => write_label(out, label),
        }
        out.push('.');
    }
}

/// The Unicode form of `label` if it is an A-label that is safe to show
/// (see the module documentation); None otherwise.
pub fn unicode_label(label: &[u8]) -> Option<String> {
    let prefix = label.get(..4)?;
    if !prefix.eq_ignore_ascii_case(b"xn--")
        || label.len() == 4
        || !label
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
    {
        return None;
    }
    let uts46 = Uts46::new();
    let (text, checked) = uts46.to_unicode(label, AsciiDenyList::STD3, Hyphens::Check);
    checked.ok()?;
    if text.is_empty() || text.chars().any(disguises) {
        return None;
    }
    let back = uts46
        .to_ascii(
            text.as_bytes(),
            AsciiDenyList::STD3,
            Hyphens::Check,
            DnsLength::Ignore,
        )
        .ok()?;
    back.as_bytes()
        .eq_ignore_ascii_case(label)
        .then(|| text.into_owned())
}

/// Characters never shown from an A-label, whatever the IDNA tables say:
/// they could make the line read differently from what it holds.
fn disguises(c: char) -> bool {
    c.is_control()
        || c.is_whitespace()
        || matches!(
            c,
            '.' | '\u{3002}' // ideographic full stop
                | '\u{FF0E}' // fullwidth full stop
                | '\u{FF61}' // halfwidth ideographic full stop
                | '\u{061C}' // Arabic letter mark
                | '\u{200E}'
                | '\u{200F}' // LRM, RLM
                | '\u{202A}'..='\u{202E}' // embeddings and overrides
                | '\u{2066}'..='\u{2069}' // isolates
                | '\u{2028}'
                | '\u{2029}' // line and paragraph separators
                | '\u{FFFD}' // the replacement character marks an error
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(text: &str) -> String {
        let name = Name::from_text(text).unwrap();
        let mut out = String::new();
        write_name(&mut out, &name, true);
        out
    }

    /// The A-label of one label given in Unicode, built with plain Punycode
    /// (no IDNA checks), as a hostile zone could hold it.
    fn raw_a_label(unicode: &str) -> String {
        format!("xn--{}", idna::punycode::encode_str(unicode).unwrap())
    }

    #[test]
    fn valid_a_labels_are_shown_in_unicode() {
        assert_eq!(shown("xn--bcher-kva.example."), "bücher.example.");
        assert_eq!(shown("www.xn--mnchen-3ya.de."), "www.münchen.de.");
        assert_eq!(shown("XN--BCHER-KVA.example."), "bücher.example.");
        assert_eq!(shown("plain.example."), "plain.example.");
        assert_eq!(shown("."), ".");
        let mut out = String::new();
        write_name(&mut out, &Name::from_text("xn--bcher-kva.").unwrap(), false);
        assert_eq!(out, "xn--bcher-kva.");
    }

    #[test]
    fn spoofing_a_labels_stay_a_labels() {
        for hostile in [
            "abc\u{202E}gnpexe",    // right-to-left override
            "line\u{2028}break",    // line separator
            "para\u{2029}graph",    // paragraph separator
            "paypal\u{FF0E}com",    // fullwidth full stop
            "bank\u{3002}com",      // ideographic full stop
            "evil\u{200F}",         // right-to-left mark
            "tab\u{0009}bed\u{e9}", // a control character
            "sp ace\u{e9}",         // a space
            "nb\u{00A0}sp\u{e9}",   // a no-break space
        ] {
            let label = raw_a_label(hostile);
            let name = Name::from_text(&format!("{label}.example.")).unwrap();
            let mut plain = String::new();
            write_ascii_name(&mut plain, &name);
            let mut out = String::new();
            write_name(&mut out, &name, true);
            assert_eq!(out, plain, "{hostile:?}");
            assert_eq!(unicode_label(label.as_bytes()), None, "{hostile:?}");
        }
    }

    #[test]
    fn labels_that_are_not_idna_stay_as_they_are() {
        for text in [
            "xn--.example.",
            "xn--!!.example.",
            "xn--a.example.",             // decodes to nothing valid
            "xn--BCHER-KVA-.example.",    // trailing hyphen
            "not-xn--bcher-kva.example.", // the prefix is not at the start
        ] {
            let name = Name::from_text(text).unwrap();
            let mut plain = String::new();
            write_ascii_name(&mut plain, &name);
            assert_eq!(shown(text), plain, "{text}");
        }
    }
}
