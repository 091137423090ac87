//! Fuzz target: `Event::from_payload` on arbitrary bytes (the protobuf
//! payload of one data frame), then rendering of the event as a response,
//! a query and an unanswered query. Nothing may panic; the text must be
//! terminal-safe; an event that decodes must survive `to_pb` → encode →
//! decode unchanged.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use qtap::pair::Item;
use qtap::render::Renderer;
use qtap::tap::event::Event;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Ok(event) = Event::from_payload(Some(0), Bytes::copy_from_slice(data)) else {
        return;
    };
    let again = prost::Message::encode_to_vec(&event.to_pb());
    let back = Event::from_payload(Some(0), Bytes::from(again)).expect("re-encoded event decodes");
    assert_eq!(back, event);
    let mut renderer = Renderer::new(common::display_opts(0x80, 0));
    let mut out = String::new();
    renderer.render(&mut out, Item::Query(event.clone()));
    renderer.render(
        &mut out,
        Item::Response {
            event: event.clone(),
            query_time: event.query_time,
            query_seen: false,
        },
    );
    renderer.render(&mut out, Item::Unanswered(event));
    common::assert_terminal_safe(&out);
});
