//! A direct decoder for `dnstap.Dnstap` records, for the `--read` hot path.
//!
//! prost's generated decoder builds the whole `pb::Dnstap` tree first: a
//! reference-counted `Bytes` per bytes field (addresses included), then a
//! conversion into an [`Event`](super::event::Event). On a server capture
//! that was a third of the reading thread's time. This decoder walks the
//! protobuf wire format once and returns where each field lies in the
//! payload ([`Span`]s) and the scalar values, so the caller makes one
//! `Bytes` per field it keeps and none for the addresses.
//!
//! It accepts and rejects exactly what prost's decoder of `pb::Dnstap`
//! does (a test compares the two on random and mutated records): unknown
//! fields and groups are skipped, a known field with the wrong wire type
//! is an error, a later value of a field replaces an earlier one, a second
//! `message` is merged into the first, and `policy` is checked as prost
//! checks it (its `type` must be UTF-8). Pure; never panics.

use std::ops::Range;

/// Nesting prost allows (its recursion limit): sub-messages and groups.
const RECURSION_LIMIT: u32 = 100;

/// Where a bytes field lies in the payload.
pub type Span = Range<usize>;

/// Why a payload is not a `dnstap.Dnstap` record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A varint longer than 10 bytes, overflowing 64 bits, or cut short.
    #[error("invalid varint")]
    Varint,
    /// A field key that is not a valid tag and wire type.
    #[error("invalid field key")]
    Key,
    /// A field or length that runs past the end of its message.
    #[error("field runs past the end of the message")]
    Underflow,
    /// A known field with a wire type its schema type cannot have.
    #[error("field {tag} has wire type {got}, expected {expected}")]
    WireType {
        /// The field number.
        tag: u32,
        /// The wire type found.
        got: u8,
        /// The wire type of the schema's type.
        expected: u8,
    },
    /// An end-group key without its start, or for another group.
    #[error("unexpected end of group")]
    EndGroup,
    /// Groups or messages nested deeper than the recursion limit.
    #[error("nested too deep")]
    TooDeep,
    /// `Policy.type` is not UTF-8.
    #[error("policy type is not UTF-8")]
    Utf8,
}

/// The fields of a `dnstap.Message` as decoded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawMessage {
    /// `type` (when absent, the proto2 default: the first value, 1).
    pub mtype: i32,
    /// `socket_family`.
    pub socket_family: Option<i32>,
    /// `socket_protocol`.
    pub socket_protocol: Option<i32>,
    /// `query_address`.
    pub query_address: Option<Span>,
    /// `response_address`.
    pub response_address: Option<Span>,
    /// `query_port`.
    pub query_port: Option<u32>,
    /// `response_port`.
    pub response_port: Option<u32>,
    /// `query_time_sec`.
    pub query_time_sec: Option<u64>,
    /// `query_time_nsec`.
    pub query_time_nsec: Option<u32>,
    /// `query_message`.
    pub query_message: Option<Span>,
    /// `query_zone`: the zone a resolver's query was sent for (wire form).
    pub query_zone: Option<Span>,
    /// `response_time_sec`.
    pub response_time_sec: Option<u64>,
    /// `response_time_nsec`.
    pub response_time_nsec: Option<u32>,
    /// `response_message`.
    pub response_message: Option<Span>,
    /// `http_protocol`.
    pub http_protocol: Option<i32>,
}

/// The fields of a `dnstap.Dnstap` envelope as decoded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawDnstap {
    /// `identity`.
    pub identity: Option<Span>,
    /// `version`.
    pub version: Option<Span>,
    /// `type` (when absent, the proto2 default: MESSAGE, 1).
    pub dtype: i32,
    /// `message`, if present.
    pub message: Option<RawMessage>,
}

const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LEN: u8 = 2;
const START_GROUP: u8 = 3;
const END_GROUP: u8 = 4;
const FIXED32: u8 = 5;

