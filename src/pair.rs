//! Pairs dnstap queries with their responses, streaming, in bounded memory.
//!
//! The pairer turns a sequence of [`Event`]s (from a file or from a live
//! run, in the order they were recorded) into [`Item`]s for the renderer:
//! every query as it is seen (shown with `+qr`), every response with the
//! time of its query when that is known, and, when the stream ends or the
//! table of outstanding queries is full (by count or by bytes), the queries
//! that never got one.
//!
//! A response is matched to a query of the same collector connection (none
//! for a file), type family (STUB with STUB, AUTH with AUTH, ...),
//! protocol, addresses, ports and message ID.
//! A response frame that carries its own query time (qtap, Knot with
//! responses-with-queries, BIND's CLIENT_RESPONSE) needs no partner.
//! No I/O, no clock.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use crate::tap::event::{Direction, Event, Protocol, Timestamp};

/// How many outstanding queries are remembered by default; past that the
/// oldest is reported as unanswered.
/// Ten thousand queries in flight is far more than any capture holds, and
/// keeps the table a few MiB at most.
pub const DEFAULT_CAPACITY: usize = 10_000;

/// How many bytes the outstanding queries may hold by default (their
/// messages, the identities and versions they carry, and a fixed cost per
/// entry); past that the oldest are reported as unanswered.
///
/// Ten thousand queries of ordinary size (a few hundred bytes each with
/// their entry) stay far below it; it is what keeps a crafted trace of
/// queries with 64 KiB identities or messages from holding gigabytes.
pub const DEFAULT_MAX_BYTES: usize = 32 * 1024 * 1024;

/// What one stored query costs besides its bytes: its entry in the table
/// and in the queue, and room for its share of the identity/version table.
const ENTRY_COST: usize = std::mem::size_of::<Pending>()
    + 2 * std::mem::size_of::<(u64, Key)>()
    + 2 * (std::mem::size_of::<bytes::Bytes>() + std::mem::size_of::<usize>());

/// How many stored queries may share the caller's buffers before they are
/// copied anyway (for callers that never call [`Pairer::detach`]).
const MAX_ATTACHED: usize = 4096;

/// What the renderer is asked to show.
#[derive(Debug, Clone)]
pub enum Item {
    /// A query record, in the order it was recorded.
    Query(Event),
    /// A response record (or a record that is neither query nor response).
    Response {
        /// The record.
        event: Event,
        /// When the query was sent, from the frame itself or its partner.
        query_time: Option<Timestamp>,
        /// True when the query was already seen as its own record, so a
        /// query embedded in this frame need not be shown again.
        query_seen: bool,
    },
    /// A query that no response was recorded for.
    Unanswered(Event),
}

/// What ties a response to its query: the collector connection it came
/// in on (two senders may use the same addresses and IDs), type family,
/// transport, both ends and the message ID.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub(crate) struct Key {
    connection: Option<bytes::Bytes>,
    family: i32,
    protocol: Option<Protocol>,
    query_addr: Option<IpAddr>,
    query_port: Option<u16>,
    response_addr: Option<IpAddr>,
    response_port: Option<u16>,
    id: u16,
}

impl Key {
    /// The key of `event`, whose DNS message (for the ID) is `message`.
    pub(crate) fn of(event: &Event, message: &[u8]) -> Option<Key> {
        let id = message.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]]))?;
        Some(Key {
            connection: event.connection.clone(),
            family: event.mtype.family(),
            protocol: event.protocol,
            query_addr: event.query_addr,
            query_port: event.query_port,
            response_addr: event.response_addr,
            response_port: event.response_port,
            id,
        })
    }
}

#[derive(Debug)]
struct Pending {
    seq: u64,
    /// The query event, without any response message. Until
    /// [`Pairer::detach`] it may share the reader's buffer; after, it has
    /// its bytes to itself.
    query: Event,
    answered: bool,
    /// The query asks for a zone transfer (several responses expected).
    xfr: bool,
    /// What the entry counts against the byte budget.
    cost: usize,
    /// Its identity and version are counted in [`Shared`] (after
    /// [`Pairer::detach`]), not in `cost`.
    shared: bool,
}

