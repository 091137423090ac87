//! Frame Streams framing, sans-IO: the [`Frame`] type, [`encode`] into a
//! `BytesMut`, and an incremental [`Decoder`] with explicit size limits.
//!
//! This module owns the wire layout of Frame Streams (farsightsec fstrm,
//! `fstrm/control.h`): big-endian `u32`s; a data frame is `len (> 0) ‖
//! payload`; a control frame is the escape `0` ‖ control length ‖ control
//! type ‖ fields, each field being type ‖ length ‖ bytes. It must not do any
//! I/O, read a clock, or know about dnstap records; stream-level rules (START
//! first, STOP last, content-type checks) belong to `tap::reader`.
//!
//! Decoding never allocates more than the limits allow: a control frame is at
//! most [`CONTROL_FRAME_LENGTH_MAX`] bytes, and a data frame longer than the
//! decoder's limit is reported as [`Decoded::Oversize`] after consuming only
//! its length field, so the caller can discard the payload in pieces.

use bytes::{Buf, BufMut, Bytes, BytesMut};

/// The Frame Streams content type of dnstap payloads.
pub const CONTENT_TYPE_DNSTAP: &[u8] = b"protobuf:dnstap.Dnstap";

/// Largest control frame payload (type and fields) accepted, in bytes
/// (fstrm `FSTRM_CONTROL_FRAME_LENGTH_MAX`; golang-framestream uses the same).
pub const CONTROL_FRAME_LENGTH_MAX: usize = 512;

/// Largest content-type field written by [`encode`], in bytes (fstrm
/// `FSTRM_CONTROL_FIELD_CONTENT_TYPE_LENGTH_MAX`).
pub const CONTENT_TYPE_LENGTH_MAX: usize = 256;

/// Default largest data frame payload, in bytes (fstrm
/// `FSTRM_READER_MAX_FRAME_SIZE_DEFAULT`, golang-framestream
/// `DEFAULT_MAX_PAYLOAD_SIZE`: 1 MiB).
pub const DEFAULT_MAX_DATA_FRAME: usize = 1 << 20;

/// The escape sequence (a zero "length") that introduces a control frame.
const ESCAPE: u32 = 0;

/// Control field type CONTENT_TYPE, the only field type Frame Streams defines.
const FIELD_CONTENT_TYPE: u32 = 1;

/// Control frame types (fstrm `enum fstrm_control_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ControlType {
    /// ACCEPT (1): the reader accepts the content types offered by READY
    /// (bidirectional streams only).
    Accept,
    /// START (2): a stream begins; carries at most one content type.
    Start,
    /// STOP (3): the stream ends.
    Stop,
    /// READY (4): a writer offers content types (bidirectional streams only).
    Ready,
    /// FINISH (5): the reader acknowledges STOP (bidirectional streams only).
    Finish,
    /// Any other control type value; readers must ignore these mid-stream.
    Unknown(u32),
}

impl ControlType {
    /// Maps a wire value to a control type.
    pub fn from_u32(value: u32) -> Self {
        match value {
            1 => ControlType::Accept,
            2 => ControlType::Start,
            3 => ControlType::Stop,
            4 => ControlType::Ready,
            5 => ControlType::Finish,
            other => ControlType::Unknown(other),
        }
    }

    /// The wire value of this control type.
    pub fn to_u32(self) -> u32 {
        match self {
            ControlType::Accept => 1,
            ControlType::Start => 2,
            ControlType::Stop => 3,
            ControlType::Ready => 4,
            ControlType::Finish => 5,
            ControlType::Unknown(other) => other,
        }
    }
}

impl std::fmt::Display for ControlType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ControlType::Accept => f.write_str("ACCEPT"),
            ControlType::Start => f.write_str("START"),
            ControlType::Stop => f.write_str("STOP"),
            ControlType::Ready => f.write_str("READY"),
            ControlType::Finish => f.write_str("FINISH"),
            ControlType::Unknown(v) => write!(f, "unknown control type {v}"),
        }
    }
}

/// A decoded control frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Control {
    /// The control type.
    pub kind: ControlType,
    /// The CONTENT_TYPE fields, in wire order (START has at most one; READY
    /// and ACCEPT may have several; STOP and FINISH none).
    pub content_types: Vec<Bytes>,
}

