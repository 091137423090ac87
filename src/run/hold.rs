//! What a `+parallel` lookup produces before its turn comes (an earlier
//! lookup is still running): its records and diagnostic lines, kept in
//! order until they can be shown. They are kept in memory up to a byte
//! budget shared by all the lookups of a run, and beyond it in one unnamed
//! temporary file, so a large zone transfer queued behind a slow lookup
//! costs disk, not memory.
//!
//! The one shared mutable state of a live run is here: the budget and the
//! file ([`Spill`], behind `Rc<RefCell>`), which every lookup's [`Hold`]
//! draws on while it runs. Each hold itself is owned by its lookup. (A
//! budget per lookup would let N lookups keep N budgets in memory.)

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::rc::Rc;

use prost::Message as _;

use crate::tap::event::Event;
use crate::tap::pb;

/// One thing a lookup produced. (Nearly all are records: boxing them to
/// make the few lines smaller would cost an allocation each.)
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)]
pub enum Produced {
    /// A message sent or accepted.
    Record(Event),
    /// A diagnostic line.
    Diag(String),
}

/// What an item is taken to cost in memory beyond its messages.
const ITEM_OVERHEAD: usize = 192;

impl Produced {
    /// Roughly what the item takes in memory.
    fn size(&self) -> usize {
        let bytes = |b: &Option<bytes::Bytes>| b.as_ref().map_or(0, bytes::Bytes::len);
        ITEM_OVERHEAD
            + match self {
                Produced::Record(e) => {
                    bytes(&e.query_message)
                        + bytes(&e.response_message)
                        + bytes(&e.identity)
                        + bytes(&e.version)
                }
                Produced::Diag(line) => line.len(),
            }
    }
}

/// Where an item was written in the temporary file.
#[derive(Debug)]
struct Slot {
    at: u64,
    len: usize,
    record: bool,
}

/// The memory budget and the temporary file, shared by the lookups of a
/// run.
#[derive(Debug)]
pub struct Spill {
    budget: usize,
    /// Bytes held in memory now.
    held: usize,
    /// Created when first needed.
    file: Option<File>,
    /// Where the next item is written.
    end: u64,
    /// Items in the file not yet taken back.
    spilled: usize,
}

impl Spill {
    /// A budget of `budget` bytes in memory for all lookups together.
    pub fn new(budget: usize) -> Rc<RefCell<Spill>> {
        Rc::new(RefCell::new(Spill {
            budget,
            held: 0,
            file: None,
            end: 0,
            spilled: 0,
        }))
    }

    fn write(&mut self, record: bool, bytes: &[u8]) -> std::io::Result<Slot> {
        let file = match &mut self.file {
            Some(f) => f,
            None => self.file.insert(tempfile::tempfile()?),
        };
        file.write_all_at(bytes, self.end)?;
        let slot = Slot {
            at: self.end,
            len: bytes.len(),
            record,
        };
        self.end += bytes.len() as u64;
        self.spilled += 1;
        Ok(slot)
    }

    fn read(&mut self, slot: &Slot) -> std::io::Result<Vec<u8>> {
        let mut buf = vec![0u8; slot.len];
        let read = match &self.file {
            Some(f) => f.read_exact_at(&mut buf, slot.at),
            None => Err(std::io::Error::other("the temporary file is gone")),
        };
        self.taken(1);
        read.map(|()| buf)
    }

    /// `n` items left the file: once none is left, it starts over.
    fn taken(&mut self, n: usize) {
        self.spilled = self.spilled.saturating_sub(n);
        if self.spilled == 0 && self.end > 0 {
            self.end = 0;
            if let Some(f) = &self.file {
                let _ = f.set_len(0);
            }
        }
    }
}

/// One lookup's items, in order: the first ones in memory, the rest (from
/// the first that did not fit the budget on) in the temporary file.
#[derive(Debug)]
pub struct Hold {
    spill: Rc<RefCell<Spill>>,
    memory: VecDeque<(Produced, usize)>,
    on_file: VecDeque<Slot>,
}

impl Hold {
    /// An empty hold drawing on `spill`.
    pub fn new(spill: Rc<RefCell<Spill>>) -> Hold {
        Hold {
            spill,
            memory: VecDeque::new(),
            on_file: VecDeque::new(),
        }
    }

