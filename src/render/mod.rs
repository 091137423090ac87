//! Turns paired dnstap events into dig-style text.
//!
//! This is the one path to the screen: live queries and `--read` both feed
//! [`crate::pair::Item`]s to a [`Renderer`], so the two outputs of the same
//! trace are identical. Everything shown (server, transport, times) comes
//! from the recorded event, never from a socket or the clock. Pure.

pub mod color;
pub mod dig;
pub mod idn;
pub mod json;
pub mod opt;
pub mod options;
pub mod printer;
pub mod rdata;
pub mod text;
pub mod trace;
pub mod when;
pub mod yaml;

use std::fmt::Write as _;
use std::net::IpAddr;

use crate::dns::types::{self, class_name, type_name};
use crate::dns::wire::{first_qtype, first_question, Header, Message};
use crate::dns::xfr::{is_xfr, Progress, Transfers, XfrTracker};
use crate::pair::Item;
use crate::tap::event::{Direction, Event, Protocol, Timestamp};

pub use self::options::{DisplayOpts, Format};
use self::text::{push_ip, push_u32};

/// Escaping of trace and network bytes for the terminal, kept at this path
/// for the callers outside `render`.
pub use self::text::{controls_escaped, escaped, write_escaped};

/// Renders items one after the other: a [`Planner`] decides, in order,
/// what each item shows (the state: the first banner, a pending TCP retry,
/// zone transfers), and a [`Drawer`] lays the decision out as text.
///
/// `--read` runs the two halves on different threads (one planner, a
/// drawer per core, the text put back in order); live queries run them
/// here, one after the other. Both give the same text.
#[derive(Debug)]
pub struct Renderer {
    planner: Planner,
    drawer: Drawer,
    steps: Vec<Step>,
}

impl Renderer {
    /// A renderer with these display options.
    pub fn new(opts: DisplayOpts) -> Renderer {
        Renderer {
            planner: Planner::new(opts.clone()),
            drawer: Drawer::new(opts),
            steps: Vec::new(),
        }
    }

    /// The display options.
    pub fn opts(&self) -> &DisplayOpts {
        &self.drawer.opts
    }

    /// Appends the text for one item.
    pub fn render(&mut self, out: &mut String, item: Item) {
        self.planner.plan(item, &mut self.steps);
        for step in self.steps.drain(..) {
            self.drawer.draw(out, &step);
        }
    }

    /// Ends the output: shows a truncated answer still held back, and says
    /// which zone transfers never completed.
    pub fn finish(&mut self, out: &mut String) {
        self.planner.finish(&mut self.steps);
        for step in self.steps.drain(..) {
            self.drawer.draw(out, &step);
        }
    }
}

/// What one item shows, decided in order by the [`Planner`].
// Nearly every step is a `Draw`: boxing it would cost an allocation per item
// to save space on the rare `Text`.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Step {
    /// Draw this item.
    Draw {
        /// The item.
        item: Item,
        /// A truncated UDP answer that was retried over TCP: shown as dig's
        /// one-line notice.
        retried: bool,
        /// The banner line, if the item has one.
        banner: Banner,
    },
    /// Text laid out by the planner itself (zone transfers, closing
    /// warnings), copied as is.
    Text(String),
}

/// How an item's banner line is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Banner {
    /// Not at all (`+nocmd`, `+short`, or it follows a TCP retry notice).
    Skip,
    /// The first banner of the output: a blank line before it and the
    /// global options after it, as dig does.
    First,
    /// A banner line.
    Normal,
}

/// The ordered half of rendering: decides what each item shows, holding
/// the state that needs the items before it. Cheap: it lays out text only
/// for zone transfers, which need their message counts.
#[derive(Debug)]
pub struct Planner {
    opts: DisplayOpts,
    first: bool,
    /// The previous block announced a TCP retry: its banner stands for the
    /// retried exchange too.
    after_retry_notice: bool,
    /// A truncated UDP answer of a stub or tool, held until the next item
    /// tells whether it was retried over TCP (then dig's one-line notice is
    /// shown) or not (then the answer itself, as with +ignore).
    pending_tc: Option<Item>,
    /// Zone transfers under way, by connection and message ID.
    xfrs: Transfers<XfrKey>,
    /// Lays out the transfer messages.
    drawer: Drawer,
    /// `+trace` / `+nssearch`: the chase's layout instead of dig's.
    chase: Option<trace::ChaseText>,
}

