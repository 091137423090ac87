//! Turns the pairer's output ([`crate::pair::Item`]) into the steps of a
//! replay, in trace order: each query to send ([`Step::Start`], numbered
//! from 1), and later, when the trace tells, the response recorded for it
//! ([`Step::Fate`]). A frame that carries both (Knot's AUTH_RESPONSE with
//! its query, BIND's CLIENT_RESPONSE, qtap's own) is one step with both.
//!
//! Memory: one entry per query still waiting for its recorded response,
//! which the pairer bounds (it gives up on the oldest, and says so with
//! an [`Item::Unanswered`]). Pure: no I/O.

use std::collections::HashMap;

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

/// The replay's view of the pairing; see the module documentation.
#[derive(Debug, Default)]
pub struct Cases {
    waiting: HashMap<Key, u64, foldhash::fast::RandomState>,
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
                // A query the pairer cannot key never gets a partner.
                let recorded = match key_of(&event, Some(message)) {
                    Some(key) => {
                        self.waiting.insert(key, number);
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
