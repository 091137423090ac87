//! Turns the events of a trace into the steps of a replay, in trace
//! order: each query to send ([`Step::Start`], numbered from 1), and
//! later, when the trace tells, the response recorded for it
//! ([`Step::Fate`]). A frame that carries both (Knot's AUTH_RESPONSE with
//! its query, BIND's CLIENT_RESPONSE, qtap's own) is one step with both.
//!
//! Queries and responses are paired here as [`crate::pair::Pairer`] pairs
//! them for `--read` (same [`Key`]: connection, type family, transport,
//! both ends, message ID; a zone transfer's later responses go with the
//! first), but only the case number waits, not the query's event: the
//! replay hands each query over at once, and pairing twice (the pairer,
//! then the case numbers) was a fifth of a replay's instructions
//! (callgrind, BENCHMARKS.md).
//!
//! Memory: one entry per query still waiting for its recorded response,
//! and at most [`WINDOW`] of them: a query whose response is not recorded
//! within the next [`WINDOW`] queries of the trace is taken as having
//! none (the replay holds every case behind the oldest). Pure: no I/O.

use std::collections::{HashMap, VecDeque};

use crate::dns::wire::Header;
use crate::pair::Key;
use crate::tap::event::{Direction, Event};

/// One step of a replay.
#[derive(Debug, Clone)]
pub enum Step {
    /// A query to send.
    Start {
        /// Its number (from 1, in trace order).
        number: u64,
        /// The event whose `query_message` is to be sent.
        query: Box<Event>,
        /// Its recorded response when already known: `Some(None)` when the
        /// trace will hold none, `None` when a later [`Step::Fate`] tells.
        recorded: Option<Option<Box<Event>>>,
    },
    /// The recorded response of query `number` (None: there is none).
    Fate {
        /// The query's number.
        number: u64,
        /// The recorded response.
        response: Option<Box<Event>>,
    },
    /// A frame with no query to replay (a response without its query, a
    /// query that is not DNS).
    Skipped,
}

/// How many later queries a query's recorded response may come after.
pub const WINDOW: u64 = 4096;

/// Entries the pairing keeps at most, whatever the trace: the queries
/// waiting, those given up on (whose late responses are still taken out
/// of the way for one more [`WINDOW`]) and queries that are not DNS (their
/// responses too). Past it the oldest go first.
const WAITING_MAX: usize = 2 * WINDOW as usize + 64;

/// A query waiting for its recorded response.
#[derive(Debug)]
struct Waiting {
    /// Which entry of [`Cases::order`] it is.
    seq: u64,
    /// Its case; None for a query that is not replayed (not DNS), whose
    /// response is only taken out of the way.
    number: Option<u64>,
    /// It asks for a zone transfer: the responses after the first are
    /// taken out of the way too.
    xfr: bool,
    /// Its (first) response came.
    answered: bool,
}

/// The replay's pairing; see the module documentation.
#[derive(Debug, Default)]
pub struct Cases {
    waiting: HashMap<Key, Waiting, foldhash::fast::RandomState>,
    /// The waiting queries in order, with [`Cases::next`] when each came
    /// (entries no longer waiting are dropped lazily).
    order: VecDeque<(u64, u64, Key)>,
    /// The last case number given.
    next: u64,
    /// The next entry's sequence number.
    seq: u64,
}

impl Cases {
    /// Takes one event of the trace, in order; appends the steps it makes.
    pub fn push(&mut self, event: Event, out: &mut Vec<Step>) {
        match event.direction() {
            Some(Direction::Query) => self.query(event, out),
            Some(Direction::Response) => self.response(event, out),
            None => self.unpaired(event, out),
        }
    }

