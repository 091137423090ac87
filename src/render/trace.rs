//! The layouts of a delegation chase (`+trace`, `+nssearch`), laid out
//! from the recorded messages alone, so a live chase and `--read FILE
//! +trace` of its recording show the same text. Part of the ordered half of
//! rendering (the [`super::Planner`]): server names are learnt from the
//! responses before.
//!
//! `+trace`, as dig 9.18: each response under the display options (the
//! `+trace` flag sets dig's trace defaults: answer and authority sections
//! only, no comments, `+identify`; options after it change them as they do
//! dig's), the warnings [`crate::query::delegation::judge`] has for it
//! (from the `query_zone` of the record: lame servers, out-of-bailiwick
//! referrals and glue), then `;; Received N bytes from ADDR#PORT(NAME) in
//! N ms` and a blank line (`+stats`: the statistics instead; `+short`: each
//! answer as `TYPE RDATA from server NAME in N ms.`). NAME is the server's
//! name from an earlier response's A/AAAA records, else its address (dig:
//! the server as typed or named).
//!
//! `+nssearch`, as dig: `SOA ... from server ADDR in N ms.` for every SOA
//! response; the steps that found the servers, and the servers that did
//! not answer, show nothing.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::IpAddr;

use super::options::ChaseLayout;
use super::text::push_ip;
use super::{dig, query_ms, write_server, DisplayOpts, TrailerCache};
use crate::dns::name::Name;
use crate::dns::types;
use crate::dns::wire::Message;
use crate::pair::Item;
use crate::query::delegation::{glue_addr, judge, server_name};
use crate::tap::event::{Direction, Event, Timestamp};

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
    /// The statistics' cache (`+stats`).
    trailer: TrailerCache,
}

impl ChaseText {
    /// The state for `layout` with these display options (`+trace` set
    /// dig's defaults for a trace: no comments, question, additional
    /// section or statistics, `+identify`; later options change them as
    /// they do dig's).
    pub fn new(layout: ChaseLayout, opts: &DisplayOpts) -> ChaseText {
        ChaseText {
            layout,
            records: DisplayOpts {
                qr: false,
                ..opts.clone()
            },
            cmd: opts.cmd && !opts.short,
            first: true,
            names: HashMap::new(),
            trailer: TrailerCache::default(),
        }
    }

    /// Appends what `item` shows.
    pub fn plan(&mut self, item: &Item, out: &mut String) {
        match item {
            Item::Query(_) => {}
            // dig's +nssearch shows nothing for a server that did not
            // answer (the error of the live query said so).
            Item::Unanswered(_) if self.layout == ChaseLayout::NsSearch => {}
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
                match self.layout {
                    ChaseLayout::Trace => {
                        self.banner(out);
                        self.step(out, event, bytes, *query_time);
                    }
                    // dig's +nssearch turns +short on, and a short answer
                    // comes without the banner.
                    ChaseLayout::NsSearch => nssearch_line(
                        out,
                        event,
                        bytes,
                        query_ms(event, *query_time),
                        &self.records,
                    ),
                }
                self.learn(bytes);
            }
        }
    }

    fn banner(&mut self, out: &mut String) {
        if std::mem::replace(&mut self.first, false) && self.cmd {
            // dig's +nssearch turns +short on, and says so.
            let (what, global) = match self.layout {
                ChaseLayout::Trace => ("+trace", "+cmd"),
                ChaseLayout::NsSearch => ("+nssearch", "+short +cmd"),
            };
            let _ = write!(
                out,
                "\n; <<>> qtap {} <<>> {what}\n;; global options: {global}\n",
                env!("CARGO_PKG_VERSION")
            );
        }
    }

    /// The server's name as dig shows it: from an earlier response's
    /// A/AAAA records, else its address.
    fn server_name(&self, addr: IpAddr) -> String {
        match self.names.get(&addr) {
            Some(name) => name.clone(),
            None => {
                let mut s = String::new();
                push_ip(&mut s, addr);
                s
            }
        }
    }

    /// One `+trace` step, as dig prints each response of a trace: the
    /// message under the display options, then (but with `+short`) the
    /// statistics or, with `+identify` (a trace's default), the
    /// `;; Received` line.
    fn step(
        &mut self,
        out: &mut String,
        event: &Event,
        bytes: &[u8],
        query_time: Option<Timestamp>,
    ) {
        let opts = &self.records;
        let ms = query_ms(event, query_time);
        let parsed = Message::parse(bytes);
        if opts.short {
            let mut identify = String::new();
            if let (true, Some(addr)) = (opts.identify, event.response_addr) {
                let _ = write!(identify, " from server {}", self.server_name(addr));
                if let Some(ms) = ms {
                    let _ = write!(identify, " in {ms} ms.");
                }
            }
            // dig's +short in a trace: each answer's type before its RDATA.
            if let Ok(msg) = &parsed {
                for rr in &msg.answer {
                    out.push_str(&types::type_name(rr.rtype));
                    out.push(' ');
                    dig::write_rdata_or_generic(out, msg, rr, opts);
                    out.push_str(&identify);
                    out.push('\n');
                }
                write_warnings(out, event, msg);
            }
            return;
        }
        if opts.comments {
            out.push_str(";; Got answer:\n");
        }
        match &parsed {
            Ok(msg) => {
                dig::write_parsed(out, msg, true, None, opts);
                write_warnings(out, event, msg);
            }
            Err(_) => dig::write_message(out, bytes, true, None, opts),
        }
        if opts.stats {
            let start = out.len();
            super::write_trailer(out, &mut self.trailer, event, query_time, bytes.len());
            // dig names the server there too: `;; SERVER: ADDR#PORT(NAME)`.
            if let Some(name) = event
                .response_addr
                .and_then(|a| self.names.get(&a).map(|n| (a, n)))
            {
                let plain = format!("({})", name.0);
                if let Some(i) = out[start..].find(&plain) {
                    let at = start + i;
                    out.replace_range(at..at + plain.len(), &format!("({})", name.1));
                }
            }
            return;
        }
        let (true, Some(addr)) = (opts.identify, event.response_addr) else {
            return;
        };
        let _ = write!(out, ";; Received {} bytes from ", bytes.len());
        write_server(out, addr, event.response_port);
        out.push('(');
        out.push_str(&self.server_name(addr));
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

/// The warnings [`judge`] has for a response, from the zone its server
/// was asked for (the record's `query_zone`).
fn write_warnings(out: &mut String, event: &Event, msg: &Message<'_>) {
    let zone = event
        .query_zone
        .as_deref()
        .and_then(|z| Name::from_wire(z).ok());
    if let (Some(zone), Some(q)) = (zone, msg.first_question()) {
        for w in judge(Some(&zone), &q.name, msg).warnings {
            out.push_str(";; ");
            out.push_str(&w);
            out.push('\n');
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
