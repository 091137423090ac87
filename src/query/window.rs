//! The book of a UDP window ([`super::batch::UdpWindow`]): many queries to
//! one server in flight at once on a few shared sockets, without a task
//! or a future per query. This part is pure: it picks each query's socket
//! and message ID, matches the datagrams that come in, keeps the
//! deadlines, tries again as `+tries` allows and says what happened as
//! the lookup driver says it ([`super::lookup`]); the sockets and the
//! system calls are the caller's, which tells it what went out and what
//! came in.
//!
//! The rules are the shared sockets' of the driver ([`super::udp`]): a
//! socket carries at most [`PER_SOCKET`] exchanges in its life, each with
//! an ID of its own that is not used again on it; a datagram goes to the
//! exchange waiting for its ID, which checks ID, QR and question (RFC 5452
//! §9.1); one for no waiting ID goes to the socket's oldest waiting
//! exchange to be reported and skipped, unless it is a late reply to an
//! exchange already over; a socket error (an ICMP "port unreachable")
//! ends the try of every exchange waiting on it. Each try has its own
//! deadline from its send; every query has the same timeout, so the
//! deadlines come in send order and wait in a plain queue.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::error::{Mismatch, QueryError};
use super::lookup::{check_answer, hash, udp_record, RecordMeta};
use super::udp::PER_SOCKET;
use crate::tap::event::{Event, Timestamp};

/// Skipped replies said one by one in a try (as the driver's); later ones
/// are counted and the count said when the try ends.
const SKIPS_SAID: usize = 5;

/// How a query of the window ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// A response was accepted.
    Answered,
    /// A response was accepted, with TC set (and `+ignore` not given):
    /// the caller asks again over TCP.
    Truncated,
    /// Every try failed.
    NoReply,
}

/// A query the window is done with.
#[derive(Debug)]
pub struct Done {
    /// What the caller tagged it with.
    pub tag: u64,
    pub how: How,
    /// The dnstap records of the queries sent, with queries kept
    /// ([`Settings::keep_queries`]), in order; the response's is
    /// [`Answer::record`], made only when wanted.
    pub records: Vec<Event>,
    /// What the driver would have said: timeouts, errors, skipped replies.
    pub diags: Vec<String>,
    /// The response accepted.
    pub answer: Option<Answer>,
}

/// The exchange that a response accepted ended: what its dnstap record
/// holds.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The socket the query went from.
    pub local: SocketAddr,
    pub server: SocketAddr,
    /// The query as sent (its ID the try's).
    pub query: Bytes,
    pub query_time: Timestamp,
    pub response: Bytes,
    pub response_time: Timestamp,
}

impl Answer {
    /// The response's dnstap record, as the lookup driver makes it.
    pub fn record(&self, meta: &RecordMeta) -> Event {
        udp_record(
            meta,
            self.local,
            self.server,
            self.query.clone(),
            self.query_time,
            Some((self.response.to_vec(), self.response_time)),
        )
    }
}

/// Settings of a window.
#[derive(Debug, Clone)]
pub struct Settings {
    pub server: SocketAddr,
    pub meta: RecordMeta,
    /// Each try's time from its send.
    pub timeout: Duration,
    /// Tries per query (at least 1).
    pub tries: u32,
    /// `+ignore`: a truncated answer is the answer.
    pub ignore_tc: bool,
    /// Record the queries sent too (`--tap`).
    pub keep_queries: bool,
}

/// One query, from [`Book::push`] until it is done.
struct Flight {
    tag: u64,
    query: Vec<u8>,
    /// Tries started.
    tries: u32,
    /// Which try is in flight, among all the book's (a flight's place is
    /// used again by later queries: a deadline names the try it is for).
    try_id: u64,
    /// The socket (serial) and ID of the try in flight.
    at: Option<(u64, u16)>,
    /// When the try in flight went out, and from where.
    sent: Option<(Timestamp, SocketAddr)>,
    /// Since when the kernel has not taken this try's query.
    held_since: Option<Instant>,
    said: usize,
    more: u64,
    records: Vec<Event>,
    diags: Vec<String>,
}

