//! Typed view of one dnstap `Message` record: the only thing renderers see.
//!
//! Live queries and `--read` both come through here: live mode builds the
//! `pb::Dnstap` records it would write to a trace and converts them with
//! [`Event::from_pb`], exactly as `--read` converts records from a file.
//! No I/O, no clock.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bytes::Bytes;

use super::pb;

/// A dnstap timestamp: seconds since the Unix epoch and nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp {
    /// Whole seconds since 1970-01-01 UTC.
    pub sec: u64,
    /// Nanoseconds within the second.
    pub nsec: u32,
}

impl Timestamp {
    /// Nanoseconds from `earlier` to `self`, or None if `self` is earlier.
    pub fn nanos_since(&self, earlier: &Timestamp) -> Option<u128> {
        let a = u128::from(self.sec) * 1_000_000_000 + u128::from(self.nsec);
        let b = u128::from(earlier.sec) * 1_000_000_000 + u128::from(earlier.nsec);
        a.checked_sub(b)
    }
}

/// Transport of a message (dnstap `SocketProtocol`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// DNS over UDP (RFC 1035).
    Udp,
    /// DNS over TCP (RFC 1035, RFC 7766).
    Tcp,
    /// DNS over TLS (RFC 7858).
    Dot,
    /// DNS over HTTPS (RFC 8484).
    Doh,
    /// DNSCrypt over UDP.
    DnsCryptUdp,
    /// DNSCrypt over TCP.
    DnsCryptTcp,
    /// DNS over QUIC (RFC 9250).
    Doq,
    /// A value this schema does not know.
    Other(i32),
}

impl Protocol {
    /// From the protobuf enum value.
    pub fn from_pb(value: i32) -> Protocol {
        match pb::SocketProtocol::try_from(value) {
            Ok(pb::SocketProtocol::Udp) => Protocol::Udp,
            Ok(pb::SocketProtocol::Tcp) => Protocol::Tcp,
            Ok(pb::SocketProtocol::Dot) => Protocol::Dot,
            Ok(pb::SocketProtocol::Doh) => Protocol::Doh,
            Ok(pb::SocketProtocol::DnsCryptUdp) => Protocol::DnsCryptUdp,
            Ok(pb::SocketProtocol::DnsCryptTcp) => Protocol::DnsCryptTcp,
            Ok(pb::SocketProtocol::Doq) => Protocol::Doq,
            Err(_) => Protocol::Other(value),
        }
    }

    /// The protobuf enum value.
    pub fn to_pb(self) -> i32 {
        match self {
            Protocol::Udp => pb::SocketProtocol::Udp as i32,
            Protocol::Tcp => pb::SocketProtocol::Tcp as i32,
            Protocol::Dot => pb::SocketProtocol::Dot as i32,
            Protocol::Doh => pb::SocketProtocol::Doh as i32,
            Protocol::DnsCryptUdp => pb::SocketProtocol::DnsCryptUdp as i32,
            Protocol::DnsCryptTcp => pb::SocketProtocol::DnsCryptTcp as i32,
            Protocol::Doq => pb::SocketProtocol::Doq as i32,
            Protocol::Other(v) => v,
        }
    }
}

/// Whether a message type is the query or the response half.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// `*_QUERY` (and UPDATE_QUERY).
    Query,
    /// `*_RESPONSE`.
    Response,
}

/// The dnstap message type, kept as the raw value so unknown types survive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MessageType(pub i32);

impl MessageType {
    /// STUB_QUERY.
    pub const STUB_QUERY: MessageType = MessageType(pb::message::Type::StubQuery as i32);
    /// STUB_RESPONSE.
    pub const STUB_RESPONSE: MessageType = MessageType(pb::message::Type::StubResponse as i32);
    /// TOOL_QUERY.
    pub const TOOL_QUERY: MessageType = MessageType(pb::message::Type::ToolQuery as i32);
    /// TOOL_RESPONSE.
    pub const TOOL_RESPONSE: MessageType = MessageType(pb::message::Type::ToolResponse as i32);