/// The bytes of a waiting query's event that count against the budget
/// until it is detached.
fn attached_cost(query: &Event) -> usize {
    let len = |b: &Option<bytes::Bytes>| b.as_ref().map_or(0, |b| b.len());
    ENTRY_COST
        + len(&query.query_message)
        + len(&query.query_zone)
        + len(&query.identity)
        + len(&query.version)
}

/// What a detached query counts against the budget: its own copies.
fn detached_cost(query: &Event) -> usize {
    let len = |b: &Option<bytes::Bytes>| b.as_ref().map_or(0, |b| b.len());
    ENTRY_COST + len(&query.query_message) + len(&query.query_zone)
}

/// One copy of each distinct identity and version held by a detached
/// query, with the number of queries using it. A recorder writes the same
/// identity and version into every frame, so thousands of waiting queries
/// hold one copy, not thousands.
#[derive(Debug, Default)]
struct Shared {
    users: HashMap<bytes::Bytes, usize, foldhash::fast::RandomState>,
    /// Bytes of the distinct values held.
    bytes: usize,
}

impl Shared {
    /// Points `value` at the shared copy of its bytes, making one if there
    /// is none yet.
    fn share(&mut self, value: &mut Option<bytes::Bytes>) {
        let Some(v) = value.as_mut() else {
            return;
        };
        if let Some((own, users)) = self.users.get_key_value(v.as_ref()) {
            let own = own.clone();
            let users = *users;
            self.users.insert(own.clone(), users + 1);
            *v = own;
        } else {
            let own = bytes::Bytes::copy_from_slice(v);
            self.bytes += own.len();
            self.users.insert(own.clone(), 1);
            *v = own;
        }
    }

    /// Lets go of one use of `value`; the last one frees the copy.
    fn release(&mut self, value: &Option<bytes::Bytes>) {
        let Some(v) = value.as_ref() else {
            return;
        };
        if let Some(users) = self.users.get_mut(v.as_ref()) {
            *users -= 1;
            if *users == 0 {
                self.users.remove(v.as_ref());
                self.bytes -= v.len();
            }
        }
    }
}

/// Gives a waiting query its own copy of its message and the shared copy
/// of its identity and version, so it no longer pins the reader's buffer.
fn detach_bytes(query: &mut Event, shared: &mut Shared) {
    for b in [&mut query.query_message, &mut query.query_zone] {
        if let Some(b) = b.as_mut() {
            *b = bytes::Bytes::copy_from_slice(b);
        }
    }
    shared.share(&mut query.identity);
    shared.share(&mut query.version);
}

/// The query half of an event, sharing its bytes.
fn query_part(event: &Event) -> Event {
    Event {
        identity: event.identity.clone(),
        version: event.version.clone(),
        query_message: event.query_message.clone(),
        query_zone: event.query_zone.clone(),
        response_message: None,
        offset: event.offset,
        mtype: event.mtype,
        family: event.family,
        protocol: event.protocol,
        http_protocol: event.http_protocol,
        query_addr: event.query_addr,
        query_port: event.query_port,
        response_addr: event.response_addr,
        response_port: event.response_port,
        query_time: event.query_time,
        response_time: event.response_time,
        connection: event.connection.clone(),
    }
}

/// The pairing state. Feed events with [`Pairer::push`], then call
/// [`Pairer::finish`] once.
///
/// Outstanding queries are kept by key, and their order in a queue of
/// `(seq, key)` from which answered ones are dropped lazily (an entry whose
/// key now maps to another `seq`, or to nothing, is stale); the queue is
/// compacted when stale entries outnumber live ones, so it stays within
/// twice the table. A stored query shares the caller's buffer until
/// [`Pairer::detach`]: most are answered before that, and never copied.
///
/// Two bounds keep memory flat: the number of waiting queries and the bytes
/// they hold (`held`: each entry's cost plus the shared identities and
/// versions). Either one full, the oldest are reported as unanswered.
#[derive(Debug)]
pub struct Pairer {
    capacity: usize,
    max_bytes: usize,
    /// Bytes counted against `max_bytes`: every entry's `cost` and
    /// `shared.bytes`.
    held: usize,
    shared: Shared,
    next_seq: u64,
    /// foldhash, seeded per process: several times cheaper than SipHash
    /// on these small keys, and the table is bounded by `capacity`.
    pending: HashMap<Key, Pending, foldhash::fast::RandomState>,
    order: VecDeque<(u64, Key)>,
    /// Queries stored since the last [`Pairer::detach`] (some may be
    /// answered already).
    attached: Vec<(u64, Key)>,
}