impl Control {
    /// A START frame announcing `content_type`.
    pub fn start(content_type: &[u8]) -> Self {
        Control {
            kind: ControlType::Start,
            content_types: vec![Bytes::copy_from_slice(content_type)],
        }
    }

    /// A STOP frame.
    pub fn stop() -> Self {
        Control {
            kind: ControlType::Stop,
            content_types: Vec::new(),
        }
    }
}

/// One Frame Streams frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A data frame's payload (never empty on the wire).
    Data(Bytes),
    /// A control frame.
    Control(Control),
}

/// What [`Decoder::decode`] produced from the front of the buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// A whole frame; its bytes have been removed from the buffer.
    Frame(Frame),
    /// A data frame whose payload length exceeds the decoder's limit. Only
    /// its 4-byte length field has been removed from the buffer; the caller
    /// must discard the next `len` bytes of the stream itself.
    Oversize {
        /// The payload length announced by the frame.
        len: u64,
    },
}

/// Errors of the Frame Streams codec. Each means the byte stream cannot be
/// resynchronised; a partial frame is never an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// A control frame announces more than [`CONTROL_FRAME_LENGTH_MAX`] bytes.
    #[error("control frame of {len} bytes is over the {max}-byte limit")]
    ControlTooLarge {
        /// The announced control frame length.
        len: u64,
        /// The limit.
        max: usize,
    },
    /// A control frame is too short to hold its 4-byte control type.
    #[error("control frame of {len} bytes is too short to hold a control type")]
    ControlTooShort {
        /// The announced control frame length.
        len: u32,
    },
    /// A control field header or value runs past the end of its control frame.
    #[error(
        "control field at byte {at} of the control frame needs {needed} bytes but only {available} remain"
    )]
    ControlFieldTruncated {
        /// Offset of the field within the control frame payload.
        at: usize,
        /// Bytes the field header or value needs.
        needed: u64,
        /// Bytes left in the control frame.
        available: usize,
    },
    /// An empty data frame cannot be encoded (its zero length is the escape).
    #[error("an empty data frame cannot be encoded")]
    EmptyData,
    /// A frame or field is too large to encode.
    #[error("{what} of {len} bytes is over the {max}-byte limit")]
    TooLargeToEncode {
        /// Which part is too large.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
}

/// Appends one data frame (`len ‖ payload`) to `out`.
///
/// Fails if the payload is empty (a zero length would be read as the control
/// escape) or longer than `u32::MAX`.
pub fn encode_data(payload: &[u8], out: &mut BytesMut) -> Result<(), FrameError> {
    if payload.is_empty() {
        return Err(FrameError::EmptyData);
    }
    let len = u32::try_from(payload.len()).map_err(|_| FrameError::TooLargeToEncode {
        what: "data frame",
        len: payload.len(),
        max: u32::MAX as usize,
    })?;
    out.reserve(4 + payload.len());
    out.put_u32(len);
    out.put_slice(payload);
    Ok(())
}

/// Appends one control frame (`0 ‖ len ‖ type ‖ fields`) to `out`.
///
/// Fails if a content type is longer than [`CONTENT_TYPE_LENGTH_MAX`] or the
/// whole control payload longer than [`CONTROL_FRAME_LENGTH_MAX`], so that
/// everything written is readable by fstrm and golang-framestream.
pub fn encode_control(control: &Control, out: &mut BytesMut) -> Result<(), FrameError> {
    let mut body_len = 4usize;
    for ct in &control.content_types {
        if ct.len() > CONTENT_TYPE_LENGTH_MAX {
            return Err(FrameError::TooLargeToEncode {
                what: "content type",
                len: ct.len(),
                max: CONTENT_TYPE_LENGTH_MAX,
            });
        }
        body_len += 8 + ct.len();
    }
    if body_len > CONTROL_FRAME_LENGTH_MAX {
        return Err(FrameError::TooLargeToEncode {
            what: "control frame",
            len: body_len,
            max: CONTROL_FRAME_LENGTH_MAX,
        });
    }
    // Both bounds above keep every length well inside u32.
    out.reserve(8 + body_len);
    out.put_u32(ESCAPE);
    out.put_u32(body_len as u32);
    out.put_u32(control.kind.to_u32());
    for ct in &control.content_types {
        out.put_u32(FIELD_CONTENT_TYPE);
        out.put_u32(ct.len() as u32);
        out.put_slice(ct);
    }
    Ok(())
}