/// One socket's share of the book.
struct Sock {
    serial: u64,
    local: SocketAddr,
    /// Every ID it carried, with the flight still waiting on it.
    ids: Vec<(u16, Option<usize>)>,
    /// An error ended it: nothing more goes out on it.
    failed: bool,
}

impl Sock {
    fn spent(&self) -> bool {
        self.failed || self.ids.len() >= PER_SOCKET
    }

    fn waiting(&self) -> bool {
        self.ids.iter().any(|(_, f)| f.is_some())
    }
}

/// What [`Book::assign`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Assign {
    /// These many queued queries got IDs on the socket with this serial,
    /// in the keys handed back, to go out now.
    Ready(u64),
    /// A socket with room is needed first ([`Book::opened`]).
    NeedSocket,
    /// Nothing is queued.
    Idle,
}

/// The book of a window: see the module's documentation.
pub struct Book {
    settings: Settings,
    flights: Vec<Option<Flight>>,
    free: Vec<usize>,
    live: usize,
    /// Flights waiting to go out (new, or trying again), in order.
    queue: VecDeque<usize>,
    /// Deadlines of tries in flight, in send order: (when, flight, try).
    deadlines: VecDeque<(Instant, usize, u64)>,
    /// The next try's [`Flight::try_id`].
    next_try: u64,
    socks: Vec<Sock>,
    done: VecDeque<Done>,
}

impl Book {
    pub fn new(settings: Settings) -> Book {
        Book {
            settings,
            flights: Vec::new(),
            free: Vec::new(),
            live: 0,
            queue: VecDeque::new(),
            deadlines: VecDeque::new(),
            next_try: 0,
            socks: Vec::new(),
            done: VecDeque::new(),
        }
    }

    /// The server.
    pub fn server(&self) -> SocketAddr {
        self.settings.server
    }

    /// Queries not taken yet (queued, in flight, or done and not taken).
    pub fn live(&self) -> usize {
        self.live
    }

    /// Whether anything is queued to go out.
    pub fn queued(&self) -> bool {
        !self.queue.is_empty()
    }

    /// Adds a query (its ID is set when it goes out).
    pub fn push(&mut self, tag: u64, query: Vec<u8>) {
        let flight = Flight {
            tag,
            query,
            tries: 0,
            try_id: u64::MAX,
            at: None,
            sent: None,
            held_since: None,
            said: 0,
            more: 0,
            records: Vec::new(),
            diags: Vec::new(),
        };
        let key = match self.free.pop() {
            Some(k) => {
                self.flights[k] = Some(flight);
                k
            }
            None => {
                self.flights.push(Some(flight));
                self.flights.len() - 1
            }
        };
        self.live += 1;
        self.queue.push_back(key);
    }

    /// A socket was opened for the queries queued.
    pub fn opened(&mut self, serial: u64, local: SocketAddr) {
        self.socks.push(Sock {
            serial,
            local,
            ids: Vec::new(),
            failed: false,
        });
    }

    /// No socket could be opened: the next query queued fails a try (as
    /// the driver's does when its socket cannot be opened).
    pub fn cannot_open(&mut self, e: &QueryError) {
        if let Some(key) = self.queue.pop_front() {
            if let Some(f) = self.flights[key].as_mut() {
                f.tries += 1;
            }
            self.try_failed(key, e);
        }
    }