/// Identifies the messages of one zone transfer.
type XfrKey = (
    i32,
    Option<std::net::IpAddr>,
    Option<u16>,
    Option<std::net::IpAddr>,
    Option<u16>,
    u16,
);

fn xfr_key(event: &Event, id: u16) -> XfrKey {
    (
        event.mtype.family(),
        event.query_addr,
        event.query_port,
        event.response_addr,
        event.response_port,
        id,
    )
}

impl Planner {
    /// A planner with these display options.
    pub fn new(opts: DisplayOpts) -> Planner {
        Planner {
            drawer: Drawer::new(opts.clone()),
            chase: opts
                .chase
                .map(|layout| trace::ChaseText::new(layout, &opts)),
            opts,
            first: true,
            after_retry_notice: false,
            pending_tc: None,
            xfrs: Transfers::default(),
        }
    }

    /// Decides what `item` shows, appending the steps (none, one or two)
    /// to `steps`.
    pub fn plan(&mut self, item: Item, steps: &mut Vec<Step>) {
        if let Some(chase) = &mut self.chase {
            let mut text = String::new();
            chase.plan(&item, &mut text);
            if !text.is_empty() {
                steps.push(Step::Text(text));
            }
            return;
        }
        if let Some(pending) = self.pending_tc.take() {
            let retried = match (&pending, &item) {
                (Item::Response { event: tc, .. }, Item::Query(next)) => is_tcp_retry(tc, next),
                _ => false,
            };
            self.plan_now(pending, retried, steps);
        }
        if let Item::Response { event, .. } = &item {
            if is_truncated_udp_answer(event) {
                self.pending_tc = Some(item);
                return;
            }
        }
        self.plan_now(item, false, steps);
    }

    /// Ends the stream: a truncated answer still held back, and a warning
    /// for each zone transfer that never completed.
    pub fn finish(&mut self, steps: &mut Vec<Step>) {
        if let Some(pending) = self.pending_tc.take() {
            self.plan_now(pending, false, steps);
        }
        for (_, t) in self.xfrs.drain() {
            steps.push(Step::Text(format!(
                ";; WARNING: transfer incomplete: {} records (messages {}, bytes {})\n\n",
                t.records, t.messages, t.bytes
            )));
        }
    }

    fn plan_now(&mut self, item: Item, retried: bool, steps: &mut Vec<Step>) {
        if let Item::Response {
            event,
            query_time,
            query_seen,
        } = &item
        {
            if self.may_be_xfr(event) {
                if let Some(response) = event.main_message() {
                    if let Ok(msg) = Message::parse(response) {
                        let mut text = String::new();
                        if self.plan_xfr(&mut text, event, &msg, *query_time, *query_seen) {
                            steps.push(Step::Text(text));
                            return;
                        }
                    }
                }
            }
        }
        let banner = if self.wants_banner(&item) {
            self.take_banner()
        } else {
            Banner::Skip
        };
        if retried && self.shows_retry_notice_block(&item) {
            self.after_retry_notice = true;
        }
        steps.push(Step::Draw {
            item,
            retried,
            banner,
        });
    }

    /// Could this response be part of a zone transfer? Cheap, and never
    /// wrong when it says no: a transfer message is one whose connection
    /// and ID belong to a transfer under way, or whose question asks for
    /// one.
    fn may_be_xfr(&self, event: &Event) -> bool {
        if event.direction() != Some(Direction::Response) {
            return false;
        }
        let Some(response) = event.main_message() else {
            return false;
        };
        if let Ok(header) = Header::parse(response) {
            if !self.xfrs.is_empty() && self.xfrs.contains(&xfr_key(event, header.id)) {
                return true;
            }
        }
        first_qtype(response).is_some_and(is_xfr)
    }

    /// Whether the drawer shows a banner for this item.
    fn wants_banner(&self, item: &Item) -> bool {
        let o = &self.opts;
        match item {
            Item::Query(event) => o.qr && !o.short && event.query_message.is_some(),
            Item::Response {
                event, query_seen, ..
            } => {
                let banner_shown = !(o.short || o.qr && *query_seen);
                event.main_message().is_some()
                    && (event.direction() != Some(Direction::Response) || banner_shown)
            }
            Item::Unanswered(_) => false,
        }
    }