impl Default for Pairer {
    fn default() -> Self {
        Pairer::new(DEFAULT_CAPACITY)
    }
}

impl Pairer {
    /// A pairer remembering at most `capacity` outstanding queries (at
    /// least 1) holding at most [`DEFAULT_MAX_BYTES`].
    pub fn new(capacity: usize) -> Pairer {
        Pairer::with_limits(capacity, DEFAULT_MAX_BYTES)
    }

    /// A pairer remembering at most `capacity` outstanding queries (at
    /// least 1) holding at most `max_bytes` (but always the latest query,
    /// even when it alone is bigger).
    pub fn with_limits(capacity: usize, max_bytes: usize) -> Pairer {
        Pairer {
            capacity: capacity.max(1),
            max_bytes,
            held: 0,
            shared: Shared::default(),
            next_seq: 0,
            pending: HashMap::default(),
            order: VecDeque::new(),
            attached: Vec::new(),
        }
    }

    /// Takes one event and appends what is to be shown now to `out`.
    pub fn push(&mut self, event: Event, out: &mut Vec<Item>) {
        match event.direction() {
            Some(Direction::Query) => self.push_query(event, out),
            Some(Direction::Response) => self.push_response(event, out),
            None => out.push(Item::Response {
                event,
                query_time: None,
                query_seen: false,
            }),
        }
    }

    /// Gives every query still waiting its own copy of its bytes, so that
    /// the buffer the events came in can go. The reader calls it before it
    /// starts a new buffer.
    ///
    /// Detaching never raises [`Pairer::held_bytes`]: an identity or
    /// version moves from the query's cost to the shared table, or is
    /// already there.
    pub fn detach(&mut self) {
        for (seq, key) in self.attached.drain(..) {
            if let Some(p) = self.pending.get_mut(&key) {
                if p.seq == seq && !p.shared {
                    let before = self.shared.bytes;
                    detach_bytes(&mut p.query, &mut self.shared);
                    let cost = detached_cost(&p.query);
                    self.held = self.held - p.cost + (self.shared.bytes - before) + cost;
                    p.cost = cost;
                    p.shared = true;
                }
            }
        }
    }

    /// The bytes the waiting queries hold, as counted against the budget.
    pub fn held_bytes(&self) -> usize {
        self.held
    }

    /// Removes the query waiting under `key`, and its bytes from the count.
    fn take(&mut self, key: &Key) -> Option<Pending> {
        let p = self.pending.remove(key)?;
        self.held -= p.cost;
        if p.shared {
            let before = self.shared.bytes;
            self.shared.release(&p.query.identity);
            self.shared.release(&p.query.version);
            self.held -= before - self.shared.bytes;
        }
        Some(p)
    }

    fn push_query(&mut self, event: Event, out: &mut Vec<Item>) {
        let key = event
            .query_message
            .as_deref()
            .and_then(|m| Key::of(&event, m));
        if let Some(key) = key {
            self.insert(key, query_part(&event), out);
        }
        out.push(Item::Query(event));
    }

    /// Whether the queue entry `(seq, key)` is an outstanding query.
    fn is_live(&self, seq: u64, key: &Key) -> bool {
        self.pending.get(key).is_some_and(|p| p.seq == seq)
    }

    /// Removes and returns the oldest outstanding query.
    fn pop_oldest(&mut self) -> Option<Pending> {
        while let Some((seq, key)) = self.order.pop_front() {
            if self.is_live(seq, &key) {
                return self.take(&key);
            }
        }
        None
    }