    fn query(&mut self, event: Event, out: &mut Vec<Step>) {
        let Some(message) = event.query_message.as_ref() else {
            out.push(Step::Skipped);
            return;
        };
        let key = Key::of(&event, message);
        let replayed = Header::parse(message).is_ok();
        let xfr =
            replayed && crate::dns::wire::first_qtype(message).is_some_and(crate::dns::xfr::is_xfr);
        let number = replayed.then(|| {
            self.next += 1;
            self.next
        });
        self.expire(out);
        let keyed = key.is_some();
        if let Some(key) = key {
            let seq = self.seq;
            self.seq += 1;
            self.order.push_back((self.next, seq, key.clone()));
            let entry = Waiting {
                seq,
                number,
                xfr,
                answered: false,
            };
            if let Some(old) = self.waiting.insert(key, entry) {
                // A query with the same key came before this one's
                // response: the older one has none.
                gone(&old, out);
            }
            self.compact();
            self.cap(out);
        }
        let Some(number) = number else {
            out.push(Step::Skipped);
            return;
        };
        out.push(Step::Start {
            number,
            query: Box::new(event),
            // A query no response can be paired with has none.
            recorded: if keyed { None } else { Some(None) },
        });
    }

    fn response(&mut self, event: Event, out: &mut Vec<Step>) {
        let key = event
            .response_message
            .as_ref()
            .or(event.query_message.as_ref())
            .and_then(|m| Key::of(&event, m));
        let Some(key) = key else {
            return self.unpaired(event, out);
        };
        let Some(w) = self.waiting.get_mut(&key) else {
            return self.unpaired(event, out);
        };
        let first = !w.answered;
        w.answered = true;
        let number = w.number;
        if !w.xfr {
            self.waiting.remove(&key);
        }
        // A zone transfer's later messages: only the first is compared.
        if let (true, Some(number)) = (first, number) {
            out.push(Step::Fate {
                number,
                response: Some(Box::new(event)),
            });
        }
    }

    /// A response whose query was not seen (or a frame that is neither):
    /// replayed on its own when it carries its query.
    fn unpaired(&mut self, event: Event, out: &mut Vec<Step>) {
        let replayable = event
            .query_message
            .as_ref()
            .is_some_and(|m| Header::parse(m).is_ok());
        if !replayable {
            out.push(Step::Skipped);
            return;
        }
        self.next += 1;
        let recorded = event
            .response_message
            .is_some()
            .then(|| Box::new(event.clone()));
        out.push(Step::Start {
            number: self.next,
            query: Box::new(event),
            recorded: Some(recorded),
        });
    }

    /// A mark for [`Cases::expire_before`]: the queries seen so far.
    pub fn mark(&self) -> u64 {
        self.seq
    }

    /// Gives up on the queries seen before `mark` (a value [`Cases::mark`]
    /// gave) that still wait: they have no recorded response. A live
    /// replay notes marks with its own clock (a sender's timestamps are
    /// not trusted for that).
    pub fn expire_before(&mut self, mark: u64, out: &mut Vec<Step>) {
        while let Some((_, seq, key)) = self.order.front() {
            if *seq >= mark {
                break;
            }
            if self.waiting.get(key).is_some_and(|w| w.seq == *seq) {
                if let Some(w) = self.waiting.remove(key) {
                    gone(&w, out);
                }
            }
            self.order.pop_front();
        }
    }

    /// Gives up on the queries more than [`WINDOW`] queries old: their
    /// cases have no recorded response. Each stays one more [`WINDOW`] as
    /// answered, so that a response that comes after all is taken out of
    /// the way (as the pairer's longer memory did), not replayed as a case
    /// of its own or counted as skipped.
    fn expire(&mut self, out: &mut Vec<Step>) {
        while let Some((at, _, _)) = self.order.front() {
            if at + WINDOW >= self.next {
                break;
            }
            let Some((_, seq, key)) = self.order.pop_front() else {
                break;
            };
            let Some(w) = self.waiting.get_mut(&key).filter(|w| w.seq == seq) else {
                continue;
            };
            if w.answered {
                // Its second window is over (or a transfer's).
                self.waiting.remove(&key);
                continue;
            }
            gone(w, out);
            w.answered = true;
            w.seq = self.seq;
            self.order.push_back((self.next, self.seq, key));
            self.seq += 1;
        }
    }

    /// Keeps the entries within [`WAITING_MAX`], the oldest going first.
    fn cap(&mut self, out: &mut Vec<Step>) {
        while self.waiting.len() > WAITING_MAX {
            let Some((_, seq, key)) = self.order.pop_front() else {
                break;
            };
            if self.waiting.get(&key).is_some_and(|w| w.seq == seq) {
                if let Some(w) = self.waiting.remove(&key) {
                    gone(&w, out);
                }
            }
        }
    }