/// Appends one frame to `out`, with exact lengths. A START with one content
/// type is `00000000 00000022 00000002 00000001 00000016
/// "protobuf:dnstap.Dnstap"`; a STOP is `00000000 00000004 00000003`.
///
/// On error nothing is appended.
pub fn encode(frame: &Frame, out: &mut BytesMut) -> Result<(), FrameError> {
    match frame {
        Frame::Data(payload) => encode_data(payload, out),
        Frame::Control(control) => encode_control(control, out),
    }
}

/// Reads a big-endian `u32` at `at`, if the slice is long enough.
fn be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let end = at.checked_add(4)?;
    let chunk: [u8; 4] = bytes.get(at..end)?.try_into().ok()?;
    Some(u32::from_be_bytes(chunk))
}

/// Parses a control frame payload (type ‖ fields). Unknown field types are
/// skipped; CONTENT_TYPE values are slices of `body`.
fn parse_control(body: Bytes) -> Result<Control, FrameError> {
    let Some(kind) = be_u32(&body, 0) else {
        return Err(FrameError::ControlTooShort {
            len: body.len() as u32,
        });
    };
    let mut content_types = Vec::new();
    let mut at = 4usize;
    while at < body.len() {
        let available = body.len() - at;
        let (Some(field_type), Some(field_len)) = (be_u32(&body, at), be_u32(&body, at + 4)) else {
            return Err(FrameError::ControlFieldTruncated {
                at,
                needed: 8,
                available,
            });
        };
        let value_len = field_len as usize;
        if value_len > available - 8 {
            return Err(FrameError::ControlFieldTruncated {
                at,
                needed: 8 + u64::from(field_len),
                available,
            });
        }
        let start = at + 8;
        if field_type == FIELD_CONTENT_TYPE {
            content_types.push(body.slice(start..start + value_len));
        }
        at = start + value_len;
    }
    Ok(Control {
        kind: ControlType::from_u32(kind),
        content_types,
    })
}

/// Incremental Frame Streams decoder over a caller-owned `BytesMut`.
#[derive(Debug, Clone)]
pub struct Decoder {
    max_data: usize,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(DEFAULT_MAX_DATA_FRAME)
    }
}

impl Decoder {
    /// A decoder accepting data frames of up to `max_data` payload bytes.
    pub fn new(max_data: usize) -> Self {
        Decoder { max_data }
    }

    /// The largest data frame payload this decoder returns whole.
    pub fn max_data(&self) -> usize {
        self.max_data
    }

    /// The total length (header included) of the frame at the front of
    /// `buf`, once enough of its header is present to know it: 4 bytes for a
    /// data frame's length, 8 for a control frame's. For an oversize data
    /// frame this is still the full length, which is what a truncation
    /// report needs.
    pub fn pending_frame_len(&self, buf: &[u8]) -> Option<u64> {
        let len = be_u32(buf, 0)?;
        if len != ESCAPE {
            return Some(4 + u64::from(len));
        }
        let ctrl_len = be_u32(buf, 4)?;
        Some(8 + u64::from(ctrl_len))
    }