    fn insert(&mut self, key: Key, query: Event, out: &mut Vec<Item>) {
        let seq = self.next_seq;
        self.next_seq += 1;
        if let Some(old) = self.take(&key) {
            if !old.answered {
                out.push(Item::Unanswered(old.query));
            }
        }
        let cost = attached_cost(&query);
        if self.held + cost > self.max_bytes {
            // Queries still sharing the caller's buffers count their whole
            // identity and version: detaching first may make room.
            self.detach();
        }
        while self.pending.len() >= self.capacity
            || (!self.pending.is_empty() && self.held + cost > self.max_bytes)
        {
            let Some(old) = self.pop_oldest() else {
                break;
            };
            if !old.answered {
                out.push(Item::Unanswered(old.query));
            }
        }
        let xfr = query
            .query_message
            .as_deref()
            .and_then(crate::dns::wire::first_qtype)
            .is_some_and(crate::dns::xfr::is_xfr);
        self.order.push_back((seq, key.clone()));
        if self.attached.len() >= MAX_ATTACHED {
            self.detach();
        }
        self.attached.push((seq, key.clone()));
        self.pending.insert(
            key,
            Pending {
                seq,
                xfr,
                query,
                answered: false,
                cost,
                shared: false,
            },
        );
        self.held += cost;
        self.compact();
    }

    /// Drops stale queue entries once they outnumber the live ones.
    fn compact(&mut self) {
        if self.order.len() > 2 * self.pending.len() + 64 {
            let pending = &self.pending;
            self.order
                .retain(|(seq, key)| pending.get(key).is_some_and(|p| p.seq == *seq));
        }
    }

    fn push_response(&mut self, event: Event, out: &mut Vec<Item>) {
        let key = event
            .response_message
            .as_deref()
            .or(event.query_message.as_deref())
            .and_then(|m| Key::of(&event, m));
        let (partner_time, query_seen) = match key {
            Some(k) => match self.pending.get_mut(&k) {
                // A zone transfer answers with many messages: keep the query
                // for the ones to come. Anything else is done with now, which
                // keeps memory flat on long captures.
                Some(p) if p.xfr => {
                    p.answered = true;
                    (p.query.query_time, true)
                }
                Some(_) => match self.take(&k) {
                    Some(p) => (p.query.query_time, true),
                    None => (None, false),
                },
                None => (None, false),
            },
            None => (None, false),
        };
        let query_time = event.query_time.or(partner_time);
        out.push(Item::Response {
            event,
            query_time,
            query_seen,
        });
    }

    /// How many queries have been stored so far: a mark for
    /// [`Pairer::expire_before`].
    pub fn mark(&self) -> u64 {
        self.next_seq
    }

    /// Gives up on the queries stored before `mark` (a value
    /// [`Pairer::mark`] gave), oldest first: each still waiting is
    /// reported as unanswered now. A live input's caller, whose stream has
    /// no end to wait for, notes the mark with its own clock and gives up
    /// on what has waited too long: the recorder's timestamps are not
    /// trusted for that (a sender's clock may be off, or hostile).
    pub fn expire_before(&mut self, mark: u64, out: &mut Vec<Item>) {
        while let Some((seq, key)) = self.order.front() {
            if *seq >= mark {
                break;
            }
            let key = key.clone();
            let seq = *seq;
            self.order.pop_front();
            if self.is_live(seq, &key) {
                if let Some(p) = self.take(&key) {
                    if !p.answered {
                        out.push(Item::Unanswered(p.query));
                    }
                }
            }
        }
    }

