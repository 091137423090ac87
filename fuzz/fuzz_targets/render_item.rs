//! Fuzz target: a whole `pair::Item` through `render::Renderer`. The first
//! bytes choose the message type, transport, addresses, times and display
//! options; the rest is split into a query and a response message. The
//! same renderer then sees the event as a query, a response and an
//! unanswered query (its state carries over, as in a real run). Nothing may
//! panic and the text must be terminal-safe.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use qtap::pair::{Item, Pairer};
use qtap::render::Renderer;
use qtap::tap::event::{Event, MessageType, Protocol, Timestamp};

#[path = "common.rs"]
mod common;

fn protocol(b: u8) -> Option<Protocol> {
    Some(match b % 10 {
        0 => return None,
        1 => Protocol::Udp,
        2 => Protocol::Tcp,
        3 => Protocol::Dot,
        4 => Protocol::Doh,
        5 => Protocol::DnsCryptUdp,
        6 => Protocol::DnsCryptTcp,
        7 => Protocol::Doq,
        8 => Protocol::Other(i32::from(b)),
        _ => Protocol::Other(-1),
    })
}

fn addr(b: u8) -> Option<IpAddr> {
    match b % 3 {
        0 => None,
        1 => Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, b))),
        _ => Some(IpAddr::V6(Ipv6Addr::new(
            0x2001,
            0xdb8,
            0,
            0,
            0,
            0,
            0,
            u16::from(b),
        ))),
    }
}

fn time(b: u8, c: u8) -> Option<Timestamp> {
    (b != 0).then(|| Timestamp {
        sec: u64::from(b) * 1_000_000_007,
        nsec: u32::from(c) * 3_999_999,
    })
}

fuzz_target!(|data: &[u8]| {
    let [mtype, proto, a1, a2, t1, t2, t3, opt_a, opt_b, split, ident, rest @ ..] = data else {
        return;
    };
    let split = usize::from(*split).min(rest.len());
    let (query, response) = rest.split_at(split);
    let (id_len, ver_len) = (usize::from(ident & 0x7), usize::from(ident >> 4));
    let event = Event {
        offset: Some(u64::from(*t3)),
        identity: (id_len > 0).then(|| Bytes::copy_from_slice(&query[..id_len.min(query.len())])),
        version: (ver_len > 0)
            .then(|| Bytes::copy_from_slice(&response[..ver_len.min(response.len())])),
        mtype: MessageType(i32::from(*mtype % 18) - 1),
        family: Some(i32::from(a1 & 3)),
        protocol: protocol(*proto),
        http_protocol: None,
        query_addr: addr(*a1),
        query_port: (a1 & 0x80 != 0).then_some(u16::from(*a2) * 257),
        response_addr: addr(*a2),
        response_port: (a2 & 0x80 != 0).then_some(u16::from(*a1) * 251),
        query_time: time(*t1, *t3),
        response_time: time(*t2, t3.wrapping_mul(7)),
        query_message: (split > 0 || t3 & 1 != 0).then(|| Bytes::copy_from_slice(query)),
        response_message: (!response.is_empty() || t3 & 2 != 0)
            .then(|| Bytes::copy_from_slice(response)),
    };
    let mut renderer = Renderer::new(common::display_opts(*opt_a, *opt_b));
    let mut out = String::new();
    renderer.render(&mut out, Item::Query(event.clone()));
    renderer.render(
        &mut out,
        Item::Response {
            event: event.clone(),
            query_time: time(*t3, *t2),
            query_seen: t1 & 1 != 0,
        },
    );
    renderer.render(&mut out, Item::Unanswered(event.clone()));
    // And the way `--read` does it: through the pairer.
    let mut pairer = Pairer::new(usize::from(*t3 % 4));
    let mut items = Vec::new();
    pairer.push(event.clone(), &mut items);
    pairer.push(event, &mut items);
    pairer.finish(&mut items);
    for item in items {
        renderer.render(&mut out, item);
    }
    common::assert_terminal_safe(&out);
});