    /// Whether nothing is held.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.memory.is_empty() && self.on_file.is_empty()
    }

    /// Keeps `item` after the others.
    pub fn push(&mut self, item: Produced) -> std::io::Result<()> {
        let size = item.size();
        let mut spill = self.spill.borrow_mut();
        if self.on_file.is_empty() && spill.held + size <= spill.budget {
            spill.held += size;
            self.memory.push_back((item, size));
            return Ok(());
        }
        let (record, bytes) = match item {
            Produced::Record(e) => (true, e.to_pb().encode_to_vec()),
            Produced::Diag(line) => (false, line.into_bytes()),
        };
        let slot = spill.write(record, &bytes)?;
        self.on_file.push_back(slot);
        Ok(())
    }

    /// Takes the first item held.
    pub fn pop(&mut self) -> Option<std::io::Result<Produced>> {
        let mut spill = self.spill.borrow_mut();
        if let Some((item, size)) = self.memory.pop_front() {
            spill.held -= size;
            return Some(Ok(item));
        }
        let slot = self.on_file.pop_front()?;
        let bytes = match spill.read(&slot) {
            Ok(b) => b,
            Err(e) => return Some(Err(e)),
        };
        let bad = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidData, what);
        Some(if slot.record {
            pb::Dnstap::decode(bytes.as_slice())
                .map_err(|e| bad(e.to_string()))
                .and_then(|r| Event::from_pb(r).map_err(|e| bad(e.to_string())))
                .map(Produced::Record)
        } else {
            String::from_utf8(bytes)
                .map_err(|e| bad(e.to_string()))
                .map(Produced::Diag)
        })
    }
}

impl Drop for Hold {
    /// What was never taken gives its share of the budget (and of the
    /// file) back.
    fn drop(&mut self) {
        if let Ok(mut spill) = self.spill.try_borrow_mut() {
            let held: usize = self.memory.iter().map(|(_, size)| size).sum();
            spill.held = spill.held.saturating_sub(held);
            spill.taken(self.on_file.len());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tap::event::{MessageType, Protocol, Timestamp};
    use bytes::Bytes;

    fn record(n: u16, len: usize) -> Event {
        let mut response = vec![0u8; len];
        response[..2].copy_from_slice(&n.to_be_bytes());
        Event {
            offset: None,
            identity: None,
            version: Some(Bytes::from_static(b"qtap test")),
            mtype: MessageType::STUB_RESPONSE,
            family: Some(pb::SocketFamily::Inet as i32),
            protocol: Some(Protocol::Tcp),
            http_protocol: None,
            query_addr: Some("127.0.0.1".parse().unwrap()),
            query_port: Some(40000),
            response_addr: Some("127.0.0.1".parse().unwrap()),
            response_port: Some(53),
            query_zone: None,
            query_time: Some(Timestamp { sec: 1, nsec: 2 }),
            response_time: Some(Timestamp {
                sec: 3,
                nsec: u32::from(n),
            }),
            query_message: Some(Bytes::from_static(b"query")),
            response_message: Some(Bytes::from(response)),
            connection: None,
        }
    }

    #[test]
    fn memory_stays_within_the_budget_and_order_survives_the_file() {
        let budget = 4096;
        let spill = Spill::new(budget);
        let mut first = Hold::new(spill.clone());
        let mut second = Hold::new(spill.clone());
        let mut expected = Vec::new();
        for n in 0..200u16 {
            let item = if n % 10 == 3 {
                Produced::Diag(format!(";; line {n}"))
            } else {
                Produced::Record(record(n, 500))
            };
            expected.push(item.clone());
            second.push(item).unwrap();
            first.push(Produced::Diag(format!(";; other {n}"))).unwrap();
            assert!(spill.borrow().held <= budget, "after {n}");
        }
        assert!(spill.borrow().file.is_some(), "went to the file");
        let mut got = Vec::new();
        while let Some(item) = second.pop() {
            got.push(item.unwrap());
        }
        assert_eq!(got, expected);
        assert!(second.is_empty());
        // The first lookup's lines are all there too, in order.
        for n in 0..200u16 {
            assert_eq!(
                first.pop().unwrap().unwrap(),
                Produced::Diag(format!(";; other {n}"))
            );
        }
        assert!(first.pop().is_none());
        let spill = spill.borrow();
        assert_eq!((spill.held, spill.spilled, spill.end), (0, 0, 0));
    }

    #[test]
    fn a_hold_dropped_unread_gives_its_budget_back() {
        let spill = Spill::new(2048);
        let mut hold = Hold::new(spill.clone());
        for n in 0..20 {
            hold.push(Produced::Record(record(n, 300))).unwrap();
        }
        assert!(spill.borrow().held > 0);
        drop(hold);
        let spill = spill.borrow();
        assert_eq!((spill.held, spill.spilled, spill.end), (0, 0, 0));
    }
}
