//! Zone transfers (AXFR, RFC 5936; IXFR, RFC 1995): where a transfer that
//! spans several response messages ends, and how big it was.
//!
//! The same tracker decides, in live mode, when to stop reading from the
//! connection and, when rendering, when to print dig's `;; XFR size:`
//! trailer, so both agree. [`Transfers`] keeps the trackers of the
//! transfers under way in a trace, found by key in constant time. Pure.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

use super::name::read_name;
use super::types;
use super::wire::{Message, Record};

/// How a transfer goes on after a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// More messages are expected.
    More,
    /// The transfer is complete.
    Done,
    /// The server refused or failed (non-zero rcode) or the data makes no
    /// sense as a transfer; nothing more is expected.
    Failed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Start,
    AfterFirstSoa,
    AxfrBody,
    IxfrDeleting,
    IxfrAdding,
    Finished,
}

/// Follows one AXFR or IXFR response stream.
#[derive(Clone, Debug)]
pub struct XfrTracker {
    ixfr: bool,
    stage: Stage,
    serial: u32,
    /// Records received so far (answer sections).
    pub records: u64,
    /// Messages received so far.
    pub messages: u64,
    /// Bytes received so far (DNS messages, without length prefixes).
    pub bytes: u64,
}

/// True for the query types that start a zone transfer.
pub fn is_xfr(qtype: u16) -> bool {
    qtype == types::AXFR || qtype == types::IXFR
}