    /// Whether a retried truncated answer is shown as a block whose banner
    /// stands for the retry (not with `+short`, which has no banners).
    fn shows_retry_notice_block(&self, item: &Item) -> bool {
        match item {
            Item::Response { event, .. } => {
                event.main_message().is_some()
                    && event.direction() == Some(Direction::Response)
                    && !self.opts.short
            }
            _ => false,
        }
    }

    /// The banner the next item gets, and the state that changes with it.
    fn take_banner(&mut self) -> Banner {
        if self.after_retry_notice {
            self.after_retry_notice = false;
            return Banner::Skip;
        }
        if !self.opts.cmd || self.opts.short {
            return Banner::Skip;
        }
        if std::mem::replace(&mut self.first, false) {
            Banner::First
        } else {
            Banner::Normal
        }
    }

    /// Lays out one message of a zone transfer; false when `msg` is not
    /// part of one.
    fn plan_xfr(
        &mut self,
        out: &mut String,
        event: &Event,
        msg: &Message<'_>,
        query_time: Option<Timestamp>,
        query_seen: bool,
    ) -> bool {
        let key = xfr_key(event, msg.header.id);
        let tracker = match self.xfrs.get_mut(&key) {
            Some(t) => t,
            None => {
                let Some(qtype) = msg.first_question().map(|q| q.qtype).filter(|t| is_xfr(*t))
                else {
                    return false;
                };
                if !(self.opts.qr && query_seen) {
                    let banner = self.take_banner();
                    self.drawer.banner(out, event, banner);
                }
                if self.opts.qr && !query_seen && !self.opts.short {
                    if let Some(query) = &event.query_message {
                        self.drawer.write_query_block(out, event, query);
                    }
                }
                self.xfrs.start(key, XfrTracker::new(qtype))
            }
        };
        // dig's +onesoa: the opening SOA of an AXFR, not the closing one.
        let soa = match (self.opts.onesoa && tracker.is_axfr(), tracker.messages) {
            (false, _) => dig::SoaShown::All,
            (true, 0) => dig::SoaShown::First,
            (true, _) => dig::SoaShown::None,
        };
        let progress = tracker.feed(msg);
        let tracker = match progress {
            Progress::More => None,
            Progress::Done | Progress::Failed => self.xfrs.remove(&key),
        };
        if progress == Progress::Failed && msg.rcode() != 0 {
            // A signed refusal (NOTAUTH with BADSIG, BADKEY...): dig shows
            // the message, that is its TSIG record, before the verdict.
            let signed = msg.additional.iter().any(|r| r.rtype == types::TSIG);
            if signed && !self.opts.short {
                dig::write_parsed_with(out, msg, true, None, &xfr_opts(&self.opts), soa);
            }
            out.push_str("; Transfer failed.\n");
            return true;
        }
        let opts = &self.opts;
        if opts.short {
            dig::write_short(out, msg.bytes, opts, &identify(opts, event, query_time));
        } else {
            dig::write_parsed_with(out, msg, true, None, &xfr_opts(opts), soa);
        }
        match (tracker, opts.stats, opts.short) {
            (Some(t), true, false) => {
                write_trailer_lines(out, &mut self.drawer.trailer, event, query_time);
                let _ = writeln!(
                    out,
                    ";; XFR size: {} records (messages {}, bytes {})\n",
                    t.records, t.messages, t.bytes
                );
            }
            (Some(t), false, false) if opts.identify => {
                write_received(out, event, query_time, t.bytes);
            }
            _ => {}
        }
        true
    }
}

/// The display options for the records of a zone transfer: dig shows
/// them without headers, comments or question.
fn xfr_opts(opts: &DisplayOpts) -> DisplayOpts {
    DisplayOpts {
        comments: false,
        question: false,
        ..opts.clone()
    }
}

/// The unordered half of rendering: lays out the [`Step`]s a [`Planner`]
/// decided. Holds only caches, so any number of drawers, one per thread,
/// give the same text for the same steps.
#[derive(Debug)]
pub struct Drawer {
    opts: DisplayOpts,
    /// The options for zone transfer queries.
    xfr_opts: DisplayOpts,
    trailer: TrailerCache,
}

impl Drawer {
    /// A drawer with these display options.
    pub fn new(opts: DisplayOpts) -> Drawer {
        Drawer {
            xfr_opts: xfr_opts(&opts),
            opts,
            trailer: TrailerCache::default(),
        }
    }