/// A cursor over one message's bytes within the payload: `buf` holds just
/// the message, which starts at `base` in the payload.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Cursor<'a> {
    fn done(&self) -> bool {
        self.pos >= self.buf.len()
    }

    #[inline]
    fn varint(&mut self) -> Result<u64, DecodeError> {
        match self.buf.get(self.pos) {
            Some(&b) if b < 0x80 => {
                self.pos += 1;
                Ok(u64::from(b))
            }
            _ => self.varint_long(),
        }
    }

    fn varint_long(&mut self) -> Result<u64, DecodeError> {
        let mut value = 0u64;
        for i in 0..10 {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(DecodeError::Varint);
            };
            self.pos += 1;
            if i == 9 && b >= 0x02 {
                return Err(DecodeError::Varint);
            }
            value |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Ok(value);
            }
        }
        Err(DecodeError::Varint)
    }

    /// The next key: field number and wire type.
    fn key(&mut self) -> Result<(u32, u8), DecodeError> {
        let key = self.varint()?;
        let key = u32::try_from(key).map_err(|_| DecodeError::Key)?;
        let wire = (key & 7) as u8;
        if wire > FIXED32 || key >> 3 == 0 {
            return Err(DecodeError::Key);
        }
        Ok((key >> 3, wire))
    }

    /// The next `n` bytes, as a span of the payload.
    #[inline]
    fn take(&mut self, n: u64) -> Result<Span, DecodeError> {
        let rest = self.buf.len() - self.pos;
        if n > rest as u64 {
            return Err(DecodeError::Underflow);
        }
        let start = self.base + self.pos;
        self.pos += n as usize;
        Ok(start..start + n as usize)
    }

    fn len_delimited(&mut self) -> Result<Span, DecodeError> {
        let n = self.varint()?;
        self.take(n)
    }

    fn fixed32(&mut self) -> Result<u32, DecodeError> {
        let Some(b) = self.buf.get(self.pos..self.pos + 4) else {
            return Err(DecodeError::Underflow);
        };
        self.pos += 4;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Skips the value of an unknown field (a whole group for a start key).
    fn skip(&mut self, tag: u32, wire: u8, depth: u32) -> Result<(), DecodeError> {
        if depth == 0 {
            return Err(DecodeError::TooDeep);
        }
        match wire {
            VARINT => self.varint().map(|_| ()),
            FIXED64 => self.take(8).map(|_| ()),
            LEN => self.len_delimited().map(|_| ()),
            FIXED32 => self.take(4).map(|_| ()),
            START_GROUP => loop {
                let (inner, inner_wire) = self.key()?;
                if inner_wire == END_GROUP {
                    if inner != tag {
                        return Err(DecodeError::EndGroup);
                    }
                    return Ok(());
                }
                self.skip(inner, inner_wire, depth - 1)?;
            },
            _ => Err(DecodeError::EndGroup),
        }
    }

    /// The bytes of a span of the payload that lies in this message.
    fn bytes(&self, span: &Span) -> &'a [u8] {
        &self.buf[span.start - self.base..span.end - self.base]
    }
}

impl<'a> Cursor<'a> {
    /// Checks that a known field has the wire type its schema type needs.
    fn check_wire(tag: u32, got: u8, expected: u8) -> Result<(), DecodeError> {
        if got == expected {
            Ok(())
        } else {
            Err(DecodeError::WireType { tag, got, expected })
        }
    }

    /// A varint field's value (a schema integer type or enum).
    fn varint_field(&mut self, tag: u32, wire: u8) -> Result<u64, DecodeError> {
        Self::check_wire(tag, wire, VARINT)?;
        self.varint()
    }

    /// A `fixed32` field's value.
    fn fixed32_field(&mut self, tag: u32, wire: u8) -> Result<u32, DecodeError> {
        Self::check_wire(tag, wire, FIXED32)?;
        self.fixed32()
    }

    /// Where a bytes, string or message field's value lies.
    fn len_field(&mut self, tag: u32, wire: u8) -> Result<Span, DecodeError> {
        Self::check_wire(tag, wire, LEN)?;
        self.len_delimited()
    }

    /// A cursor over a nested message at `span` (a span of this message,
    /// from [`Cursor::len_field`]).
    fn within(&self, span: Span) -> Cursor<'a> {
        Cursor {
            buf: self.bytes(&span),
            pos: 0,
            base: span.start,
        }
    }
}

/// Decodes one `dnstap.Dnstap` payload.
///
/// Writers put the fields in field-number order, each once; that common
/// layout is read in a straight line ([`decode_in_order`]), anything else
/// by the general loop. On this machine's kind the general loop's
/// multi-way branch on every key cost more than all the rest.
pub fn decode(payload: &[u8]) -> Result<RawDnstap, DecodeError> {
    match decode_in_order(payload) {
        Some(raw) => Ok(raw),
        None => decode_any_order(payload),
    }
}

impl Cursor<'_> {
    /// Consumes the one-byte key `key` if it comes next.
    #[inline]
    fn next_is(&mut self, key: u8) -> bool {
        if self.buf.get(self.pos) == Some(&key) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
}