    /// Decodes the frame at the front of `buf`.
    ///
    /// Returns `Ok(None)` (consuming nothing) until a whole frame is
    /// buffered; a partial frame is never an error. A decoded frame's bytes
    /// are removed from `buf` and a data payload is a zero-copy `Bytes` of
    /// them. A data frame longer than the limit consumes only its 4-byte
    /// length and yields [`Decoded::Oversize`]. Control frames larger than
    /// [`CONTROL_FRAME_LENGTH_MAX`], or malformed inside, are errors, and
    /// `buf` is then left untouched.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Decoded>, FrameError> {
        let Some(len) = be_u32(buf, 0) else {
            return Ok(None);
        };
        if len != ESCAPE {
            let len = len as usize;
            if len > self.max_data {
                buf.advance(4);
                return Ok(Some(Decoded::Oversize { len: len as u64 }));
            }
            if buf.len() - 4 < len {
                return Ok(None);
            }
            buf.advance(4);
            let payload = buf.split_to(len).freeze();
            return Ok(Some(Decoded::Frame(Frame::Data(payload))));
        }
        let Some(ctrl_len) = be_u32(buf, 4) else {
            return Ok(None);
        };
        if ctrl_len as usize > CONTROL_FRAME_LENGTH_MAX {
            return Err(FrameError::ControlTooLarge {
                len: u64::from(ctrl_len),
                max: CONTROL_FRAME_LENGTH_MAX,
            });
        }
        if ctrl_len < 4 {
            return Err(FrameError::ControlTooShort { len: ctrl_len });
        }
        let ctrl_len = ctrl_len as usize;
        let Some(body) = buf.get(8..8 + ctrl_len) else {
            return Ok(None);
        };
        // Parse a copy (at most 512 bytes) so a malformed frame leaves `buf`
        // intact.
        let control = parse_control(Bytes::copy_from_slice(body))?;
        buf.advance(8 + ctrl_len);
        Ok(Some(Decoded::Frame(Frame::Control(control))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(frame: &Frame) -> BytesMut {
        let mut out = BytesMut::new();
        encode(frame, &mut out).unwrap();
        out
    }

    fn decode_all(decoder: &mut Decoder, buf: &mut BytesMut) -> Vec<Decoded> {
        let mut out = Vec::new();
        while let Some(d) = decoder.decode(buf).unwrap() {
            out.push(d);
        }
        out
    }

    fn control(kind: ControlType, cts: &[&[u8]]) -> Frame {
        Frame::Control(Control {
            kind,
            content_types: cts.iter().map(|c| Bytes::copy_from_slice(c)).collect(),
        })
    }

    fn every_frame_kind() -> Vec<Frame> {
        let mut frames = vec![
            Frame::Data(Bytes::from_static(b"x")),
            Frame::Data(Bytes::from(vec![0xa5; 1000])),
            Frame::Data(Bytes::from(vec![0u8; 4])),
        ];
        for kind in [
            ControlType::Accept,
            ControlType::Start,
            ControlType::Stop,
            ControlType::Ready,
            ControlType::Finish,
            ControlType::Unknown(0),
            ControlType::Unknown(6),
            ControlType::Unknown(u32::MAX),
        ] {
            frames.push(control(kind, &[]));
            frames.push(control(kind, &[CONTENT_TYPE_DNSTAP]));
            frames.push(control(kind, &[b"a", b"", CONTENT_TYPE_DNSTAP]));
        }
        frames
    }

    #[test]
    fn start_frame_has_the_exact_documented_bytes() {
        let got = enc(&Frame::Control(Control::start(CONTENT_TYPE_DNSTAP)));
        let mut want = vec![
            0, 0, 0, 0, 0, 0, 0, 0x22, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0x16,
        ];
        want.extend_from_slice(b"protobuf:dnstap.Dnstap");
        assert_eq!(&got[..], &want[..]);
    }

    #[test]
    fn stop_frame_has_the_exact_documented_bytes() {
        let got = enc(&Frame::Control(Control::stop()));
        assert_eq!(&got[..], &[0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 3]);
    }

    #[test]
    fn data_frame_is_length_then_payload() {
        let got = enc(&Frame::Data(Bytes::from_static(b"abc")));
        assert_eq!(&got[..], b"\0\0\0\x03abc");
    }

    #[test]
    fn every_frame_kind_round_trips() {
        let mut decoder = Decoder::default();
        for frame in every_frame_kind() {
            let mut buf = enc(&frame);
            buf.extend_from_slice(b"tail");
            let got = decoder.decode(&mut buf).unwrap();
            assert_eq!(got, Some(Decoded::Frame(frame.clone())), "{frame:?}");
            assert_eq!(&buf[..], b"tail", "{frame:?} left wrong bytes");
        }
    }

    #[test]
    fn control_type_wire_values_round_trip() {
        for v in 0..10u32 {
            assert_eq!(ControlType::from_u32(v).to_u32(), v);
        }
        assert_eq!(ControlType::from_u32(2), ControlType::Start);
        assert_eq!(ControlType::from_u32(5), ControlType::Finish);
        assert_eq!(ControlType::from_u32(9), ControlType::Unknown(9));
    }

    #[test]
    fn decode_waits_at_every_truncation_point_of_a_stream() {
        let frames = every_frame_kind();
        let mut stream = BytesMut::new();
        for f in &frames {
            encode(f, &mut stream).unwrap();
        }
        let stream = stream.freeze();
        for cut in 0..stream.len() {
            let mut buf = BytesMut::from(&stream[..cut]);
            let mut decoder = Decoder::default();
            let got = decode_all(&mut decoder, &mut buf);
            // Only whole frames came out, in order, and the rest is waiting.
            assert!(got.len() < frames.len(), "cut {cut}");
            for (d, f) in got.iter().zip(&frames) {
                assert_eq!(d, &Decoded::Frame(f.clone()), "cut {cut}");
            }
            let mut rest = BytesMut::from(&stream[cut - buf.len()..]);
            let more = decode_all(&mut decoder, &mut rest);
            assert_eq!(got.len() + more.len(), frames.len(), "cut {cut}");
            assert!(rest.is_empty());
        }
    }

    #[test]
    fn decode_consumes_nothing_while_waiting() {
        let mut decoder = Decoder::default();
        let full = enc(&Frame::Control(Control::start(CONTENT_TYPE_DNSTAP)));
        for cut in 0..full.len() {
            let mut buf = BytesMut::from(&full[..cut]);
            assert_eq!(decoder.decode(&mut buf).unwrap(), None);
            assert_eq!(buf.len(), cut);
        }
    }

    #[test]
    fn oversize_data_frame_consumes_only_its_length() {
        let mut decoder = Decoder::new(8);
        let mut buf = BytesMut::from(&b"\0\0\0\x09123456789"[..]);
        assert_eq!(
            decoder.decode(&mut buf).unwrap(),
            Some(Decoded::Oversize { len: 9 })
        );
        assert_eq!(&buf[..], b"123456789");
        // Exactly at the limit is fine.
        let mut buf = BytesMut::from(&b"\0\0\0\x0812345678"[..]);
        assert_eq!(
            decoder.decode(&mut buf).unwrap(),
            Some(Decoded::Frame(Frame::Data(Bytes::from_static(b"12345678"))))
        );
    }

    #[test]
    fn max_length_data_frame_is_oversize_without_payload_present() {
        let mut decoder = Decoder::default();
        let mut buf = BytesMut::from(&[0xff, 0xff, 0xff, 0xff][..]);
        assert_eq!(
            decoder.decode(&mut buf).unwrap(),
            Some(Decoded::Oversize {
                len: u64::from(u32::MAX)
            })
        );
        assert!(buf.is_empty());
    }

    #[test]
    fn unlimited_decoder_waits_on_max_length_data_frame() {
        let mut decoder = Decoder::new(usize::MAX);
        let mut buf = BytesMut::from(&[0xff, 0xff, 0xff, 0xff, 1, 2, 3][..]);
        assert_eq!(decoder.decode(&mut buf).unwrap(), None);
        assert_eq!(buf.len(), 7);
        assert_eq!(
            decoder.pending_frame_len(&buf),
            Some(4 + u64::from(u32::MAX))
        );
    }

    #[test]
    fn oversize_control_frame_is_an_error() {
        let mut decoder = Decoder::default();
        let mut buf = BytesMut::new();
        buf.put_u32(0);
        buf.put_u32(CONTROL_FRAME_LENGTH_MAX as u32 + 1);
        assert_eq!(
            decoder.decode(&mut buf),
            Err(FrameError::ControlTooLarge {
                len: 513,
                max: CONTROL_FRAME_LENGTH_MAX
            })
        );
        assert_eq!(buf.len(), 8, "an error leaves the buffer untouched");
        let mut buf = BytesMut::from(&[0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff][..]);
        assert!(matches!(
            decoder.decode(&mut buf),
            Err(FrameError::ControlTooLarge {
                len: 0xffff_ffff,
                ..
            })
        ));
    }

    #[test]
    fn control_frame_at_the_limit_is_accepted() {
        let ct = vec![b'x'; CONTROL_FRAME_LENGTH_MAX - 12];
        let mut buf = BytesMut::new();
        buf.put_u32(0);
        buf.put_u32(CONTROL_FRAME_LENGTH_MAX as u32);
        buf.put_u32(4);
        buf.put_u32(1);
        buf.put_u32(ct.len() as u32);
        buf.put_slice(&ct);
        let got = Decoder::default().decode(&mut buf).unwrap();
        let Some(Decoded::Frame(Frame::Control(c))) = got else {
            panic!("{got:?}")
        };
        assert_eq!(c.kind, ControlType::Ready);
        assert_eq!(c.content_types, vec![Bytes::from(ct)]);
    }

    #[test]
    fn control_frame_too_short_for_its_type_is_an_error() {
        for len in 0..4u32 {
            let mut buf = BytesMut::new();
            buf.put_u32(0);
            buf.put_u32(len);
            buf.put_slice(&[0; 8]);
            assert_eq!(
                Decoder::default().decode(&mut buf),
                Err(FrameError::ControlTooShort { len })
            );
        }
    }

    #[test]
    fn control_field_running_past_its_frame_is_an_error() {
        // Field header cut short: 4 bytes of type, then only 2 bytes.
        let mut buf = BytesMut::new();
        buf.put_u32(0);
        buf.put_u32(10);
        buf.put_u32(2);
        buf.put_u32(1);
        buf.put_u16(0);
        assert!(matches!(
            Decoder::default().decode(&mut buf),
            Err(FrameError::ControlFieldTruncated {
                at: 4,
                needed: 8,
                available: 6
            })
        ));
        // Field value longer than the frame.
        for field_len in [5u32, 0xffff_ffff] {
            let mut buf = BytesMut::new();
            buf.put_u32(0);
            buf.put_u32(16);
            buf.put_u32(2);
            buf.put_u32(1);
            buf.put_u32(field_len);
            buf.put_u32(0);
            assert!(
                matches!(
                    Decoder::default().decode(&mut buf),
                    Err(FrameError::ControlFieldTruncated {
                        at: 4,
                        available: 12,
                        ..
                    })
                ),
                "field_len {field_len}"
            );
        }
    }

    #[test]
    fn unknown_control_fields_are_skipped() {
        let mut buf = BytesMut::new();
        buf.put_u32(0);
        buf.put_u32(4 + 8 + 3 + 8 + 2);
        buf.put_u32(2);
        buf.put_u32(77);
        buf.put_u32(3);
        buf.put_slice(b"zzz");
        buf.put_u32(1);
        buf.put_u32(2);
        buf.put_slice(b"ct");
        let got = Decoder::default().decode(&mut buf).unwrap();
        assert_eq!(
            got,
            Some(Decoded::Frame(Frame::Control(Control {
                kind: ControlType::Start,
                content_types: vec![Bytes::from_static(b"ct")],
            })))
        );
    }

    #[test]
    fn garbage_control_types_decode_as_unknown() {
        for kind in [0u32, 6, 0x1234_5678, u32::MAX] {
            let mut buf = BytesMut::new();
            buf.put_u32(0);
            buf.put_u32(4);
            buf.put_u32(kind);
            let got = Decoder::default().decode(&mut buf).unwrap();
            let want = Frame::Control(Control {
                kind: ControlType::Unknown(kind),
                content_types: vec![],
            });
            assert_eq!(got, Some(Decoded::Frame(want)), "kind {kind}");
        }
    }

    #[test]
    fn encode_refuses_what_readers_would_reject() {
        let mut out = BytesMut::new();
        assert_eq!(
            encode(&Frame::Data(Bytes::new()), &mut out),
            Err(FrameError::EmptyData)
        );
        let long_ct = vec![b'c'; CONTENT_TYPE_LENGTH_MAX + 1];
        assert!(matches!(
            encode(&Frame::Control(Control::start(&long_ct)), &mut out),
            Err(FrameError::TooLargeToEncode {
                what: "content type",
                ..
            })
        ));
        let many: Vec<&[u8]> = vec![&[b'c'; 200]; 3];
        assert!(matches!(
            encode(&control(ControlType::Ready, &many), &mut out),
            Err(FrameError::TooLargeToEncode {
                what: "control frame",
                ..
            })
        ));
        assert!(out.is_empty(), "failed encodes append nothing");
    }

    #[test]
    fn pending_frame_len_reports_whole_frame_sizes() {
        let d = Decoder::default();
        assert_eq!(d.pending_frame_len(&[0, 0, 0]), None);
        assert_eq!(d.pending_frame_len(&[0, 0, 1, 0]), Some(260));
        assert_eq!(d.pending_frame_len(&[0, 0, 0, 0, 0, 0]), None);
        assert_eq!(d.pending_frame_len(&[0, 0, 0, 0, 0, 0, 0, 4]), Some(12));
    }
}