    /// Drops stale queue entries once they outnumber the live ones.
    fn compact(&mut self) {
        if self.order.len() > 2 * self.waiting.len() + 64 {
            let waiting = &self.waiting;
            self.order
                .retain(|(_, seq, k)| waiting.get(k).is_some_and(|w| w.seq == *seq));
        }
    }

    /// Ends the trace: every query still waiting has no recorded response.
    pub fn finish(self, out: &mut Vec<Step>) {
        let mut left: Vec<u64> = self
            .waiting
            .into_values()
            .filter(|w| !w.answered)
            .filter_map(|w| w.number)
            .collect();
        left.sort_unstable();
        out.extend(left.into_iter().map(|number| Step::Fate {
            number,
            response: None,
        }));
    }
}

/// A waiting query that will get no response: its case says so.
fn gone(w: &Waiting, out: &mut Vec<Step>) {
    if let (false, Some(number)) = (w.answered, w.number) {
        out.push(Step::Fate {
            number,
            response: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tap::event::{MessageType, Protocol, Timestamp};
    use bytes::Bytes;

    fn msg(id: u16, qr: bool) -> Bytes {
        let mut m = vec![0u8; 12];
        m[..2].copy_from_slice(&id.to_be_bytes());
        if qr {
            m[2] = 0x80;
        }
        Bytes::from(m)
    }

    fn event(mtype: MessageType, id: u16, query: bool, response: bool) -> Event {
        Event {
            offset: None,
            identity: None,
            version: None,
            mtype,
            family: Some(1),
            protocol: Some(Protocol::Udp),
            http_protocol: None,
            query_addr: Some("127.0.0.1".parse().unwrap()),
            query_port: Some(5000),
            response_addr: Some("127.0.0.2".parse().unwrap()),
            response_port: Some(53),
            query_zone: None,
            query_time: Some(Timestamp { sec: 1, nsec: 0 }),
            response_time: None,
            query_message: query.then(|| msg(id, false)),
            response_message: response.then(|| msg(id, true)),
            connection: None,
        }
    }

    fn run(events: Vec<Event>) -> Vec<String> {
        let mut cases = Cases::default();
        let mut steps = Vec::new();
        for e in events {
            cases.push(e, &mut steps);
        }
        cases.finish(&mut steps);
        steps
            .iter()
            .map(|s| match s {
                Step::Start {
                    number, recorded, ..
                } => format!(
                    "start {number} {}",
                    match recorded {
                        None => "later",
                        Some(Some(_)) => "with",
                        Some(None) => "without",
                    }
                ),
                Step::Fate { number, response } => {
                    format!("fate {number} {}", response.is_some())
                }
                Step::Skipped => "skipped".into(),
            })
            .collect()
    }

    #[test]
    fn a_response_too_far_behind_its_query_is_not_waited_for() {
        let mut events = vec![event(MessageType(5), 0, true, false)];
        for i in 1..=WINDOW as u16 + 1 {
            events.push(event(MessageType(5), i, true, false));
            events.push(event(MessageType(6), i, false, true));
        }
        events.push(event(MessageType(6), 0, false, true));
        let steps = run(events);
        let fate_of_first: Vec<usize> = steps
            .iter()
            .enumerate()
            .filter(|(_, s)| s.starts_with("fate 1 "))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(fate_of_first.len(), 1, "one fate only");
        let i = fate_of_first[0];
        assert_eq!(steps[i], "fate 1 false");
        assert_eq!(steps[i - 1], format!("fate {} true", WINDOW + 1));
    }

    /// A query event for `qtype` (AXFR is 252).
    fn typed(id: u16, qtype: u16) -> Event {
        let mut e = event(MessageType(5), id, true, false);
        let mut m = msg(id, false).to_vec();
        m[5] = 1; // QDCOUNT
        m.extend_from_slice(&[0, 0, qtype as u8, 0, 1]);
        e.query_message = Some(Bytes::from(m));
        e
    }

    #[test]
    fn a_transfer_is_compared_on_its_first_message_only() {
        let steps = run(vec![
            typed(1, 252),
            event(MessageType(6), 1, false, true),
            event(MessageType(6), 1, false, true),
            event(MessageType(6), 1, false, true),
            typed(2, 1),
            event(MessageType(6), 2, false, true),
            // Not a transfer: a second response is a frame of its own.
            event(MessageType(6), 2, false, true),
        ]);
        assert_eq!(
            steps,
            [
                "start 1 later",
                "fate 1 true",
                "start 2 later",
                "fate 2 true",
                "skipped"
            ]
        );
    }

    #[test]
    fn a_query_with_the_key_of_a_waiting_one_ends_its_wait() {
        let steps = run(vec![
            event(MessageType(5), 7, true, false),
            event(MessageType(5), 7, true, false),
            event(MessageType(6), 7, false, true),
        ]);
        assert_eq!(
            steps,
            [
                "start 1 later",
                "fate 1 false",
                "start 2 later",
                "fate 2 true"
            ]
        );
    }

    #[test]
    fn a_query_that_is_not_dns_is_skipped_with_its_response() {
        let mut short = event(MessageType(5), 3, true, false);
        short.query_message = Some(Bytes::from_static(&[0, 3, 0]));
        let steps = run(vec![short, event(MessageType(6), 3, false, true)]);
        assert_eq!(steps, ["skipped"]);
    }

    #[test]
    fn marks_give_up_on_the_queries_before_them() {
        let mut cases = Cases::default();
        let mut steps = Vec::new();
        cases.push(event(MessageType(5), 1, true, false), &mut steps);
        let mark = cases.mark();
        cases.push(event(MessageType(5), 2, true, false), &mut steps);
        cases.expire_before(mark, &mut steps);
        // Query 1 has no response now; query 2 still waits for its own.
        cases.push(event(MessageType(6), 2, false, true), &mut steps);
        let fates: Vec<(u64, bool)> = steps
            .iter()
            .filter_map(|s| match s {
                Step::Fate { number, response } => Some((*number, response.is_some())),
                _ => None,
            })
            .collect();
        assert_eq!(fates, [(1, false), (2, true)]);
        assert!(cases.waiting.is_empty());
    }

    #[test]
    fn a_response_that_comes_after_its_query_was_given_up_is_taken_out_of_the_way() {
        // A frame that carries its query (CLIENT_RESPONSE) more than WINDOW
        // queries late: its case had no response; it is no case of its own.
        let mut events = vec![event(MessageType(5), 0, true, false)];
        for i in 1..=WINDOW as u16 + 1 {
            events.push(event(MessageType(5), i, true, false));
            events.push(event(MessageType(6), i, true, true));
        }
        events.push(event(MessageType(6), 0, true, true));
        let steps = run(events);
        let count = |what: &str| steps.iter().filter(|s| s.starts_with(what)).count();
        assert_eq!(count("start"), WINDOW as usize + 2);
        assert_eq!(count("fate 1 "), 1);
        assert!(steps.contains(&"fate 1 false".to_owned()));
        assert_eq!(count("skipped"), 0);
    }

    #[test]
    fn queries_that_are_not_dns_cannot_pile_up() {
        let mut cases = Cases::default();
        let mut steps = Vec::new();
        for i in 0..3 * WAITING_MAX as u32 {
            let mut e = event(MessageType(5), i as u16, true, false);
            e.query_port = Some((i >> 16) as u16 + 1000);
            e.query_message = Some(Bytes::from(vec![(i >> 8) as u8, i as u8, 0, 0]));
            cases.push(e, &mut steps);
        }
        assert!(
            cases.waiting.len() <= WAITING_MAX,
            "{}",
            cases.waiting.len()
        );
        assert!(
            cases.order.len() <= 2 * WAITING_MAX + 64,
            "{}",
            cases.order.len()
        );
        assert!(steps.iter().all(|s| matches!(s, Step::Skipped)));
    }

    #[test]
    fn queries_get_their_recorded_responses_in_order() {
        let steps = run(vec![
            event(MessageType(5), 1, true, false),
            event(MessageType(5), 2, true, false),
            event(MessageType(6), 2, false, true),
            event(MessageType(2), 3, true, true),
            event(MessageType(6), 9, false, true),
        ]);
        assert_eq!(
            steps,
            [
                "start 1 later",
                "start 2 later",
                "fate 2 true",
                "start 3 with",
                "skipped",
                "fate 1 false"
            ]
        );
    }
}