    /// The schema's name, e.g. `AUTH_QUERY`, or `TYPE<n>` for an unknown value.
    pub fn name(&self) -> std::borrow::Cow<'static, str> {
        match pb::message::Type::try_from(self.0) {
            Ok(t) => std::borrow::Cow::Borrowed(t.as_str_name()),
            Err(_) => std::borrow::Cow::Owned(format!("TYPE{}", self.0)),
        }
    }

    /// Query or response; None for a value the schema does not define.
    pub fn direction(&self) -> Option<Direction> {
        match self.0 {
            1..=14 if self.0 % 2 == 1 => Some(Direction::Query),
            1..=14 => Some(Direction::Response),
            _ => None,
        }
    }

    /// The family a type belongs to (AUTH, RESOLVER, ...): query and response
    /// of one family share it. Used to pair them.
    pub fn family(&self) -> i32 {
        (self.0 + 1) / 2
    }

    /// True when the recorder answered the query (AUTH_*, CLIENT_*, UPDATE_*):
    /// then the peer is the query address and the recorder sent the response.
    pub fn recorder_is_responder(&self) -> bool {
        matches!(
            pb::message::Type::try_from(self.0),
            Ok(pb::message::Type::AuthQuery
                | pb::message::Type::AuthResponse
                | pb::message::Type::ClientQuery
                | pb::message::Type::ClientResponse
                | pb::message::Type::UpdateQuery
                | pb::message::Type::UpdateResponse)
        )
    }
}

/// Why a payload could not become an [`Event`].
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// The payload is not a valid `dnstap.Dnstap` protobuf.
    #[error("not a valid dnstap protobuf: {0}")]
    Protobuf(#[from] super::decode::DecodeError),
    /// A Dnstap envelope without a Message (a type this reader does not know).
    #[error("dnstap record of type {0} has no message")]
    NoMessage(i32),
}

/// One dnstap Message with typed fields. Absent fields stay `None`.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Byte offset of the frame in its file (None for live records not yet written).
    pub offset: Option<u64>,
    /// `Dnstap.identity`.
    pub identity: Option<Bytes>,
    /// `Dnstap.version`.
    pub version: Option<Bytes>,
    /// `Message.type`.
    pub mtype: MessageType,
    /// `socket_family` (raw value: 1 INET, 2 INET6).
    pub family: Option<i32>,
    /// `socket_protocol`.
    pub protocol: Option<Protocol>,
    /// `http_protocol` (raw value: 1 HTTP1, 2 HTTP2, 3 HTTP3).
    pub http_protocol: Option<i32>,
    /// `query_address`, when it has 4 or 16 bytes.
    pub query_addr: Option<IpAddr>,
    /// `query_port` (None when absent or out of range).
    pub query_port: Option<u16>,
    /// `response_address`, when it has 4 or 16 bytes.
    pub response_addr: Option<IpAddr>,
    /// `response_port`.
    pub response_port: Option<u16>,
    /// `query_time_sec`/`_nsec`.
    pub query_time: Option<Timestamp>,
    /// `response_time_sec`/`_nsec`.
    pub response_time: Option<Timestamp>,
    /// `query_message`, verbatim.
    pub query_message: Option<Bytes>,
    /// `query_zone`: the zone a resolver's query was sent for, in wire
    /// form, verbatim.
    pub query_zone: Option<Bytes>,
    /// `response_message`, verbatim.
    pub response_message: Option<Bytes>,
    /// The collector connection the record came in on (`--read unix:…`,
    /// `tcp:…`); not a dnstap field, never written to a trace.
    pub connection: Option<Bytes>,
}

fn ip_from(bytes: &[u8]) -> Option<IpAddr> {
    if let Ok(b) = <[u8; 4]>::try_from(bytes) {
        Some(IpAddr::V4(Ipv4Addr::from(b)))
    } else if let Ok(b) = <[u8; 16]>::try_from(bytes) {
        Some(IpAddr::V6(Ipv6Addr::from(b)))
    } else {
        None
    }
}

