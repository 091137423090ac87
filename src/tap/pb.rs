//! The dnstap protobuf schema as Rust types, generated at build time by
//! prost from `proto/dnstap.proto` (see `build.rs`).
//!
//! This module is the one adapter over the generated code: it owns nothing
//! but the `include!`, so a prost upgrade or a schema update touches only
//! this file and the build script. It must not grow hand-written logic;
//! conversions to typed events live in `tap::event`.
//!
//! The main types are [`Dnstap`] (the envelope of every data frame),
//! [`Message`], [`SocketFamily`], [`SocketProtocol`], [`HttpProtocol`],
//! `message::Type` and `dnstap::Type`.

#![allow(
    clippy::all,
    clippy::pedantic,
    missing_docs,
    rustdoc::bare_urls,
    rustdoc::broken_intra_doc_links,
    rustdoc::invalid_html_tags
)]

include!(concat!(env!("OUT_DIR"), "/dnstap.rs"));

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use prost::Message as _;

    fn sample() -> Dnstap {
        Dnstap {
            identity: None,
            version: Some(Bytes::from_static(b"qtap test")),
            extra: None,
            r#type: dnstap::Type::Message as i32,
            message: Some(Message {
                r#type: message::Type::StubQuery as i32,
                socket_family: Some(SocketFamily::Inet6 as i32),
                socket_protocol: Some(SocketProtocol::Dot as i32),
                query_address: Some(Bytes::from(vec![0; 16])),
                response_address: Some(Bytes::from_static(&[
                    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
                ])),
                query_port: Some(40000),
                response_port: Some(853),
                query_time_sec: Some(1_700_000_000),
                query_time_nsec: Some(123_456_789),
                query_message: Some(Bytes::from_static(&[0x12, 0x34, 0x01, 0x00])),
                ..Default::default()
            }),
        }
    }

    #[test]
    fn dnstap_record_round_trips_through_prost() {
        let record = sample();
        let bytes = record.encode_to_vec();
        let back = Dnstap::decode(bytes.as_slice()).unwrap();
        assert_eq!(back, record);
        let msg = back.message.unwrap();
        assert_eq!(msg.r#type(), message::Type::StubQuery);
        assert_eq!(msg.socket_protocol(), SocketProtocol::Dot);
        assert_eq!(msg.socket_family(), SocketFamily::Inet6);
    }

    #[test]
    fn nsec_fields_are_fixed32_on_the_wire() {
        // Field 9 (query_time_nsec) with wire type 5 (fixed32): key 0x4d.
        let msg = Message {
            r#type: message::Type::StubQuery as i32,
            query_time_nsec: Some(1),
            ..Default::default()
        };
        let bytes = msg.encode_to_vec();
        assert!(
            bytes.windows(5).any(|w| w == [0x4d, 1, 0, 0, 0]),
            "{bytes:02x?}"
        );
    }

    #[test]
    fn missing_required_type_decodes_as_the_proto2_default() {
        // prost does not enforce proto2 `required`: a Dnstap with only
        // `version` set decodes, and `type` takes the schema default, the
        // first enum value (MESSAGE). Consumers must therefore check that
        // `message` is present rather than trust `type`.
        let bytes = [0x12, 0x01, b'x'];
        let record = Dnstap::decode(&bytes[..]).unwrap();
        assert_eq!(record.r#type, dnstap::Type::Message as i32);
        assert_eq!(record.version.as_deref(), Some(&b"x"[..]));
        assert!(record.message.is_none());
    }
}