/// The fields of `payload` when they come in field-number order, each at
/// most once, and are all valid; None otherwise (the caller then uses the
/// general decoder, which gives the same result for what this accepts).
fn decode_in_order(payload: &[u8]) -> Option<RawDnstap> {
    let mut c = Cursor {
        buf: payload,
        pos: 0,
        base: 0,
    };
    let mut out = RawDnstap {
        dtype: 1,
        ..RawDnstap::default()
    };
    if c.next_is(1 << 3 | LEN) {
        out.identity = Some(c.len_delimited().ok()?);
    }
    if c.next_is(2 << 3 | LEN) {
        out.version = Some(c.len_delimited().ok()?);
    }
    if c.next_is(3 << 3 | LEN) {
        c.len_delimited().ok()?;
    }
    if c.next_is(14 << 3 | LEN) {
        let span = c.len_delimited().ok()?;
        let mut inner = c.within(span);
        out.message = Some(message_in_order(&mut inner)?);
    }
    if c.next_is(15 << 3 | VARINT) {
        out.dtype = c.varint().ok()? as i32;
    }
    c.done().then_some(out)
}

/// [`decode_in_order`] for the `Message`.
fn message_in_order(c: &mut Cursor<'_>) -> Option<RawMessage> {
    let mut m = RawMessage {
        mtype: 1,
        ..RawMessage::default()
    };
    let int = |c: &mut Cursor<'_>| c.varint().ok().map(|v| v as i32);
    let span = |c: &mut Cursor<'_>| c.len_delimited().ok();
    if c.next_is(1 << 3 | VARINT) {
        m.mtype = int(c)?;
    }
    if c.next_is(2 << 3 | VARINT) {
        m.socket_family = Some(int(c)?);
    }
    if c.next_is(3 << 3 | VARINT) {
        m.socket_protocol = Some(int(c)?);
    }
    if c.next_is(4 << 3 | LEN) {
        m.query_address = Some(span(c)?);
    }
    if c.next_is(5 << 3 | LEN) {
        m.response_address = Some(span(c)?);
    }
    if c.next_is(6 << 3 | VARINT) {
        m.query_port = Some(c.varint().ok()? as u32);
    }
    if c.next_is(7 << 3 | VARINT) {
        m.response_port = Some(c.varint().ok()? as u32);
    }
    if c.next_is(8 << 3 | VARINT) {
        m.query_time_sec = Some(c.varint().ok()?);
    }
    if c.next_is(9 << 3 | FIXED32) {
        m.query_time_nsec = Some(c.fixed32().ok()?);
    }
    if c.next_is(10 << 3 | LEN) {
        m.query_message = Some(span(c)?);
    }
    if c.next_is(11 << 3 | LEN) {
        m.query_zone = Some(span(c)?);
    }
    if c.next_is(12 << 3 | VARINT) {
        m.response_time_sec = Some(c.varint().ok()?);
    }
    if c.next_is(13 << 3 | FIXED32) {
        m.response_time_nsec = Some(c.fixed32().ok()?);
    }
    if c.next_is(14 << 3 | LEN) {
        m.response_message = Some(span(c)?);
    }
    if c.next_is(15 << 3 | LEN) {
        return None;
    }
    // Field 16 has a two-byte key: 0x80 0x01.
    if c.buf.get(c.pos..c.pos + 2) == Some(&[0x80, 0x01][..]) {
        c.pos += 2;
        m.http_protocol = Some(int(c)?);
    }
    c.done().then_some(m)
}

/// [`decode`] for fields in any order, repeated, unknown or malformed.
fn decode_any_order(payload: &[u8]) -> Result<RawDnstap, DecodeError> {
    let mut c = Cursor {
        buf: payload,
        pos: 0,
        base: 0,
    };
    let mut out = RawDnstap {
        dtype: 1,
        ..RawDnstap::default()
    };
    while !c.done() {
        let (tag, wire) = c.key()?;
        match tag {
            1 => out.identity = Some(c.len_field(tag, wire)?),
            2 => out.version = Some(c.len_field(tag, wire)?),
            3 => {
                c.len_field(tag, wire)?;
            }
            14 => {
                let span = c.len_field(tag, wire)?;
                let mut inner = c.within(span);
                let message = out.message.get_or_insert_with(|| RawMessage {
                    mtype: 1,
                    ..RawMessage::default()
                });
                decode_message(&mut inner, message, RECURSION_LIMIT - 1)?;
            }
            15 => out.dtype = c.varint_field(tag, wire)? as i32,
            _ => c.skip(tag, wire, RECURSION_LIMIT)?,
        }
    }
    Ok(out)
}