    /// Gives queued queries (at most `max`) IDs on the newest socket with
    /// room, and their keys in `keys`: they go out now, in one batch.
    pub fn assign(
        &mut self,
        max: usize,
        keys: &mut Vec<usize>,
        rng: &mut impl FnMut() -> u16,
    ) -> Assign {
        keys.clear();
        if self.queue.is_empty() {
            return Assign::Idle;
        }
        let Some(sock) = self.socks.last_mut().filter(|s| !s.spent()) else {
            return Assign::NeedSocket;
        };
        while keys.len() < max && !sock.spent() {
            let Some(key) = self.queue.pop_front() else {
                break;
            };
            let id = loop {
                let id = rng();
                if sock.ids.iter().all(|(used, _)| *used != id) {
                    break id;
                }
            };
            sock.ids.push((id, Some(key)));
            if let Some(f) = self.flights[key].as_mut() {
                if let Some(b) = f.query.get_mut(..2) {
                    b.copy_from_slice(&id.to_be_bytes());
                }
                f.at = Some((sock.serial, id));
                f.tries += 1;
                f.said = 0;
                f.more = 0;
            }
            keys.push(key);
        }
        Assign::Ready(sock.serial)
    }

    /// The message of a query given out by [`Book::assign`].
    pub fn message(&self, key: usize) -> &[u8] {
        self.flights
            .get(key)
            .and_then(Option::as_ref)
            .map_or(&[], |f| &f.query)
    }

    /// These queries went out at `now` (`wall`, the records' time): their
    /// tries' deadlines start.
    pub fn sent(&mut self, keys: &[usize], now: Instant, wall: Timestamp) {
        let deadline = now + self.settings.timeout;
        for &key in keys {
            let Some(f) = self.flights[key].as_mut() else {
                continue;
            };
            let local =
                f.at.and_then(|(serial, _)| self.socks.iter().find(|s| s.serial == serial))
                    .map_or(self.settings.server, |s| s.local);
            f.sent = Some((wall, local));
            f.held_since = None;
            f.try_id = self.next_try;
            self.next_try += 1;
            if self.settings.keep_queries {
                f.records.push(udp_record(
                    &self.settings.meta,
                    local,
                    self.settings.server,
                    Bytes::copy_from_slice(&f.query),
                    wall,
                    None,
                ));
            }
            self.deadlines.push_back((deadline, key, f.try_id));
        }
        // Tries answered leave their deadline behind until it comes to the
        // front: behind one slow try, a fast run would pile them up for a
        // whole timeout (millions, with a long +timeout).
        if self.deadlines.len() > 4 * self.live + 64 {
            let flights = &self.flights;
            self.deadlines
                .retain(|&(_, key, try_id)| current(flights, key, try_id));
        }
    }

    /// These queries given out by [`Book::assign`] did not go at `now`:
    /// the first for `error` (its try failed), the others to go again as
    /// they are queued (their IDs stay used on that socket). A query the
    /// kernel has refused to take for a whole timeout has timed out: a
    /// send queue that never drains cannot hold the run.
    pub fn not_sent(&mut self, keys: &[usize], error: Option<&QueryError>, now: Instant) {
        let mut keys = keys.iter();
        if let (Some(e), Some(&key)) = (error, keys.clone().next()) {
            keys.next();
            self.unwait(key);
            self.try_failed(key, e);
        }
        let timeout = self.settings.timeout;
        for &key in keys.rev() {
            self.unwait(key);
            let Some(f) = self.flights[key].as_mut() else {
                continue;
            };
            let since = *f.held_since.get_or_insert(now);
            if now.saturating_duration_since(since) >= timeout {
                f.held_since = None;
                self.try_failed(key, &QueryError::Timeout);
                continue;
            }
            f.tries -= 1;
            self.queue.push_front(key);
        }
    }

    /// A datagram came in on the socket `serial`.
    pub fn datagram(&mut self, serial: u64, data: &[u8], wall: Timestamp) {
        let Some(si) = self.socks.iter().position(|s| s.serial == serial) else {
            return;
        };
        let id = match data {
            [a, b, ..] => Some(u16::from_be_bytes([*a, *b])),
            _ => None,
        };
        let ids = &self.socks[si].ids;
        let to = match id.and_then(|id| ids.iter().find(|(used, _)| *used == id)) {
            Some((_, Some(key))) => Some(*key),
            // A late reply to an exchange already over.
            Some((_, None)) => return,
            // The oldest waiting exchange reports it.
            None => ids.iter().find_map(|(_, f)| *f),
        };
        let Some(key) = to else {
            return;
        };
        let Some(f) = self.flights[key].as_mut() else {
            return;
        };
        match check_answer(&f.query, data) {
            Ok(()) => self.answered(key, data, wall),
            Err(why) => skip(f, self.settings.server, &why),
        }
    }

