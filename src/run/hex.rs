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

/// Longest line `--hex -` reads: a largest message in hex with a separator
/// after every byte (`aa:bb:...`) fits; a line that never ends (`< /dev/zero`)
/// is refused instead of filling memory.
pub const LINE_MAX: usize = 4 * MESSAGE_MAX;

/// `--hex ARGS` (`-`: one message per line from `stdin`). Each message is
/// shown as soon as it is decoded, so memory stays bounded whatever stdin
/// holds; the first bad one ends the run (after what came before it, with
/// the JSON array closed).
pub fn hex_args(
    args: &[String],
    stdin: &mut dyn BufRead,
    mut display: DisplayOpts,
    color: bool,
    out: &mut dyn Write,
) -> Result<u8, Error> {
    // Queries given by hand are shown, as with +qr.
    display.qr = true;
    let mut printer = Printer::new(display, color, false);
    let mut shown = 0usize;
    let mut show = |text: &str, out: &mut dyn Write| -> Result<(), Error> {
        shown += 1;
        let m = decode_text(text).map_err(|e| {
            let head: String = text.chars().take(40).collect();
            Error::Config(format!(
                "--hex: message {shown} ({}): {e}",
                crate::render::escaped(head.as_bytes())
            ))
        })?;
        printer.show([item_of(m)], out)?;
        Ok(())
    };
    let mut all = || -> Result<(), Error> {
        for a in args {
            if a != "-" {
                show(a, out)?;
                continue;
            }
            let mut n = 0usize;
            while let Some(line) = next_line(stdin, &mut n)? {
                if line.trim().is_empty() || line.trim_start().starts_with('#') {
                    continue;
                }
                show(&line, out)?;
            }
        }
        Ok(())
    };
    let result = all();
    // Close what was shown (the JSON array) before reporting an error.
    printer.finish(out)?;
    result.map(|()| exits::OK)
}

/// The next line of `--hex -` (line `n`, counted from 1), at most
/// [`LINE_MAX`] bytes of UTF-8; None at the end of stdin.
fn next_line(stdin: &mut dyn BufRead, n: &mut usize) -> Result<Option<String>, Error> {
    use std::io::Read as _;
    *n += 1;
    let mut line = Vec::new();
    let read = stdin
        .take(LINE_MAX as u64 + 1)
        .read_until(b'\n', &mut line)
        .map_err(|e| Error::Config(format!("--hex -: stdin: {e}")))?;
    if read == 0 {
        return Ok(None);
    }
    if line.last() == Some(&b'\n') {
        line.pop();
    } else if line.len() > LINE_MAX {
        return Err(Error::Config(format!(
            "--hex -: line {n}: longer than {LINE_MAX} bytes"
        )));
    }
    String::from_utf8(line)
        .map(Some)
        .map_err(|_| Error::Config(format!("--hex -: line {n}: not UTF-8 text")))
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

    #[test]
    fn a_stdin_line_that_never_ends_is_refused_without_reading_it_all() {
        // Ten MiB of hex digits and no newline (like `--hex - < /dev/zero`
        // piped through tr): refused after LINE_MAX bytes, not slurped.
        let mut stdin = std::io::Cursor::new(vec![b'a'; 10 << 20]);
        let mut out = Vec::new();
        let e = hex_args(
            &["-".to_owned()],
            &mut stdin,
            DisplayOpts::default(),
            false,
            &mut out,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("--hex -: line 1: longer than {LINE_MAX} bytes")
        );
        assert!(
            stdin.position() <= LINE_MAX as u64 + 1,
            "{}",
            stdin.position()
        );
    }

    #[test]
    fn stdin_messages_are_shown_as_they_come_and_a_bad_one_ends_the_json() {
        let input = format!("{RESPONSE}\r\n\n# note\n{RESPONSE}\nzz\n{RESPONSE}\n");
        let mut stdin = std::io::Cursor::new(input.into_bytes());
        let mut out = Vec::new();
        let display = DisplayOpts {
            format: Some(Format::Json),
            ..DisplayOpts::default()
        };
        let e = hex_args(&["-".to_owned()], &mut stdin, display, false, &mut out).unwrap_err();
        assert_eq!(
            e.to_string(),
            "--hex: message 3 (zz): neither hexadecimal nor base64"
        );
        // The two good messages before it, in a closed JSON array.
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v.as_array().map(Vec::len), Some(2));
    }
}