fn soa_serial(msg: &Message<'_>, rr: &Record) -> Option<u32> {
    let (_, after_mname) = read_name(msg.bytes, rr.rdata.start).ok()?;
    let (_, after_rname) = read_name(msg.bytes, after_mname).ok()?;
    let b = msg.bytes.get(after_rname..after_rname + 4)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

impl XfrTracker {
    /// A tracker for a transfer of type `qtype` (AXFR or IXFR).
    pub fn new(qtype: u16) -> XfrTracker {
        XfrTracker {
            ixfr: qtype == types::IXFR,
            stage: Stage::Start,
            serial: 0,
            records: 0,
            messages: 0,
            bytes: 0,
        }
    }

    /// Whether this is a full transfer (AXFR), not an incremental one.
    pub fn is_axfr(&self) -> bool {
        !self.ixfr
    }

    /// Takes the next response message.
    pub fn feed(&mut self, msg: &Message<'_>) -> Progress {
        if self.stage == Stage::Finished {
            return Progress::Done;
        }
        self.messages += 1;
        self.bytes += msg.bytes.len() as u64;
        if msg.rcode() != 0 || msg.error.is_some() {
            self.stage = Stage::Finished;
            return Progress::Failed;
        }
        for rr in &msg.answer {
            self.records += 1;
            let serial = if rr.rtype == types::SOA {
                soa_serial(msg, rr)
            } else {
                None
            };
            self.stage = match (self.stage, serial) {
                (Stage::Start, Some(s)) => {
                    self.serial = s;
                    Stage::AfterFirstSoa
                }
                (Stage::Start, None) => {
                    self.stage = Stage::Finished;
                    return Progress::Failed;
                }
                (Stage::AfterFirstSoa, Some(_)) if self.ixfr => Stage::IxfrDeleting,
                (Stage::AfterFirstSoa | Stage::AxfrBody, Some(_)) => Stage::Finished,
                (Stage::AfterFirstSoa, None) => Stage::AxfrBody,
                (Stage::IxfrDeleting, Some(_)) => Stage::IxfrAdding,
                (Stage::IxfrAdding, Some(s)) if s == self.serial => Stage::Finished,
                (Stage::IxfrAdding, Some(_)) => Stage::IxfrDeleting,
                (stage, _) => stage,
            };
            if self.stage == Stage::Finished {
                return Progress::Done;
            }
        }
        // An IXFR answered by one SOA alone: the zone is up to date.
        if self.ixfr && self.stage == Stage::AfterFirstSoa && self.records == 1 {
            self.stage = Stage::Finished;
            return Progress::Done;
        }
        if msg.answer.is_empty() && self.stage == Stage::Start {
            self.stage = Stage::Finished;
            return Progress::Failed;
        }
        Progress::More
    }
}

/// The zone transfers under way, each found by its key `K` (what
/// identifies the messages of one transfer) in constant time, and listed in
/// the order they started. A trace may leave many transfers unfinished: a
/// list searched for every message made reading quadratic in their number.
#[derive(Debug)]
pub struct Transfers<K> {
    /// Tracker and start number, by key.
    by_key: HashMap<K, (u64, XfrTracker), foldhash::fast::RandomState>,
    /// Keys by start number: the order for [`Transfers::drain`].
    order: BTreeMap<u64, K>,
    next: u64,
}

impl<K> Default for Transfers<K> {
    fn default() -> Self {
        Transfers {
            by_key: HashMap::default(),
            order: BTreeMap::new(),
            next: 0,
        }
    }
}

impl<K: Hash + Eq + Clone> Transfers<K> {
    /// No transfer under way.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// How many transfers are under way.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether a transfer with this key is under way.
    pub fn contains(&self, key: &K) -> bool {
        self.by_key.contains_key(key)
    }

    /// The tracker of the transfer with this key.
    pub fn get_mut(&mut self, key: &K) -> Option<&mut XfrTracker> {
        self.by_key.get_mut(key).map(|(_, t)| t)
    }

    /// Starts tracking a transfer (replacing one with the same key, which
    /// then counts as started now); returns its tracker.
    pub fn start(&mut self, key: K, tracker: XfrTracker) -> &mut XfrTracker {
        let seq = self.next;
        self.next += 1;
        self.order.insert(seq, key.clone());
        match self.by_key.entry(key) {
            Entry::Occupied(mut e) => {
                let (old, _) = std::mem::replace(e.get_mut(), (seq, tracker));
                self.order.remove(&old);
                &mut e.into_mut().1
            }
            Entry::Vacant(e) => &mut e.insert((seq, tracker)).1,
        }
    }

    /// Stops tracking a transfer; returns its tracker.
    pub fn remove(&mut self, key: &K) -> Option<XfrTracker> {
        let (seq, tracker) = self.by_key.remove(key)?;
        self.order.remove(&seq);
        Some(tracker)
    }

    /// Removes every transfer, oldest first.
    pub fn drain(&mut self) -> impl Iterator<Item = (K, XfrTracker)> + '_ {
        let by_key = &mut self.by_key;
        std::mem::take(&mut self.order)
            .into_values()
            .filter_map(move |key| by_key.remove(&key).map(|(_, t)| (key, t)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A response message with the given answer records: (type, serial for SOA).
    fn message(id: u16, answers: &[(u16, u32)], rcode: u8) -> Vec<u8> {
        let mut m = vec![
            (id >> 8) as u8,
            id as u8,
            0x84,
            rcode,
            0,
            0,
            0,
            answers.len() as u8,
            0,
            0,
            0,
            0,
        ];
        for (rtype, serial) in answers {
            m.extend_from_slice(&[1, b'z', 0]);
            m.extend_from_slice(&rtype.to_be_bytes());
            m.extend_from_slice(&[0, 1, 0, 0, 0, 60]);
            if *rtype == types::SOA {
                m.extend_from_slice(&[0, 22, 0, 0]);
                m.extend_from_slice(&serial.to_be_bytes());
                m.extend_from_slice(&[0; 16]);
            } else {
                m.extend_from_slice(&[0, 4, 192, 0, 2, 1]);
            }
        }
        m
    }

    fn run(qtype: u16, messages: &[Vec<u8>]) -> Vec<Progress> {
        let mut t = XfrTracker::new(qtype);
        messages
            .iter()
            .map(|m| t.feed(&Message::parse(m).unwrap()))
            .collect()
    }

    const SOA: u16 = types::SOA;
    const A: u16 = types::A;

    #[test]
    fn axfr_ends_at_the_second_soa_across_messages() {
        let msgs = [
            message(1, &[(SOA, 5), (A, 0)], 0),
            message(1, &[(A, 0)], 0),
            message(1, &[(A, 0), (SOA, 5)], 0),
        ];
        assert_eq!(
            run(types::AXFR, &msgs),
            [Progress::More, Progress::More, Progress::Done]
        );
        let mut t = XfrTracker::new(types::AXFR);
        for m in &msgs {
            t.feed(&Message::parse(m).unwrap());
        }
        assert_eq!((t.records, t.messages), (5, 3));
        assert_eq!(t.bytes, msgs.iter().map(|m| m.len() as u64).sum::<u64>());
    }

    #[test]
    fn refused_or_nonsense_transfers_fail() {
        assert_eq!(run(types::AXFR, &[message(1, &[], 5)]), [Progress::Failed]);
        assert_eq!(
            run(types::AXFR, &[message(1, &[(A, 0)], 0)]),
            [Progress::Failed]
        );
        assert_eq!(run(types::AXFR, &[message(1, &[], 0)]), [Progress::Failed]);
    }

    #[test]
    fn ixfr_up_to_date_is_one_soa() {
        assert_eq!(
            run(types::IXFR, &[message(1, &[(SOA, 5)], 0)]),
            [Progress::Done]
        );
    }

    #[test]
    fn ixfr_incremental_sequences() {
        // new=7: SOA7, [SOA5 del SOA6 add], [SOA6 del SOA7 add], SOA7
        let all = [
            (SOA, 7),
            (SOA, 5),
            (A, 0),
            (SOA, 6),
            (A, 0),
            (SOA, 6),
            (A, 0),
            (SOA, 7),
            (A, 0),
            (SOA, 7),
        ];
        assert_eq!(run(types::IXFR, &[message(1, &all, 0)]), [Progress::Done]);
        // Split after the SOA that starts the last additions: not done yet.
        assert_eq!(
            run(
                types::IXFR,
                &[message(1, &all[..8], 0), message(1, &all[8..], 0)]
            ),
            [Progress::More, Progress::Done]
        );
        // An IXFR answered with a full zone (AXFR style).
        let full = [(SOA, 7), (A, 0), (A, 0), (SOA, 7)];
        assert_eq!(run(types::IXFR, &[message(1, &full, 0)]), [Progress::Done]);
    }

    /// A key that counts how often it is compared.
    #[derive(Clone, Debug)]
    struct Counted(u32);

    impl std::hash::Hash for Counted {
        fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
            self.0.hash(state);
        }
    }

    thread_local! {
        static COMPARISONS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    }

    impl PartialEq for Counted {
        fn eq(&self, other: &Self) -> bool {
            COMPARISONS.with(|c| c.set(c.get() + 1));
            self.0 == other.0
        }
    }
    impl Eq for Counted {}

    #[test]
    fn transfers_are_found_by_key_not_by_search() {
        // 40,000 transfers left unfinished, then one message for each in
        // reverse order: a search of the list would compare keys about
        // 800 million times; the index compares about once a lookup.
        const N: u32 = 40_000;
        let mut t = Transfers::default();
        for i in 0..N {
            t.start(Counted(i), XfrTracker::new(types::AXFR));
        }
        COMPARISONS.with(|c| c.set(0));
        let soa = message(1, &[(SOA, 5), (A, 0)], 0);
        let msg = Message::parse(&soa).unwrap();
        for i in (0..N).rev() {
            assert!(t.contains(&Counted(i)));
            let tracker = t.get_mut(&Counted(i)).unwrap();
            assert_eq!(tracker.feed(&msg), Progress::More);
        }
        assert!(!t.contains(&Counted(N)));
        let comparisons = COMPARISONS.with(|c| c.get());
        assert!(comparisons <= 4 * u64::from(N), "{comparisons}");
    }

    #[test]
    fn transfers_drain_in_the_order_they_started() {
        let mut t = Transfers::default();
        for key in [5, 3, 9, 1, 7] {
            t.start(key, XfrTracker::new(types::AXFR));
        }
        assert!(t.remove(&9).is_some());
        assert!(t.remove(&9).is_none());
        // Restarting a transfer moves it to the end.
        t.start(3, XfrTracker::new(types::IXFR));
        t.get_mut(&1).unwrap().messages = 4;
        assert_eq!(t.len(), 4);
        let drained: Vec<(i32, u64)> = t.drain().map(|(k, x)| (k, x.messages)).collect();
        assert_eq!(drained, [(5, 0), (1, 4), (7, 0), (3, 0)]);
        assert!(t.is_empty());
    }
}