    /// Appends the text of one step.
    pub fn draw(&mut self, out: &mut String, step: &Step) {
        match step {
            Step::Text(text) => out.push_str(text),
            Step::Draw {
                item,
                retried,
                banner,
            } => match item {
                Item::Query(event) => self.draw_query(out, event, *banner),
                Item::Response {
                    event,
                    query_time,
                    query_seen,
                } => self.draw_response(out, event, *query_time, *query_seen, *retried, *banner),
                Item::Unanswered(event) => draw_unanswered(out, event, self.opts.idn),
            },
        }
    }

    fn banner(&self, out: &mut String, event: &Event, banner: Banner) {
        if banner == Banner::Skip {
            return;
        }
        let first = banner == Banner::First;
        if first {
            out.push('\n');
        }
        out.push_str("; <<>> ");
        match &event.version {
            Some(v) if !v.is_empty() => write_escaped(out, v),
            _ => out.push_str("dnstap"),
        }
        if let Some(id) = event.identity.as_ref().filter(|i| !i.is_empty()) {
            out.push_str(" (");
            write_escaped(out, id);
            out.push(')');
        }
        out.push_str(" <<>> ");
        let own = matches!(event.mtype.0, 9 | 10);
        if !own {
            out.push_str(&event.mtype.name());
            out.push(' ');
        }
        write_args(out, event, self.opts.idn);
        out.push('\n');
        if first {
            out.push_str(";; global options: +cmd\n");
        }
    }

    fn draw_query(&mut self, out: &mut String, event: &Event, banner: Banner) {
        if !self.opts.qr || self.opts.short {
            return;
        }
        let Some(query) = &event.query_message else {
            return;
        };
        self.banner(out, event, banner);
        self.write_query_block(out, event, query);
    }

    fn write_query_block(&self, out: &mut String, event: &Event, query: &[u8]) {
        let xfr = first_qtype(query).is_some_and(is_xfr)
            && first_question(query).is_some_and(|q| is_xfr(q.qtype));
        if xfr {
            dig::write_message(out, query, false, None, &self.xfr_opts);
            if self.opts.stats {
                write_query_size(out, query.len());
            }
            return;
        }
        if self.opts.comments {
            out.push_str(if event.mtype.recorder_is_responder() {
                ";; Query received:\n"
            } else {
                ";; Sending:\n"
            });
        }
        dig::write_message(out, query, false, None, &self.opts);
        if self.opts.stats {
            write_query_size(out, query.len());
        }
    }

    /// A response that is not part of a zone transfer (the planner lays
    /// those out itself).
    fn draw_response(
        &mut self,
        out: &mut String,
        event: &Event,
        query_time: Option<Timestamp>,
        query_seen: bool,
        truncated_retry: bool,
        banner: Banner,
    ) {
        let Some(response) = event.main_message() else {
            return;
        };
        if event.direction() != Some(Direction::Response) {
            // A record of a type this schema does not know: show what it has.
            self.banner(out, event, banner);
            dig::write_message(out, response, false, None, &self.opts);
            return;
        }
        if self.opts.short {
            if truncated_retry {
                out.push_str(";; Truncated, retrying in TCP mode.\n");
            } else {
                let identify = identify(&self.opts, event, query_time);
                dig::write_short(out, response, &self.opts, &identify);
            }
            return;
        }
        self.banner(out, event, banner);
        if self.opts.qr && !query_seen {
            if let Some(query) = &event.query_message {
                self.write_query_block(out, event, query);
            }
        }
        if truncated_retry {
            out.push_str(";; Truncated, retrying in TCP mode.\n");
            return;
        }
        if self.opts.comments {
            out.push_str(if event.mtype.recorder_is_responder() {
                ";; Sent answer:\n"
            } else {
                ";; Got answer:\n"
            });
        }
        match Message::parse(response) {
            Ok(msg) => {
                // The client cookie matters only when the server sent one back.
                let cookie = dig::find_cookie_in(&msg)
                    .and(event.query_message.as_deref())
                    .and_then(dig::find_cookie);
                dig::write_parsed(out, &msg, true, cookie.as_deref(), &self.opts);
            }
            Err(_) => dig::write_message(out, response, true, None, &self.opts),
        }
        if self.opts.stats {
            write_trailer(out, &mut self.trailer, event, query_time, response.len());
        } else if self.opts.identify {
            write_received(out, event, query_time, response.len() as u64);
        }
    }
}