/// Decodes (merges) a `dnstap.Message` into `m`.
fn decode_message(c: &mut Cursor<'_>, m: &mut RawMessage, depth: u32) -> Result<(), DecodeError> {
    while !c.done() {
        let (tag, wire) = c.key()?;
        match tag {
            1 => m.mtype = c.varint_field(tag, wire)? as i32,
            2 => m.socket_family = Some(c.varint_field(tag, wire)? as i32),
            3 => m.socket_protocol = Some(c.varint_field(tag, wire)? as i32),
            4 => m.query_address = Some(c.len_field(tag, wire)?),
            5 => m.response_address = Some(c.len_field(tag, wire)?),
            6 => m.query_port = Some(c.varint_field(tag, wire)? as u32),
            7 => m.response_port = Some(c.varint_field(tag, wire)? as u32),
            8 => m.query_time_sec = Some(c.varint_field(tag, wire)?),
            9 => m.query_time_nsec = Some(c.fixed32_field(tag, wire)?),
            10 => m.query_message = Some(c.len_field(tag, wire)?),
            11 => m.query_zone = Some(c.len_field(tag, wire)?),
            12 => m.response_time_sec = Some(c.varint_field(tag, wire)?),
            13 => m.response_time_nsec = Some(c.fixed32_field(tag, wire)?),
            14 => m.response_message = Some(c.len_field(tag, wire)?),
            15 => {
                let span = c.len_field(tag, wire)?;
                if depth == 0 {
                    return Err(DecodeError::TooDeep);
                }
                check_policy(&mut c.within(span), depth - 1)?;
            }
            16 => m.http_protocol = Some(c.varint_field(tag, wire)? as i32),
            _ => c.skip(tag, wire, depth)?,
        }
    }
    Ok(())
}