fn ip_bytes(addr: IpAddr) -> Bytes {
    match addr {
        IpAddr::V4(a) => Bytes::copy_from_slice(&a.octets()),
        IpAddr::V6(a) => Bytes::copy_from_slice(&a.octets()),
    }
}

fn time_from(sec: Option<u64>, nsec: Option<u32>) -> Option<Timestamp> {
    sec.map(|sec| Timestamp {
        sec,
        nsec: nsec.unwrap_or(0).min(999_999_999),
    })
}

impl Event {
    /// Decodes a Frame Streams data payload. The bytes fields kept are
    /// slices of `payload` (no copies); see [`super::decode`].
    pub fn from_payload(offset: Option<u64>, payload: Bytes) -> Result<Event, EventError> {
        let raw = super::decode::decode(&payload)?;
        let Some(m) = raw.message else {
            return Err(EventError::NoMessage(raw.dtype));
        };
        let slice = |s: Option<super::decode::Span>| s.map(|s| payload.slice(s));
        let addr = |s: Option<super::decode::Span>| s.and_then(|s| ip_from(&payload[s]));
        Ok(Event {
            offset,
            identity: slice(raw.identity),
            version: slice(raw.version),
            mtype: MessageType(m.mtype),
            family: m.socket_family,
            protocol: m.socket_protocol.map(Protocol::from_pb),
            http_protocol: m.http_protocol,
            query_addr: addr(m.query_address),
            query_port: m.query_port.and_then(|p| u16::try_from(p).ok()),
            response_addr: addr(m.response_address),
            response_port: m.response_port.and_then(|p| u16::try_from(p).ok()),
            query_time: time_from(m.query_time_sec, m.query_time_nsec),
            response_time: time_from(m.response_time_sec, m.response_time_nsec),
            query_message: slice(m.query_message),
            query_zone: slice(m.query_zone),
            response_message: slice(m.response_message),
            connection: None,
        })
    }