    /// Ends the stream: every query still without a response, oldest first.
    pub fn finish(mut self, out: &mut Vec<Item>) {
        while let Some(p) = self.pop_oldest() {
            if !p.answered {
                out.push(Item::Unanswered(p.query));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tap::event::MessageType;
    use bytes::Bytes;

    fn event(mtype: i32, id: u16, qport: u16, t: u64) -> Event {
        let msg = Bytes::from(vec![(id >> 8) as u8, id as u8, 0, 0]);
        let is_query = mtype % 2 == 1;
        Event {
            offset: None,
            identity: None,
            version: None,
            mtype: MessageType(mtype),
            family: Some(1),
            protocol: Some(Protocol::Udp),
            http_protocol: None,
            query_addr: Some("127.0.0.1".parse().unwrap()),
            query_port: Some(qport),
            response_addr: Some("127.0.0.2".parse().unwrap()),
            response_port: Some(53),
            query_time: is_query.then_some(Timestamp { sec: t, nsec: 0 }),
            response_time: (!is_query).then_some(Timestamp { sec: t, nsec: 0 }),
            query_message: is_query.then(|| msg.clone()),
            query_zone: None,
            response_message: (!is_query).then_some(msg),
            connection: None,
        }
    }

    fn kinds(items: &[Item]) -> Vec<String> {
        items
            .iter()
            .map(|i| match i {
                Item::Query(e) => format!("Q{}", e.query_port.unwrap()),
                Item::Response {
                    event, query_time, ..
                } => format!(
                    "R{}@{}",
                    event.query_port.unwrap(),
                    query_time.map_or(-1, |t| t.sec as i64)
                ),
                Item::Unanswered(e) => format!("U{}", e.query_port.unwrap()),
            })
            .collect()
    }

    #[test]
    fn response_gets_its_query_time_from_the_matching_query() {
        let mut p = Pairer::default();
        let mut out = Vec::new();
        p.push(event(9, 7, 1000, 5), &mut out);
        p.push(event(9, 8, 1001, 6), &mut out);
        p.push(event(10, 8, 1001, 9), &mut out);
        p.push(event(10, 7, 1000, 10), &mut out);
        p.finish(&mut out);
        assert_eq!(kinds(&out), ["Q1000", "Q1001", "R1001@6", "R1000@5"]);
    }

    #[test]
    fn no_match_across_families_ids_or_ports() {
        let mut p = Pairer::default();
        let mut out = Vec::new();
        p.push(event(11, 7, 1000, 5), &mut out); // TOOL_QUERY
        p.push(event(10, 7, 1000, 6), &mut out); // STUB_RESPONSE: other family
        p.push(event(12, 8, 1000, 6), &mut out); // other ID
        p.push(event(12, 7, 1001, 6), &mut out); // other port
        p.finish(&mut out);
        assert_eq!(
            kinds(&out),
            ["Q1000", "R1000@-1", "R1000@-1", "R1001@-1", "U1000"]
        );
    }

    #[test]
    fn each_collector_connection_pairs_on_its_own() {
        let on = |conn: &'static str, mut e: Event| {
            e.connection = Some(Bytes::from_static(conn.as_bytes()));
            e
        };
        let mut p = Pairer::default();
        let mut out = Vec::new();
        // Two senders, the same addresses, ports and ID, interleaved.
        p.push(on("a", event(9, 7, 1000, 5)), &mut out);
        p.push(on("b", event(9, 7, 1000, 6)), &mut out);
        p.push(on("b", event(10, 7, 1000, 8)), &mut out);
        p.push(on("a", event(10, 7, 1000, 9)), &mut out);
        p.finish(&mut out);
        assert_eq!(kinds(&out), ["Q1000", "Q1000", "R1000@6", "R1000@5"]);
    }

    #[test]
    fn expire_before_reports_the_queries_stored_before_the_mark() {
        let mut p = Pairer::default();
        let mut out = Vec::new();
        p.push(event(5, 1, 1, 10), &mut out);
        p.push(event(5, 2, 2, 20), &mut out);
        let mark = p.mark();
        p.push(event(5, 3, 3, 30), &mut out);
        // The first is answered: nothing of it is left to give up on.
        p.push(event(6, 1, 1, 31), &mut out);
        out.clear();
        p.expire_before(mark, &mut out);
        assert_eq!(kinds(&out), ["U2"]);
        out.clear();
        p.expire_before(mark, &mut out);
        assert!(out.is_empty());
        // A late response to a query given up on pairs with nothing.
        p.push(event(6, 2, 2, 40), &mut out);
        assert_eq!(kinds(&out), ["R2@-1"]);
        out.clear();
        p.expire_before(p.mark(), &mut out);
        assert_eq!(kinds(&out), ["U3"]);
        out.clear();
        p.finish(&mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn unanswered_queries_are_reported_at_the_end_in_order() {
        let mut p = Pairer::default();
        let mut out = Vec::new();
        for port in [3, 1, 2] {
            p.push(event(9, 1, port, 1), &mut out);
        }
        p.push(event(10, 1, 1, 2), &mut out);
        p.finish(&mut out);
        assert_eq!(kinds(&out), ["Q3", "Q1", "Q2", "R1@1", "U3", "U2"]);
    }

    #[test]
    fn capacity_evicts_oldest_as_unanswered() {
        let mut p = Pairer::new(2);
        let mut out = Vec::new();
        for port in 1..=3 {
            p.push(event(9, 1, port, 1), &mut out);
        }
        assert_eq!(kinds(&out), ["Q1", "Q2", "U1", "Q3"]);
    }

    #[test]
    fn zone_transfer_responses_all_get_the_query_time() {
        let axfr = crate::testutil::query_message(1, "zone.example", crate::dns::types::AXFR);
        let mut p = Pairer::default();
        let mut out = Vec::new();
        let mut q = event(9, 1, 1, 1);
        q.query_message = Some(Bytes::from(axfr));
        p.push(q, &mut out);
        p.push(event(10, 1, 1, 2), &mut out);
        p.push(event(10, 1, 1, 3), &mut out);
        p.finish(&mut out);
        assert_eq!(kinds(&out), ["Q1", "R1@1", "R1@1"]);
    }

    #[test]
    fn answered_queries_are_forgotten() {
        let mut p = Pairer::default();
        let mut out = Vec::new();
        for port in 0..50_000u16 {
            p.push(event(9, 1, port, 1), &mut out);
            p.push(event(10, 1, port, 2), &mut out);
        }
        assert!(p.pending.is_empty() && p.order.len() <= 64);
        // A duplicate response has no partner any more.
        p.push(event(10, 1, 7, 3), &mut out);
        assert!(matches!(
            out.last(),
            Some(Item::Response {
                query_time: None,
                ..
            })
        ));
    }

    #[test]
    fn an_old_unanswered_query_keeps_its_place_while_the_queue_stays_small() {
        let mut p = Pairer::new(10);
        let mut out = Vec::new();
        p.push(event(9, 9, 1, 1), &mut out);
        for port in 2..20_000u16 {
            p.push(event(9, 1, port, 1), &mut out);
            p.push(event(10, 1, port, 2), &mut out);
        }
        assert!(
            p.order.len() <= 2 * p.pending.len() + 64,
            "{}",
            p.order.len()
        );
        p.push(event(9, 2, 7, 3), &mut out);
        out.clear();
        p.finish(&mut out);
        assert_eq!(kinds(&out), ["U1", "U7"]);
    }

    #[test]
    fn detached_queries_stop_sharing_the_buffer() {
        let mut p = Pairer::default();
        let mut out = Vec::new();
        let q = event(9, 5, 1, 1);
        let shared = q.query_message.clone().unwrap();
        p.push(q, &mut out);
        let stored = |p: &Pairer| {
            p.pending
                .values()
                .next()
                .unwrap()
                .query
                .query_message
                .clone()
        };
        assert_eq!(stored(&p).unwrap().as_ptr(), shared.as_ptr());
        p.detach();
        let copy = stored(&p).unwrap();
        assert_ne!(copy.as_ptr(), shared.as_ptr());
        assert_eq!(copy, shared);
        // Pairing is unchanged.
        p.push(event(10, 5, 1, 4), &mut out);
        assert_eq!(kinds(&out), ["Q1", "R1@1"]);
    }

    /// The bytes the waiting queries really keep alive: every distinct
    /// buffer (by address) among their messages, identities and versions.
    fn real_bytes(p: &Pairer) -> usize {
        let mut seen = std::collections::HashSet::new();
        let mut total = 0;
        for q in p.pending.values().map(|p| &p.query) {
            for b in [&q.query_message, &q.identity, &q.version]
                .into_iter()
                .flatten()
            {
                if seen.insert((b.as_ptr(), b.len())) {
                    total += b.len();
                }
            }
        }
        total
    }

    #[test]
    fn the_byte_budget_reports_the_oldest_queries_as_unanswered() {
        // 200 unanswered queries, each with its own 4 KiB identity, under a
        // 64 KiB budget: the held bytes never pass it, and the queries
        // evicted to stay under it are reported oldest first.
        const BUDGET: usize = 64 * 1024;
        let mut p = Pairer::with_limits(10_000, BUDGET);
        let mut out = Vec::new();
        for port in 0..200u16 {
            let mut q = event(9, 1, port, 1);
            q.identity = Some(Bytes::from(vec![port as u8; 4096]));
            q.version = Some(Bytes::from_static(b"recorder 1.0"));
            p.push(q, &mut out);
            if port % 16 == 15 {
                p.detach();
            }
            assert!(p.held_bytes() <= BUDGET, "{}", p.held_bytes());
            assert!(real_bytes(&p) <= BUDGET, "{}", real_bytes(&p));
        }
        let evicted: Vec<u16> = out
            .iter()
            .filter_map(|i| match i {
                Item::Unanswered(e) => e.query_port,
                _ => None,
            })
            .collect();
        assert!(evicted.len() > 150, "{}", evicted.len());
        assert!(evicted.iter().copied().eq(0..evicted.len() as u16));
        // The rest come out at the end, and every query exactly once.
        out.clear();
        p.finish(&mut out);
        assert!(kinds(&out).iter().eq((evicted.len() as u16..200)
            .map(|port| format!("U{port}"))
            .collect::<Vec<_>>()
            .iter()));
    }

    #[test]
    fn waiting_queries_share_one_copy_of_their_identity_and_version() {
        // 1,000 waiting queries, each with the same 8 KiB identity in its own
        // buffer (as each frame brings it): kept once, so a 1 MiB budget
        // holds them all (8 MB if each kept a copy).
        const BUDGET: usize = 1024 * 1024;
        let identity = vec![b'i'; 8192];
        let mut p = Pairer::with_limits(10_000, BUDGET);
        let mut out = Vec::new();
        for port in 0..1000u16 {
            let mut q = event(9, 1, port, 1);
            q.identity = Some(Bytes::from(identity.clone()));
            q.version = Some(Bytes::from(b"recorder 1.0".to_vec()));
            p.push(q, &mut out);
            if port % 100 == 99 {
                p.detach();
            }
        }
        assert!(p.held_bytes() <= BUDGET, "{}", p.held_bytes());
        let first = |e: &Event| e.identity.as_ref().map(|b| b.as_ptr());
        let ids: std::collections::HashSet<_> =
            p.pending.values().map(|w| first(&w.query)).collect();
        assert_eq!(ids.len(), 1);
        assert!(real_bytes(&p) < BUDGET / 4, "{}", real_bytes(&p));
        // Every response still finds its query; then nothing is held.
        for port in 0..1000u16 {
            p.push(event(10, 1, port, 2), &mut out);
        }
        assert!(!out.iter().any(|i| matches!(i, Item::Unanswered(_))));
        assert_eq!(
            out.iter()
                .filter(|i| matches!(
                    i,
                    Item::Response {
                        query_time: Some(_),
                        ..
                    }
                ))
                .count(),
            1000
        );
        assert_eq!((p.held_bytes(), p.shared.users.len()), (0, 0));
    }

    #[test]
    fn self_contained_response_uses_its_own_query_time() {
        let mut p = Pairer::default();
        let mut out = Vec::new();
        let mut r = event(2, 1, 1, 9);
        r.query_time = Some(Timestamp { sec: 4, nsec: 0 });
        p.push(r, &mut out);
        assert_eq!(kinds(&out), ["R1@4"]);
        match &out[0] {
            Item::Response { query_seen, .. } => assert!(!query_seen),
            other => panic!("{other:?}"),
        }
    }
}
