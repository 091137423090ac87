//! `--hex HEX...` and `--wire FILE`: DNS messages given by hand (hex,
//! base64 or raw bytes) rendered through the one printer, in every output
//! format. A message with QR=0 is shown as a query (as with `+qr`), one
//! with QR=1 as a response; a broken message gets the printer's
//! best-effort view (what parsed, a warning and a hex dump).

use std::io::{BufRead, Write};

use base64::Engine as _;
use bytes::Bytes;

use crate::error::{exits, Error};
use crate::pair::Item;
use crate::render::printer::Printer;
use crate::render::DisplayOpts;
use crate::tap::event::{Event, MessageType};

/// Largest message accepted by hand (a DNS message is at most 65535 bytes).
pub const MESSAGE_MAX: usize = 65_535;

/// Decodes one message given as text: hexadecimal (white space, `:` and a
/// leading `0x` ignored) or base64 (standard or URL-safe, padded or not).
pub fn decode_text(text: &str) -> Result<Vec<u8>, String> {
    let compact: String = text
        .trim()
        .trim_start_matches("0x")
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .collect();
    if compact.is_empty() {
        return Err("empty message".into());
    }
    let bytes = if compact.len().is_multiple_of(2) && compact.bytes().all(|b| b.is_ascii_hexdigit())
    {
        (0..compact.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&compact[i..i + 2], 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| "not hexadecimal".to_string())?
    } else {
        let engines = [
            &base64::engine::general_purpose::STANDARD,
            &base64::engine::general_purpose::STANDARD_NO_PAD,
            &base64::engine::general_purpose::URL_SAFE,
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ];
        engines
            .iter()
            .find_map(|e| e.decode(&compact).ok())
            .ok_or_else(|| "neither hexadecimal nor base64".to_string())?
    };
    if bytes.len() > MESSAGE_MAX {
        return Err(format!(
            "{} bytes: longer than any DNS message ({MESSAGE_MAX})",
            bytes.len()
        ));
    }
    Ok(bytes)
}

/// The item that shows `message`: a query (QR=0) or a response.
pub fn item_of(message: Vec<u8>) -> Item {
    let is_response = message.get(2).is_some_and(|b| b & 0x80 != 0);
    let bytes = Bytes::from(message);
    let event = Event {
        offset: None,
        identity: None,
        version: None,
        mtype: if is_response {
            MessageType::TOOL_RESPONSE
        } else {
            MessageType::TOOL_QUERY
        },
        family: None,
        protocol: None,
        http_protocol: None,
        query_addr: None,
        query_port: None,
        response_addr: None,
        response_port: None,
        connection: None,
        query_time: None,
        response_time: None,
        query_message: (!is_response).then(|| bytes.clone()),
        response_message: is_response.then_some(bytes),
        query_zone: None,
    };
    if is_response {
        Item::Response {
            event,
            query_time: None,
            query_seen: false,
        }
    } else {
        Item::Query(event)
    }
}

/// Renders `messages` (already decoded) with the printer.
pub fn render_messages(
    messages: impl IntoIterator<Item = Vec<u8>>,
    mut display: DisplayOpts,
    color: bool,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    // Queries given by hand are shown, as with +qr.
    display.qr = true;
    let mut printer = Printer::new(display, color, false);
    for m in messages {
        printer.show([item_of(m)], out)?;
    }
    printer.finish(out)
}

/// `--hex ARGS` (`-`: one message per line from `stdin`).
pub fn hex_args(
    args: &[String],
    stdin: &mut dyn BufRead,
    display: DisplayOpts,
    color: bool,
    out: &mut dyn Write,
) -> Result<u8, Error> {
    let mut texts: Vec<String> = Vec::new();
    for a in args {
        if a == "-" {
            for (n, line) in stdin.lines().enumerate() {
                let line = line.map_err(|e| Error::Config(format!("--hex -: stdin: {e}")))?;
                if line.trim().is_empty() || line.trim_start().starts_with('#') {
                    continue;
                }
                if texts.len() >= 1_000_000 {
                    return Err(Error::Config(format!(
                        "--hex -: line {}: more than a million messages",
                        n + 1
                    )));
                }
                texts.push(line);
            }
        } else {
            texts.push(a.clone());
        }
    }
    let mut messages = Vec::with_capacity(texts.len());
    for (i, t) in texts.iter().enumerate() {
        let m = decode_text(t).map_err(|e| {
            let shown: String = t.chars().take(40).collect();
            Error::Config(format!(
                "--hex: message {} ({}): {e}",
                i + 1,
                crate::render::escaped(shown.as_bytes())
            ))
        })?;
        messages.push(m);
    }
    render_messages(messages, display, color, out)?;
    Ok(exits::OK)
}

