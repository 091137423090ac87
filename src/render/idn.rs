//! `+idn` output: A-labels (`xn--…`) in rendered text shown as Unicode, as
//! dig's `+idnout` does. Applied to finished text, like colour, so every
//! name (owner, question, RDATA) is treated the same. Only labels that
//! decode as Punycode change; the rest of the text is left as it is. Pure.

/// Appends `text` with its valid A-labels decoded.
pub fn to_unicode(out: &mut String, text: &str) {
    let bytes = text.as_bytes();
    let boundary = |b: u8| matches!(b, b'.' | b' ' | b'\t' | b';' | b'\n' | b'"');
    let mut i = 0;
    while i < bytes.len() {
        let at_label_start = i == 0 || boundary(bytes[i - 1]);
        if at_label_start && bytes.len() - i > 4 && bytes[i..i + 4].eq_ignore_ascii_case(b"xn--") {
            let end = bytes[i..]
                .iter()
                .position(|b| !(b.is_ascii_alphanumeric() || *b == b'-'))
                .map_or(bytes.len(), |n| i + n);
            let decoded = (end > i + 4)
                .then(|| idna::punycode::decode_to_string(&text[i + 4..end]))
                .flatten();
            if let Some(decoded) = decoded {
                if !decoded.is_empty() && !decoded.chars().any(char::is_control) {
                    out.push_str(&decoded);
                    i = end;
                    continue;
                }
            }
        }
        // Copy through the next boundary, where a label may start.
        let stop = bytes[i..]
            .iter()
            .position(|b| boundary(*b))
            .map_or(bytes.len(), |n| i + n + 1);
        out.push_str(&text[i..stop]);
        i = stop;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(text: &str) -> String {
        let mut out = String::new();
        to_unicode(&mut out, text);
        out
    }

    #[test]
    fn a_labels_are_decoded_everywhere_else_unchanged() {
        assert_eq!(
            conv("xn--bcher-kva.example.\t300\tIN\tCNAME\twww.xn--mnchen-3ya.de.\n"),
            "bücher.example.\t300\tIN\tCNAME\twww.münchen.de.\n"
        );
        assert_eq!(
            conv(";xn--bcher-kva.example.\t\tIN\tA\n"),
            ";bücher.example.\t\tIN\tA\n"
        );
        assert_eq!(
            conv("plain.example. nothing-xn--here\n"),
            "plain.example. nothing-xn--here\n"
        );
        assert_eq!(conv("xn--!!.example"), "xn--!!.example");
        assert_eq!(conv(""), "");
        assert_eq!(conv("xn--"), "xn--");
    }
}