/// Checks a `dnstap.Policy` as prost decodes it (its values are not kept).
fn check_policy(c: &mut Cursor<'_>, depth: u32) -> Result<(), DecodeError> {
    while !c.done() {
        let (tag, wire) = c.key()?;
        match tag {
            1 => {
                let span = c.len_field(tag, wire)?;
                if std::str::from_utf8(c.bytes(&span)).is_err() {
                    return Err(DecodeError::Utf8);
                }
            }
            2 | 5 => {
                c.len_field(tag, wire)?;
            }
            3 | 4 => {
                c.varint_field(tag, wire)?;
            }
            _ => c.skip(tag, wire, depth)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tap::pb;
    use bytes::Bytes;
    use prost::Message as _;

    fn full() -> pb::Dnstap {
        pb::Dnstap {
            identity: Some(Bytes::from_static(b"ns1")),
            version: Some(Bytes::from_static(b"v")),
            extra: Some(Bytes::from_static(b"x")),
            r#type: 1,
            message: Some(pb::Message {
                r#type: 6,
                socket_family: Some(2),
                socket_protocol: Some(7),
                query_address: Some(Bytes::from(vec![1; 16])),
                response_address: Some(Bytes::from(vec![2; 16])),
                query_port: Some(53000),
                response_port: Some(853),
                query_time_sec: Some(1_700_000_000),
                query_time_nsec: Some(999_999_999),
                query_message: Some(Bytes::from_static(b"\x12\x34query")),
                query_zone: Some(Bytes::from_static(b"\x00")),
                response_time_sec: Some(u64::MAX),
                response_time_nsec: Some(u32::MAX),
                response_message: Some(Bytes::from_static(b"\x12\x34resp")),
                policy: Some(pb::Policy {
                    r#type: Some("rpz".into()),
                    rule: Some(Bytes::from_static(b"r")),
                    action: Some(1),
                    r#match: Some(2),
                    value: Some(Bytes::from_static(b"v")),
                }),
                http_protocol: Some(2),
            }),
        }
    }

    #[test]
    fn every_field_is_found() {
        let payload = full().encode_to_vec();
        let raw = decode(&payload).unwrap();
        let at = |s: &Option<Span>| &payload[s.clone().unwrap()];
        assert_eq!(at(&raw.identity), b"ns1");
        assert_eq!(at(&raw.version), b"v");
        assert_eq!(raw.dtype, 1);
        let m = raw.message.unwrap();
        assert_eq!(m.mtype, 6);
        assert_eq!(m.socket_family, Some(2));
        assert_eq!(m.socket_protocol, Some(7));
        assert_eq!(at(&m.query_address), &[1; 16]);
        assert_eq!(at(&m.response_address), &[2; 16]);
        assert_eq!((m.query_port, m.response_port), (Some(53000), Some(853)));
        assert_eq!(m.query_time_sec, Some(1_700_000_000));
        assert_eq!(m.query_time_nsec, Some(999_999_999));
        assert_eq!(m.response_time_sec, Some(u64::MAX));
        assert_eq!(m.response_time_nsec, Some(u32::MAX));
        assert_eq!(at(&m.query_message), b"\x12\x34query");
        assert_eq!(at(&m.response_message), b"\x12\x34resp");
        assert_eq!(m.http_protocol, Some(2));
    }

    #[test]
    fn later_values_win_and_messages_merge() {
        let mut first = full();
        first.message.as_mut().unwrap().response_port = None;
        let second = pb::Dnstap {
            identity: Some(Bytes::from_static(b"ns2")),
            r#type: 1,
            message: Some(pb::Message {
                r#type: 2,
                response_port: Some(5353),
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut payload = first.encode_to_vec();
        payload.extend(second.encode_to_vec());
        let raw = decode(&payload).unwrap();
        let prost = pb::Dnstap::decode(&payload[..]).unwrap();
        assert_eq!(&payload[raw.identity.unwrap()], b"ns2");
        let m = raw.message.unwrap();
        let p = prost.message.unwrap();
        // type 2 of the second message; the first message's other fields stay.
        assert_eq!((m.mtype, p.r#type), (2, 2));
        assert_eq!((m.response_port, p.response_port), (Some(5353), Some(5353)));
        assert_eq!(m.query_port, p.query_port);
    }

    #[test]
    fn malformed_payloads_are_errors_as_with_prost() {
        let cases: &[&[u8]] = &[
            b"\x0a\x05abc",                                  // identity longer than the payload
            b"\x08\x01",                                     // identity as a varint
            b"\x78\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", // 10-byte varint overflowing
            b"\x00",                                         // tag 0
            b"\x0f",                                         // wire type 7
            b"\x1b\x0c",                                     // a group ended by another tag
            b"\x1c",                                         // an end group alone
            b"\x72\x02\x4d\x01",                             // nsec cut short inside the message
            b"\x72\x03\x7a\x01\xff",                         // policy whose type is not UTF-8
            b"\x72\x01\x0a",                                 // message field key then nothing
        ];
        for case in cases {
            assert!(decode(case).is_err(), "{case:02x?} decoded");
            assert!(pb::Dnstap::decode(*case).is_err(), "prost took {case:02x?}");
        }
        // Unknown fields of every wire type, and a group, are skipped.
        let ok: &[u8] = b"\x20\x05\x29\x01\x02\x03\x04\x05\x06\x07\x08\x2d\x01\x02\x03\x04\x32\x00\x33\x20\x01\x34\x78\x01";
        assert!(pb::Dnstap::decode(ok).is_ok());
        assert_eq!(decode(ok).unwrap().dtype, 1);
    }

    #[test]
    fn the_straight_line_agrees_with_the_general_loop() {
        // Records in field order (as prost writes them), then each with one
        // byte changed: where the straight line takes one, it finds what
        // the general loop finds.
        let mut sample = full();
        let mut payloads = vec![sample.encode_to_vec()];
        sample.message.as_mut().unwrap().policy = None;
        payloads.push(sample.encode_to_vec());
        sample.extra = None;
        sample.message.as_mut().unwrap().http_protocol = None;
        payloads.push(sample.encode_to_vec());
        payloads.push(pb::Dnstap::default().encode_to_vec());
        let mut taken = 0;
        for base in payloads {
            for i in 0..base.len() {
                for byte in [0x00, 0x01, 0x7f, 0x80, 0xff, base[i] ^ 0x08] {
                    let mut p = base.clone();
                    p[i] = byte;
                    if let Some(fast) = decode_in_order(&p) {
                        taken += 1;
                        assert_eq!(Ok(fast), decode_any_order(&p), "{p:02x?}");
                    }
                }
                if let Some(fast) = decode_in_order(&base[..i]) {
                    assert_eq!(Ok(fast), decode_any_order(&base[..i]));
                }
            }
        }
        assert!(taken > 100, "{taken}");
    }

    #[test]
    fn deep_groups_stop_at_the_limit() {
        // 150 nested groups of field 6: starts, then ends.
        let mut deep = vec![0x33u8; 150];
        deep.extend([0x34u8; 150]);
        assert!(decode(&deep).is_err());
        assert!(pb::Dnstap::decode(&deep[..]).is_err());
    }
}
