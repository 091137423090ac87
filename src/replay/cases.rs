//! Turns the pairer's output ([`crate::pair::Item`]) into the steps of a
//! replay, in trace order: each query to send ([`Step::Start`], numbered
//! from 1), and later, when the trace tells, the response recorded for it
//! ([`Step::Fate`]). A frame that carries both (Knot's AUTH_RESPONSE with
//! its query, BIND's CLIENT_RESPONSE, qtap's own) is one step with both.
//!
//! Memory: one entry per query still waiting for its recorded response,
//! and at most [`WINDOW`] of them: a query whose response is not recorded
//! within the next [`WINDOW`] queries of the trace is taken as having
//! none (the pairer's own bound is in outstanding queries, which a
//! capture that lost frames fills only slowly, while the replay holds
//! every case behind the oldest). Pure: no I/O.

use std::collections::{HashMap, VecDeque};

use crate::dns::wire::Header;
use crate::pair::{Item, Key};
use crate::tap::event::Event;

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
        recorded: Option<Option<Event>>,
    },
    /// The recorded response of query `number` (None: there is none).
    Fate {
        /// The query's number.
        number: u64,
        /// The recorded response.
        response: Option<Event>,
    },
    /// A frame with no query to replay (a response without its query, a
    /// query that is not DNS).
    Skipped,
}

/// How many later queries a query's recorded response may come after.
pub const WINDOW: u64 = 4096;

/// The replay's view of the pairing; see the module documentation.
#[derive(Debug, Default)]
pub struct Cases {
    waiting: HashMap<Key, u64, foldhash::fast::RandomState>,
    /// The waiting queries in order (answered ones are dropped lazily).
    order: VecDeque<(u64, Key)>,
    next: u64,
}

fn key_of(event: &Event, message: Option<&bytes::Bytes>) -> Option<Key> {
    message.and_then(|m| Key::of(event, m))
}

impl Cases {
    /// Takes one item of the pairer, in order; appends the steps it makes.
    pub fn push(&mut self, item: Item, out: &mut Vec<Step>) {
        match item {
            Item::Query(event) => {
                let Some(message) = event.query_message.as_ref() else {
                    out.push(Step::Skipped);
                    return;
                };
                if Header::parse(message).is_err() {
                    out.push(Step::Skipped);
                    return;
                }
                self.next += 1;
                let number = self.next;
                self.expire(out);
                // A query the pairer cannot key never gets a partner.
                let recorded = match key_of(&event, Some(message)) {
                    Some(key) => {
                        self.order.push_back((number, key.clone()));
                        if let Some(old) = self.waiting.insert(key, number) {
                            // The pairer said Unanswered first; should it
                            // not have, the older query has no response.
                            out.push(Step::Fate {
                                number: old,
                                response: None,
                            });
                        }
                        None
                    }
                    None => Some(None),
                };
                out.push(Step::Start {
                    number,
                    query: Box::new(event),
                    recorded,
                });
            }
            Item::Response {
                event, query_seen, ..
            } => {
                if query_seen {
                    let message = event
                        .response_message
                        .as_ref()
                        .or(event.query_message.as_ref());
                    if let Some(number) =
                        key_of(&event, message).and_then(|k| self.waiting.remove(&k))
                    {
                        out.push(Step::Fate {
                            number,
                            response: Some(event),
                        });
                    }
                    // Otherwise a later message of a zone transfer: only
                    // the first is compared.
                    return;
                }
                let replayable = event
                    .query_message
                    .as_ref()
                    .is_some_and(|m| Header::parse(m).is_ok());
                if !replayable {
                    out.push(Step::Skipped);
                    return;
                }
                self.next += 1;
                let recorded = event.response_message.is_some().then(|| event.clone());
                out.push(Step::Start {
                    number: self.next,
                    query: Box::new(event),
                    recorded: Some(recorded),
                });
            }
            Item::Unanswered(event) => {
                if let Some(number) = key_of(&event, event.query_message.as_ref())
                    .and_then(|k| self.waiting.remove(&k))
                {
                    out.push(Step::Fate {
                        number,
                        response: None,
                    });
                }
            }
        }
    }

    /// Gives up on the queries more than [`WINDOW`] queries old.
    fn expire(&mut self, out: &mut Vec<Step>) {
        while let Some((number, key)) = self.order.front() {
            if number + WINDOW >= self.next {
                break;
            }
            if self.waiting.get(key) == Some(number) {
                self.waiting.remove(key);
                out.push(Step::Fate {
                    number: *number,
                    response: None,
                });
            }
            self.order.pop_front();
        }
        if self.order.len() > 2 * self.waiting.len() + 64 {
            let waiting = &self.waiting;
            self.order
                .retain(|(n, k)| waiting.get(k).is_some_and(|w| w == n));
        }
    }

    /// Ends the trace: every query still waiting has no recorded response.
    pub fn finish(self, out: &mut Vec<Step>) {
        let mut left: Vec<u64> = self.waiting.into_values().collect();
        left.sort_unstable();
        out.extend(left.into_iter().map(|number| Step::Fate {
            number,
            response: None,
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pair::Pairer;
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
        let (mut pairer, mut cases) = (Pairer::default(), Cases::default());
        let (mut items, mut steps) = (Vec::new(), Vec::new());
        for e in events {
            pairer.push(e, &mut items);
            for i in items.drain(..) {
                cases.push(i, &mut steps);
            }
        }
        pairer.finish(&mut items);
        for i in items.drain(..) {
            cases.push(i, &mut steps);
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