    /// A socket error (connection refused, …) on the socket `serial`: the
    /// try of every query waiting there failed, and the socket takes no
    /// more.
    pub fn socket_failed(&mut self, serial: u64, e: &QueryError) {
        let Some(sock) = self.socks.iter_mut().find(|s| s.serial == serial) else {
            return;
        };
        sock.failed = true;
        let keys: Vec<usize> = sock.ids.iter().filter_map(|(_, f)| *f).collect();
        for key in keys {
            self.unwait(key);
            self.try_failed(key, e);
        }
    }

    /// Ends the tries whose deadline is `now` or past.
    pub fn expire(&mut self, now: Instant) {
        while let Some(&(at, key, try_id)) = self.deadlines.front() {
            let current = current(&self.flights, key, try_id);
            if current && at > now {
                break;
            }
            self.deadlines.pop_front();
            if current {
                self.unwait(key);
                self.try_failed(key, &QueryError::Timeout);
            }
        }
    }

    /// The next deadline of a try in flight.
    pub fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(&(at, key, try_id)) = self.deadlines.front() {
            if current(&self.flights, key, try_id) {
                return Some(at);
            }
            self.deadlines.pop_front();
        }
        None
    }

    /// A socket that is spent (or failed) and has no exchange waiting:
    /// the caller closes it.
    pub fn spent_socket(&mut self) -> Option<u64> {
        let i = self.socks.iter().position(|s| s.spent() && !s.waiting())?;
        Some(self.socks.remove(i).serial)
    }

    /// Whether a query is done and not taken yet.
    pub fn has_done(&self) -> bool {
        !self.done.is_empty()
    }

    /// Nothing more goes out on the socket `serial` (the queries waiting
    /// there still may be answered).
    pub fn retire(&mut self, serial: u64) {
        if let Some(sock) = self.socks.iter_mut().find(|s| s.serial == serial) {
            sock.failed = true;
        }
    }

    /// Whether the socket `serial` takes no more queries.
    pub fn retired(&self, serial: u64) -> bool {
        self.socks
            .iter()
            .find(|s| s.serial == serial)
            .is_none_or(|s| s.failed)
    }

    /// A query the window is done with.
    pub fn take_done(&mut self) -> Option<Done> {
        let done = self.done.pop_front()?;
        self.live -= 1;
        Some(done)
    }

    /// The query at `key` no longer waits on its socket (its ID stays used).
    fn unwait(&mut self, key: usize) {
        let Some(f) = self.flights[key].as_mut() else {
            return;
        };
        let Some((serial, id)) = f.at.take() else {
            return;
        };
        if let Some(sock) = self.socks.iter_mut().find(|s| s.serial == serial) {
            if let Some(e) = sock.ids.iter_mut().find(|(used, _)| *used == id) {
                e.1 = None;
            }
        }
    }

    /// The try of the query at `key` failed: said as the driver says it;
    /// the query goes again, or is done.
    fn try_failed(&mut self, key: usize, e: &QueryError) {
        let server = self.settings.server;
        let Some(f) = self.flights[key].as_mut() else {
            return;
        };
        end_skips(f, server);
        f.held_since = None;
        f.diags
            .push(format!(";; communications error to {}: {e}", hash(server)));
        if f.tries < self.settings.tries.max(1) {
            self.queue.push_back(key);
        } else {
            self.finish(key, How::NoReply, None);
        }
    }

    fn answered(&mut self, key: usize, data: &[u8], wall: Timestamp) {
        self.unwait(key);
        let (server, ignore_tc) = (self.settings.server, self.settings.ignore_tc);
        let Some(f) = self.flights[key].as_mut() else {
            return;
        };
        end_skips(f, server);
        let (query_time, local) = f.sent.unwrap_or((wall, server));
        let answer = Answer {
            local,
            server,
            query: Bytes::from(std::mem::take(&mut f.query)),
            query_time,
            response: Bytes::copy_from_slice(data),
            response_time: wall,
        };
        let truncated = data.get(2).is_some_and(|b| b & 0x02 != 0);
        let how = if truncated && !ignore_tc {
            How::Truncated
        } else {
            How::Answered
        };
        self.finish(key, how, Some(answer));
    }

    fn finish(&mut self, key: usize, how: How, answer: Option<Answer>) {
        let Some(f) = self.flights[key].take() else {
            return;
        };
        self.free.push(key);
        self.done.push_back(Done {
            tag: f.tag,
            how,
            records: f.records,
            diags: f.diags,
            answer,
        });
    }
}