/// `--wire FILE`: the file's bytes are one message (`-`: stdin).
pub fn wire_file(
    path: &std::path::Path,
    display: DisplayOpts,
    color: bool,
    out: &mut dyn Write,
) -> Result<u8, Error> {
    use std::io::Read;
    let name = || crate::render::escaped(std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str()));
    let mut bytes = Vec::new();
    let limit = MESSAGE_MAX as u64 + 1;
    let read = if path.as_os_str() == "-" {
        std::io::stdin().take(limit).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(limit).read_to_end(&mut bytes))
    };
    read.map_err(|e| Error::Config(format!("--wire {}: {e}", name())))?;
    if bytes.len() > MESSAGE_MAX {
        return Err(Error::Config(format!(
            "--wire {}: longer than any DNS message ({MESSAGE_MAX} bytes)",
            name()
        )));
    }
    render_messages([bytes], display, color, out)?;
    Ok(exits::OK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Format;

    /// www.example.com A response with one answer.
    const RESPONSE: &str = "12348180000100010000000003777777076578616d706c6503636f6d0000010001c00c000100010000012c0004c0000201";

    fn render(msgs: Vec<Vec<u8>>, format: Option<Format>) -> String {
        let mut out = Vec::new();
        render_messages(
            msgs,
            DisplayOpts {
                format,
                ..DisplayOpts::default()
            },
            false,
            &mut out,
        )
        .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn hex_and_base64_decode_to_the_same_bytes() {
        let bytes = decode_text(RESPONSE).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
        assert_eq!(decode_text(&b64).unwrap(), bytes);
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes);
        assert_eq!(decode_text(&url).unwrap(), bytes);
        let spaced = format!(
            "0x{}",
            RESPONSE
                .as_bytes()
                .chunks(2)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect::<Vec<_>>()
                .join(" ")
        );
        assert_eq!(decode_text(&spaced).unwrap(), bytes);
        assert!(decode_text("").is_err());
        assert!(decode_text("!!!").is_err());
        assert!(decode_text(&"00".repeat(70_000)).is_err());
    }

    #[test]
    fn messages_render_in_every_format() {
        let bytes = decode_text(RESPONSE).unwrap();
        let text = render(vec![bytes.clone()], None);
        assert!(text.contains("status: NOERROR, id: 4660"), "{text}");
        assert!(
            text.contains("www.example.com.\t300\tIN\tA\t192.0.2.1"),
            "{text}"
        );
        for f in [Format::Json, Format::Jsonl, Format::Yaml] {
            let t = render(vec![bytes.clone()], Some(f));
            assert!(t.contains("192.0.2.1"), "{f:?}: {t}");
        }
        let v: serde_json::Value =
            serde_json::from_str(&render(vec![bytes], Some(Format::Json))).unwrap();
        assert!(v.is_array());
        // A query is shown too.
        let mut q = decode_text(RESPONSE).unwrap();
        q[2] = 1;
        q[3] = 0;
        q[7] = 0;
        q.truncate(33);
        let text = render(vec![q], None);
        assert!(text.contains("www.example.com."), "{text}");
    }

    #[test]
    fn broken_messages_get_the_best_effort_view() {
        let mut bytes = decode_text(RESPONSE).unwrap();
        bytes.truncate(bytes.len() - 3);
        let text = render(vec![bytes, vec![1, 2, 3]], None);
        assert!(text.contains("www.example.com."), "{text}");
        assert!(
            text.to_lowercase().contains("warning") || text.contains("malformed"),
            "{text}"
        );
    }
}