    /// Converts a decoded record.
    pub fn from_pb(record: pb::Dnstap) -> Result<Event, EventError> {
        let Some(m) = record.message else {
            return Err(EventError::NoMessage(record.r#type));
        };
        Ok(Event {
            offset: None,
            identity: record.identity,
            version: record.version,
            mtype: MessageType(m.r#type),
            family: m.socket_family,
            protocol: m.socket_protocol.map(Protocol::from_pb),
            http_protocol: m.http_protocol,
            query_addr: m.query_address.as_deref().and_then(ip_from),
            query_port: m.query_port.and_then(|p| u16::try_from(p).ok()),
            response_addr: m.response_address.as_deref().and_then(ip_from),
            response_port: m.response_port.and_then(|p| u16::try_from(p).ok()),
            query_time: time_from(m.query_time_sec, m.query_time_nsec),
            response_time: time_from(m.response_time_sec, m.response_time_nsec),
            query_message: m.query_message,
            query_zone: m.query_zone,
            response_message: m.response_message,
            connection: None,
        })
    }

    /// Builds the protobuf record for this event (used by live mode, which
    /// creates events first and writes them to the trace).
    pub fn to_pb(&self) -> pb::Dnstap {
        let message = pb::Message {
            r#type: self.mtype.0,
            socket_family: self.family,
            socket_protocol: self.protocol.map(Protocol::to_pb),
            query_address: self.query_addr.map(ip_bytes),
            response_address: self.response_addr.map(ip_bytes),
            query_port: self.query_port.map(u32::from),
            response_port: self.response_port.map(u32::from),
            query_time_sec: self.query_time.map(|t| t.sec),
            query_time_nsec: self.query_time.map(|t| t.nsec),
            query_message: self.query_message.clone(),
            query_zone: self.query_zone.clone(),
            response_time_sec: self.response_time.map(|t| t.sec),
            response_time_nsec: self.response_time.map(|t| t.nsec),
            response_message: self.response_message.clone(),
            policy: None,
            http_protocol: self.http_protocol,
        };
        pb::Dnstap {
            identity: self.identity.clone(),
            version: self.version.clone(),
            extra: None,
            message: Some(message),
            r#type: pb::dnstap::Type::Message as i32,
        }
    }

    /// Query or response, from the message type.
    pub fn direction(&self) -> Option<Direction> {
        self.mtype.direction()
    }

    /// The message this event is about: the response for response types,
    /// else the query.
    pub fn main_message(&self) -> Option<&Bytes> {
        match self.direction() {
            Some(Direction::Response) => self.response_message.as_ref(),
            _ => self.query_message.as_ref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Event {
        Event {
            offset: None,
            identity: Some(Bytes::from_static(b"ns1")),
            version: Some(Bytes::from_static(b"qtap 0.1.0")),
            mtype: MessageType::STUB_RESPONSE,
            family: Some(pb::SocketFamily::Inet6 as i32),
            protocol: Some(Protocol::Tcp),
            http_protocol: None,
            query_addr: Some("::1".parse().unwrap()),
            query_port: Some(40000),
            response_addr: Some("2001:db8::53".parse().unwrap()),
            response_port: Some(53),
            query_time: Some(Timestamp { sec: 10, nsec: 5 }),
            response_time: Some(Timestamp {
                sec: 11,
                nsec: 999_999_999,
            }),
            query_message: Some(Bytes::from_static(b"\x00\x01query")),
            query_zone: None,
            response_message: Some(Bytes::from_static(b"\x00\x01response")),
            connection: None,
        }
    }

    #[test]
    fn pb_round_trip_keeps_every_field() {
        let event = sample();
        let payload = prost::Message::encode_to_vec(&event.to_pb());
        let back = Event::from_payload(Some(7), Bytes::from(payload)).unwrap();
        assert_eq!(back.offset, Some(7));
        assert_eq!(
            Event {
                offset: None,
                ..back
            },
            event
        );
    }

    #[test]
    fn odd_address_lengths_and_ports_become_none() {
        let mut record = sample().to_pb();
        let m = record.message.as_mut().unwrap();
        m.query_address = Some(Bytes::from_static(b"\x01\x02\x03"));
        m.response_port = Some(70000);
        let e = Event::from_pb(record).unwrap();
        assert_eq!(e.query_addr, None);
        assert_eq!(e.response_port, None);
    }

    #[test]
    fn garbage_payload_is_an_error() {
        assert!(Event::from_payload(None, Bytes::from_static(b"\xff\xff\xff")).is_err());
        // A valid envelope without a message.
        let empty = pb::Dnstap {
            r#type: 1,
            ..Default::default()
        };
        let payload = prost::Message::encode_to_vec(&empty);
        assert!(matches!(
            Event::from_payload(None, Bytes::from(payload)),
            Err(EventError::NoMessage(1))
        ));
    }

    #[test]
    fn message_type_families_and_directions() {
        assert_eq!(MessageType(1).direction(), Some(Direction::Query));
        assert_eq!(MessageType(2).direction(), Some(Direction::Response));
        assert_eq!(MessageType(9).family(), MessageType(10).family());
        assert_ne!(MessageType(10).family(), MessageType(11).family());
        assert_eq!(MessageType(99).direction(), None);
        assert_eq!(MessageType(99).name(), "TYPE99");
        assert_eq!(MessageType::STUB_QUERY.name(), "STUB_QUERY");
        assert!(MessageType(1).recorder_is_responder());
        assert!(!MessageType(3).recorder_is_responder());
    }

    #[test]
    fn nanos_since_handles_order() {
        let a = Timestamp { sec: 1, nsec: 900 };
        let b = Timestamp { sec: 2, nsec: 100 };
        assert_eq!(b.nanos_since(&a), Some(999_999_200));
        assert_eq!(a.nanos_since(&b), None);
    }
}