/// The query time in whole milliseconds, when both times were recorded.
fn query_ms(event: &Event, query_time: Option<Timestamp>) -> Option<u128> {
    let ns = event.response_time?.nanos_since(&query_time?)?;
    Some(ns / 1_000_000)
}

/// What `+identify` adds to each `+short` line: ` from server ADDR in N
/// ms.` (dig prints the server as typed; the record holds its address).
fn identify(opts: &DisplayOpts, event: &Event, query_time: Option<Timestamp>) -> String {
    let mut s = String::new();
    if let (true, Some(addr)) = (opts.identify, event.response_addr) {
        s.push_str(" from server ");
        push_ip(&mut s, addr);
        if let Some(ms) = query_ms(event, query_time) {
            let _ = write!(s, " in {ms} ms.");
        }
    }
    s
}

/// dig's `+identify` line in place of the statistics (`+nostats`):
/// `;; Received N bytes from ADDR#PORT(ADDR) in N ms`.
fn write_received(out: &mut String, event: &Event, query_time: Option<Timestamp>, bytes: u64) {
    let Some(addr) = event.response_addr else {
        return;
    };
    let _ = write!(out, ";; Received {bytes} bytes from ");
    write_server(out, addr, event.response_port);
    out.push('(');
    push_ip(out, addr);
    out.push(')');
    if let Some(ms) = query_ms(event, query_time) {
        let _ = write!(out, " in {ms} ms");
    }
    out.push_str("\n\n");
}

fn write_query_size(out: &mut String, len: usize) {
    out.push_str(";; QUERY SIZE: ");
    push_u32(out, u32::try_from(len).unwrap_or(u32::MAX));
    out.push_str("\n\n");
}

fn draw_unanswered(out: &mut String, event: &Event, idn: bool) {
    out.push_str(";; no response recorded for query");
    if let Some(q) = event.query_message.as_deref() {
        if let Ok(msg) = Message::parse(q) {
            if let Some(question) = msg.first_question() {
                out.push(' ');
                idn::write_name(out, &question.name, idn);
                let _ = write!(
                    out,
                    " {} {}",
                    class_name(question.qclass),
                    type_name(question.qtype)
                );
            }
            let _ = write!(out, " (id {})", msg.header.id);
        }
    }
    if let Some(addr) = event.response_addr {
        out.push_str(" to ");
        write_server(out, addr, event.response_port);
    }
    if let Some(p) = event.protocol {
        let _ = write!(out, " ({})", protocol_name(p));
    }
    if let Some(t) = event.query_time {
        let _ = write!(out, " sent {}", when::format_when(t.sec));
    }
    out.push('\n');
}

/// A UDP answer with TC=1 received by a stub or a tool (which retry over TCP).
fn is_truncated_udp_answer(event: &Event) -> bool {
    event.protocol == Some(Protocol::Udp)
        && matches!(event.mtype.0, 10 | 12)
        && event
            .response_message
            .as_deref()
            .is_some_and(|r| Header::parse(r).is_ok_and(|h| h.tc()))
}

/// Is `next` the TCP (or TLS) retry of the query answered by `tc`?
fn is_tcp_retry(tc: &Event, next: &Event) -> bool {
    let question = |bytes: Option<&bytes::Bytes>| bytes.and_then(|b| first_question(b));
    let same_question = match (
        question(tc.response_message.as_ref()),
        question(next.query_message.as_ref()),
    ) {
        (Some(a), Some(b)) => {
            a.qtype == b.qtype && a.qclass == b.qclass && a.name.eq_ignore_case(&b.name)
        }
        _ => false,
    };
    matches!(next.protocol, Some(Protocol::Tcp | Protocol::Dot))
        && next.mtype.family() == tc.mtype.family()
        && next.response_addr == tc.response_addr
        && same_question
}

/// The transport as dig names it in its SERVER line.
pub fn protocol_name(p: Protocol) -> String {
    match p {
        Protocol::Udp => "UDP".into(),
        Protocol::Tcp => "TCP".into(),
        Protocol::Dot => "TLS".into(),
        Protocol::Doh => "HTTPS".into(),
        Protocol::Doq => "QUIC".into(),
        Protocol::DnsCryptUdp => "DNSCrypt-UDP".into(),
        Protocol::DnsCryptTcp => "DNSCrypt-TCP".into(),
        Protocol::Other(n) => format!("PROTOCOL{n}"),
    }
}