/// Whether the try `try_id` of the flight at `key` is still in flight.
fn current(flights: &[Option<Flight>], key: usize, try_id: u64) -> bool {
    flights
        .get(key)
        .and_then(Option::as_ref)
        .is_some_and(|f| f.try_id == try_id && f.at.is_some())
}

/// One reply skipped in the current try of `f`.
fn skip(f: &mut Flight, server: SocketAddr, why: &Mismatch) {
    if f.said < SKIPS_SAID {
        f.said += 1;
        f.diags.push(format!(
            ";; Warning: ignoring reply from {}: {why}",
            hash(server)
        ));
    } else {
        f.more += 1;
    }
}

/// The try of `f` is over: says how many skipped replies went unsaid.
fn end_skips(f: &mut Flight, server: SocketAddr) {
    if f.more > 0 {
        f.diags.push(format!(
            ";; Warning: ignoring reply from {}: ... and {} more like it",
            hash(server),
            f.more
        ));
        f.more = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::spec::TapType;

    const SERVER: &str = "127.0.0.1:5353";

    fn book(tries: u32, ignore_tc: bool) -> Book {
        Book::new(Settings {
            server: SERVER.parse().unwrap(),
            meta: RecordMeta {
                kind: TapType::Stub,
                identity: None,
                version: Bytes::from_static(b"test"),
            },
            timeout: Duration::from_secs(2),
            tries,
            ignore_tc,
            keep_queries: true,
        })
    }

    fn query(name: &str) -> Vec<u8> {
        crate::testutil::query_message(0, name, 1)
    }

    /// `message` answered (QR set), with `flags` added to its third byte.
    fn answer(message: &[u8], flags: u8) -> Vec<u8> {
        let mut a = message.to_vec();
        a[2] |= 0x80 | flags;
        a
    }

    fn wall() -> Timestamp {
        Timestamp { sec: 1, nsec: 2 }
    }

    /// IDs 1, 1, 2, 2, 3, 3, …: every one offered twice.
    fn twice() -> impl FnMut() -> u16 {
        let mut n = 0u32;
        move || {
            n += 1;
            n.div_ceil(2) as u16
        }
    }

    #[test]
    fn a_socket_carries_a_limited_number_of_ids_each_its_own() {
        let mut b = book(1, false);
        for i in 0..PER_SOCKET + 3 {
            b.push(i as u64, query("a.example"));
        }
        let (mut keys, mut rng) = (Vec::new(), twice());
        assert_eq!(b.assign(64, &mut keys, &mut rng), Assign::NeedSocket);
        b.opened(7, "127.0.0.1:40000".parse().unwrap());
        assert_eq!(b.assign(usize::MAX, &mut keys, &mut rng), Assign::Ready(7));
        assert_eq!(keys.len(), PER_SOCKET);
        let mut ids: Vec<u16> = keys
            .iter()
            .map(|k| u16::from_be_bytes([b.message(*k)[0], b.message(*k)[1]]))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), PER_SOCKET, "no ID twice on one socket");
        // The socket is spent: the rest need another.
        assert_eq!(b.assign(64, &mut keys, &mut rng), Assign::NeedSocket);
        b.opened(8, "127.0.0.1:40001".parse().unwrap());
        assert_eq!(b.assign(64, &mut keys, &mut rng), Assign::Ready(8));
        assert_eq!(keys.len(), 3);
        assert_eq!(b.assign(64, &mut keys, &mut rng), Assign::Idle);
        // A spent socket goes once nothing waits on it.
        assert_eq!(b.spent_socket(), None);
        let sent: Vec<Vec<u8>> = (0..PER_SOCKET).map(|k| b.message(k).to_vec()).collect();
        for q in sent {
            b.datagram(7, &answer(&q, 0), wall());
        }
        assert_eq!(b.spent_socket(), Some(7));
        assert_eq!(b.spent_socket(), None);
    }

    /// A book with `n` queries for a.example, b.example, … sent on socket 0.
    fn sent(n: usize, tries: u32, now: Instant) -> (Book, Vec<usize>) {
        let mut b = book(tries, false);
        for i in 0..n {
            b.push(
                i as u64,
                query(&format!("{}.example", (b'a' + i as u8) as char)),
            );
        }
        b.opened(0, "127.0.0.1:40000".parse().unwrap());
        let mut keys = Vec::new();
        let mut id = 100u16;
        b.assign(64, &mut keys, &mut || {
            id += 1;
            id
        });
        b.sent(&keys, now, wall());
        (b, keys)
    }

    #[test]
    fn a_reply_goes_to_its_query_and_a_stray_to_the_oldest_waiting() {
        let now = Instant::now();
        let (mut b, keys) = sent(2, 1, now);
        let (first, second) = (b.message(keys[0]).to_vec(), b.message(keys[1]).to_vec());
        // The second query's ID with the first's question: skipped, said
        // by the second (its ID); an unknown ID: said by the oldest.
        let mut wrong = answer(&first, 0);
        wrong[..2].copy_from_slice(&second[..2]);
        b.datagram(0, &wrong, wall());
        let mut unknown = answer(&first, 0);
        unknown[..2].copy_from_slice(&9u16.to_be_bytes());
        b.datagram(0, &unknown, wall());
        b.datagram(0, b"x", wall());
        assert!(!b.has_done());
        b.datagram(0, &answer(&second, 0), wall());
        let done = b.take_done().unwrap();
        assert_eq!((done.tag, done.how), (1, How::Answered));
        assert_eq!(done.diags, [format!(";; Warning: ignoring reply from 127.0.0.1#5353: reply id {} has a different question", u16::from_be_bytes([second[0], second[1]]))]);
        // A late copy of an answer already taken: quiet.
        b.datagram(0, &answer(&second, 0), wall());
        b.datagram(0, &answer(&first, 0), wall());
        let done = b.take_done().unwrap();
        assert_eq!((done.tag, done.how), (0, How::Answered));
        assert_eq!(done.diags.len(), 2, "{:?}", done.diags);
        assert!(
            done.diags[0].contains("ID mismatch: expected ID"),
            "{:?}",
            done.diags
        );
        assert!(
            done.diags[1].contains("1 byte reply is not DNS"),
            "{:?}",
            done.diags
        );
        // Its records: the query sent, then the answer, from one socket.
        let a = done.answer.unwrap();
        assert_eq!(a.response.as_ref(), &answer(&first, 0)[..]);
        assert_eq!(done.records.len(), 1);
        assert_eq!(done.records[0].query_message.as_deref(), Some(&first[..]));
        let r = a.record(&b.settings.meta);
        assert_eq!(r.query_port, Some(40000));
        assert_eq!(r.response_port, Some(5353));
        assert_eq!(b.live(), 0);
    }

    #[test]
    fn a_try_out_of_time_goes_again_with_another_id_then_gives_up() {
        let now = Instant::now();
        let (mut b, keys) = sent(1, 2, now);
        let first = b.message(keys[0]).to_vec();
        b.expire(now + Duration::from_millis(1999));
        assert!(!b.has_done());
        assert_eq!(b.next_deadline(), Some(now + Duration::from_secs(2)));
        b.expire(now + Duration::from_secs(2));
        assert!(!b.has_done() && b.queued());
        let mut keys = Vec::new();
        assert_eq!(b.assign(64, &mut keys, &mut || 555), Assign::Ready(0));
        assert_eq!(&b.message(keys[0])[..2], &555u16.to_be_bytes());
        let later = now + Duration::from_secs(3);
        b.sent(&keys, later, wall());
        // The first try's answer, late: its ID is not waited for any more.
        b.datagram(0, &answer(&first, 0), wall());
        assert!(!b.has_done());
        b.expire(later + Duration::from_secs(2));
        let done = b.take_done().unwrap();
        assert_eq!(done.how, How::NoReply);
        assert_eq!(
            done.diags,
            [";; communications error to 127.0.0.1#5353: timed out"; 2]
        );
        assert_eq!(done.records.len(), 2, "both queries recorded");
        assert_eq!(b.next_deadline(), None);
    }

    #[test]
    fn a_query_in_the_place_of_one_done_keeps_its_own_deadline() {
        let now = Instant::now();
        let (mut b, keys) = sent(1, 1, now);
        let q = b.message(keys[0]).to_vec();
        b.datagram(0, &answer(&q, 0), wall());
        b.take_done().unwrap();
        // The next query takes the same place in the book, 1.5 s later.
        b.push(9, query("z.example"));
        let mut keys = Vec::new();
        b.assign(64, &mut keys, &mut || 4242);
        let later = now + Duration::from_millis(1500);
        b.sent(&keys, later, wall());
        b.expire(now + Duration::from_secs(2));
        assert!(!b.has_done(), "the first query's deadline is not its");
        assert_eq!(b.next_deadline(), Some(later + Duration::from_secs(2)));
    }

    #[test]
    fn a_socket_that_cannot_be_opened_costs_a_try() {
        let mut b = book(2, false);
        b.push(0, query("a.example"));
        let mut keys = Vec::new();
        let e = QueryError::from(std::io::Error::from_raw_os_error(libc::EMFILE));
        let mut rounds = 0;
        while b.assign(64, &mut keys, &mut || 1) == Assign::NeedSocket {
            b.cannot_open(&e);
            rounds += 1;
            assert!(rounds <= 2, "it would be tried for ever");
        }
        let done = b.take_done().unwrap();
        assert_eq!(done.how, How::NoReply);
        assert_eq!(done.diags.len(), 2, "{:?}", done.diags);
    }

    #[test]
    fn a_socket_error_ends_every_try_waiting_there() {
        let now = Instant::now();
        let (mut b, _) = sent(2, 2, now);
        b.socket_failed(0, &QueryError::ConnectionRefused);
        assert!(!b.has_done(), "both go again");
        // Not on the failed socket.
        let mut keys = Vec::new();
        assert_eq!(b.assign(64, &mut keys, &mut || 1), Assign::NeedSocket);
        b.opened(1, "127.0.0.1:40001".parse().unwrap());
        let mut id = 0;
        assert_eq!(
            b.assign(64, &mut keys, &mut || {
                id += 1;
                id
            }),
            Assign::Ready(1)
        );
        b.sent(&keys, now, wall());
        b.socket_failed(1, &QueryError::ConnectionRefused);
        for _ in 0..2 {
            let done = b.take_done().unwrap();
            assert_eq!(done.how, How::NoReply);
            assert_eq!(
                done.diags,
                [";; communications error to 127.0.0.1#5353: connection refused"; 2]
            );
        }
        assert_eq!(b.spent_socket(), Some(0));
        assert_eq!(b.spent_socket(), Some(1));
    }

    #[test]
    fn a_truncated_answer_is_left_to_tcp_unless_ignored() {
        let now = Instant::now();
        let (mut b, keys) = sent(1, 1, now);
        let q = b.message(keys[0]).to_vec();
        b.datagram(0, &answer(&q, 0x02), wall());
        assert_eq!(b.take_done().unwrap().how, How::Truncated);
        let mut b = book(1, true);
        b.push(0, q.clone());
        b.opened(0, "127.0.0.1:40000".parse().unwrap());
        let mut keys = Vec::new();
        b.assign(64, &mut keys, &mut || 77);
        b.sent(&keys, now, wall());
        let q = b.message(keys[0]).to_vec();
        b.datagram(0, &answer(&q, 0x02), wall());
        assert_eq!(b.take_done().unwrap().how, How::Answered);
    }

    #[test]
    fn skipped_replies_are_said_five_times_then_counted() {
        let now = Instant::now();
        let (mut b, _) = sent(1, 1, now);
        for _ in 0..8 {
            b.datagram(0, b"junk", wall());
        }
        b.expire(now + Duration::from_secs(9));
        let done = b.take_done().unwrap();
        assert_eq!(done.diags.len(), 7, "{:?}", done.diags);
        assert_eq!(
            done.diags[5],
            ";; Warning: ignoring reply from 127.0.0.1#5353: ... and 3 more like it"
        );
        assert!(done.diags[6].ends_with("timed out"));
    }

    #[test]
    fn what_did_not_go_goes_again_as_it_was_queued() {
        let now = Instant::now();
        let mut b = book(1, false);
        for i in 0..3 {
            b.push(i, query("a.example"));
        }
        b.opened(0, "127.0.0.1:40000".parse().unwrap());
        let mut keys = Vec::new();
        let mut id = 0;
        b.assign(64, &mut keys, &mut || {
            id += 1;
            id
        });
        // The kernel took the first; the second failed; the third waits.
        b.sent(&keys[..1], now, wall());
        b.not_sent(&keys[1..], Some(&QueryError::ConnectionRefused), now);
        let done = b.take_done().unwrap();
        assert_eq!((done.tag, done.how), (1, How::NoReply));
        assert!(b.queued());
        // The kernel's queue full for a whole timeout: that try timed out.
        b.assign(64, &mut keys, &mut || {
            id += 1;
            id
        });
        b.not_sent(&keys, None, now);
        assert!(!b.has_done());
        b.assign(64, &mut keys, &mut || {
            id += 1;
            id
        });
        b.not_sent(&keys, None, now + Duration::from_secs(2));
        let done = b.take_done().unwrap();
        assert_eq!((done.tag, done.how), (2, How::NoReply));
        assert_eq!(
            done.diags,
            [";; communications error to 127.0.0.1#5353: timed out"]
        );
        b.push(2, query("a.example"));
        b.assign(64, &mut keys, &mut || {
            id += 1;
            id
        });
        assert_eq!(keys.len(), 1);
        b.sent(&keys, now, wall());
        assert_eq!(b.live(), 2);
        // Answered tries leave no deadlines piling up behind a slow one.
        for i in 0..1000 {
            b.push(10 + i, query("b.example"));
            b.assign(64, &mut keys, &mut || {
                id += 1;
                id
            });
            if keys.is_empty() {
                b.opened(1 + i, "127.0.0.1:40002".parse().unwrap());
                b.assign(64, &mut keys, &mut || {
                    id += 1;
                    id
                });
            }
            b.sent(&keys, now, wall());
            let serial = b.socks.last().unwrap().serial;
            let q = b.message(keys[0]).to_vec();
            b.datagram(serial, &answer(&q, 0), wall());
            b.take_done().unwrap();
            while b.spent_socket().is_some() {}
        }
        assert!(
            b.deadlines.len() <= 4 * (b.live() + 1) + 64,
            "{}",
            b.deadlines.len()
        );
    }
}
