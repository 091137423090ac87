//! The layouts of a delegation chase (`+trace`, `+nssearch`), laid out
//! from the recorded messages alone, so a live chase and `--read FILE
//! +trace` of its recording show the same text. Part of the ordered half of
//! rendering (the [`super::Planner`]): server names are learnt from the
//! responses before.
//!
//! `+trace`, as dig 9.18: each response's answer and authority records,
//! the warnings [`crate::query::delegation::judge`] has for it (from the
//! `query_zone` of the record: lame servers, out-of-bailiwick referrals and
//! glue), then `;; Received N bytes from ADDR#PORT(NAME) in N ms` and a
//! blank line. NAME is the server's name from an earlier response's A/AAAA
//! records, else its address (dig: the server as typed).
//!
//! `+nssearch`, as dig: `SOA ... from server ADDR in N ms.` for every SOA
//! response; the steps that found the servers show nothing.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::IpAddr;

use super::options::ChaseLayout;
use super::text::push_ip;
use super::{dig, query_ms, write_server, DisplayOpts};
use crate::dns::name::Name;
use crate::dns::types;
use crate::dns::wire::Message;
use crate::pair::Item;
use crate::query::delegation::{glue_addr, judge, server_name};
use crate::tap::event::{Direction, Event};

/// The most server names remembered (a hostile trace cannot grow it).
const MAX_NAMES: usize = 4096;

/// A chase layout's state; see the module documentation.
#[derive(Debug)]
pub struct ChaseText {
    layout: ChaseLayout,
    /// The display options for the records of a step.
    records: DisplayOpts,
    cmd: bool,
    /// The banner is still to come.
    first: bool,
    /// Server names by address.
    names: HashMap<IpAddr, String>,
}

impl ChaseText {
    /// The state for `layout` with these display options.
    pub fn new(layout: ChaseLayout, opts: &DisplayOpts) -> ChaseText {
        ChaseText {
            layout,
            records: DisplayOpts {
                comments: false,
                question: false,
                additional: false,
                stats: false,
                qr: false,
                short: false,
                ..opts.clone()
            },
            cmd: opts.cmd && !opts.short,
            first: true,
            names: HashMap::new(),
        }
    }

    /// Appends what `item` shows.
    pub fn plan(&mut self, item: &Item, out: &mut String) {
        match item {
            Item::Query(_) => {}
            Item::Unanswered(event) => {
                self.banner(out);
                super::draw_unanswered(out, event, self.records.idn);
            }
            Item::Response {
                event, query_time, ..
            } => {
                let Some(bytes) = event.main_message() else {
                    return;
                };
                if event.direction() != Some(Direction::Response) {
                    return;
                }
                self.banner(out);
                let ms = query_ms(event, *query_time);
                match self.layout {
                    ChaseLayout::Trace => self.step(out, event, bytes, ms),
                    ChaseLayout::NsSearch => nssearch_line(out, event, bytes, ms, &self.records),
                }
                self.learn(bytes);
            }
        }
    }

    fn banner(&mut self, out: &mut String) {
        if std::mem::replace(&mut self.first, false) && self.cmd {
            let what = match self.layout {
                ChaseLayout::Trace => "+trace",
                ChaseLayout::NsSearch => "+nssearch",
            };
            let _ = write!(
                out,
                "\n; <<>> qtap {} <<>> {what}\n;; global options: +cmd\n",
                env!("CARGO_PKG_VERSION")
            );
        }
    }

    /// One `+trace` step.
    fn step(&self, out: &mut String, event: &Event, bytes: &[u8], ms: Option<u128>) {
        match Message::parse(bytes) {
            Ok(msg) => {
                dig::write_parsed(out, &msg, true, None, &self.records);
                let zone = event
                    .query_zone
                    .as_deref()
                    .and_then(|z| Name::from_wire(z).ok());
                if let (Some(zone), Some(q)) = (zone, msg.first_question()) {
                    for w in judge(Some(&zone), &q.name, &msg).warnings {
                        out.push_str(";; ");
                        out.push_str(&w);
                        out.push('\n');
                    }
                }
            }
            Err(_) => dig::write_message(out, bytes, true, None, &self.records),
        }
        let Some(addr) = event.response_addr else {
            return;
        };
        let _ = write!(out, ";; Received {} bytes from ", bytes.len());
        write_server(out, addr, event.response_port);
        out.push('(');
        match self.names.get(&addr) {
            Some(name) => out.push_str(name),
            None => push_ip(out, addr),
        }
        out.push(')');
        if let Some(ms) = ms {
            let _ = write!(out, " in {ms} ms");
        }
        out.push_str("\n\n");
    }

    /// Remembers the names of the addresses a response gives.
    fn learn(&mut self, bytes: &[u8]) {
        let Ok(msg) = Message::parse(bytes) else {
            return;
        };
        for r in msg.answer.iter().chain(&msg.additional) {
            if self.names.len() >= MAX_NAMES {
                return;
            }
            if let Some(addr) = glue_addr(&msg, r) {
                self.names
                    .entry(addr)
                    .or_insert_with(|| server_name(&r.name));
            }
        }
    }
}

/// dig's `+nssearch` line for an SOA response: `SOA <rdata> from server
/// ADDR in N ms.`; other responses (the chase for the servers) show
/// nothing.
fn nssearch_line(
    out: &mut String,
    event: &Event,
    bytes: &[u8],
    ms: Option<u128>,
    opts: &DisplayOpts,
) {
    let Ok(msg) = Message::parse(bytes) else {
        return;
    };
    if msg.first_question().map(|q| q.qtype) != Some(types::SOA) || event.query_zone.is_none() {
        return;
    }
    let from = |out: &mut String| {
        if let Some(addr) = event.response_addr {
            out.push_str(" from server ");
            push_ip(out, addr);
            if let Some(ms) = ms {
                let _ = write!(out, " in {ms} ms");
            }
        }
        out.push_str(".\n");
    };
    match msg.answer.iter().find(|r| r.rtype == types::SOA) {
        Some(rr) => {
            out.push_str("SOA ");
            dig::write_rdata_or_generic(out, &msg, rr, opts);
            from(out);
        }
        None => {
            let _ = write!(
                out,
                ";; no SOA record (status {})",
                dig::rcode_name(msg.rcode())
            );
            from(out);
        }
    }
}