fn write_server(out: &mut String, addr: IpAddr, port: Option<u16>) {
    let _ = write!(out, "{addr}#{}", port.map_or(0, u32::from));
}

/// `@server [-p port] name type [class] [+tcp]`, rebuilt from the record.
fn write_args(out: &mut String, event: &Event, idn: bool) {
    if let Some(addr) = event.response_addr {
        out.push('@');
        push_ip(out, addr);
        out.push(' ');
        if let Some(port) = event.response_port.filter(|p| *p != 53) {
            out.push_str("-p ");
            push_u32(out, u32::from(port));
            out.push(' ');
        }
    }
    let question = event
        .query_message
        .as_deref()
        .or(event.response_message.as_deref())
        .and_then(first_question);
    match question {
        Some(q) => {
            idn::write_name(out, &q.name, idn);
            let _ = write!(out, " {}", type_name(q.qtype));
            if q.qclass != 1 {
                let _ = write!(out, " {}", class_name(q.qclass));
            }
        }
        None => out.push_str("(no question)"),
    }
    match event.protocol {
        Some(Protocol::Tcp) => out.push_str(" +tcp"),
        Some(Protocol::Dot) => out.push_str(" +tls"),
        Some(Protocol::Doh) => out.push_str(" +https"),
        Some(Protocol::Doq) => out.push_str(" +quic"),
        _ => {}
    }
}

/// Text that repeats from one trailer to the next (a capture has one server
/// and the same second for thousands of records), kept to skip the work.
#[derive(Debug, Default)]
struct TrailerCache {
    server: Option<(IpAddr, Option<u16>, Option<Protocol>, String)>,
    when: Option<(u64, String)>,
}

impl TrailerCache {
    /// The `;; SERVER:` line, with its newline.
    fn server(&mut self, addr: IpAddr, port: Option<u16>, protocol: Option<Protocol>) -> &str {
        let fresh = !matches!(&self.server, Some((a, p, pr, _)) if *a == addr && *p == port && *pr == protocol);
        if fresh {
            let mut line = String::from(";; SERVER: ");
            write_server(&mut line, addr, port);
            let _ = write!(line, "({addr})");
            if let Some(p) = protocol {
                let _ = write!(line, " ({})", protocol_name(p));
            }
            line.push('\n');
            self.server = Some((addr, port, protocol, line));
        }
        self.server.as_ref().map_or("", |s| s.3.as_str())
    }

    /// The `;; WHEN:` line, with its newline.
    fn when(&mut self, sec: u64) -> &str {
        if !matches!(&self.when, Some((s, _)) if *s == sec) {
            self.when = Some((sec, format!(";; WHEN: {}\n", when::format_when(sec))));
        }
        self.when.as_ref().map_or("", |w| w.1.as_str())
    }
}

fn write_trailer(
    out: &mut String,
    cache: &mut TrailerCache,
    event: &Event,
    query_time: Option<Timestamp>,
    size: usize,
) {
    write_trailer_lines(out, cache, event, query_time);
    out.push_str(if event.mtype.recorder_is_responder() {
        ";; MSG SIZE  sent: "
    } else {
        ";; MSG SIZE  rcvd: "
    });
    push_u32(out, u32::try_from(size).unwrap_or(u32::MAX));
    out.push_str("\n\n");
}

/// Query time, SERVER and WHEN.
fn write_trailer_lines(
    out: &mut String,
    cache: &mut TrailerCache,
    event: &Event,
    query_time: Option<Timestamp>,
) {
    if let (Some(q), Some(r)) = (query_time, event.response_time) {
        if let Some(ns) = r.nanos_since(&q) {
            out.push_str(";; Query time: ");
            let ms = ns / 1_000_000;
            match u32::try_from(ms) {
                Ok(ms) => push_u32(out, ms),
                Err(_) => {
                    let _ = write!(out, "{ms}");
                }
            }
            out.push_str(" msec\n");
        }
    }
    if let Some(addr) = event.response_addr {
        out.push_str(cache.server(addr, event.response_port, event.protocol));
    }
    if let Some(t) = event.response_time.or(event.query_time) {
        out.push_str(cache.when(t.sec));
    }
}
