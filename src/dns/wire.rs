//! A read-only view of a DNS message (RFC 1035 §4.1) that keeps records in
//! wire order and their RDATA as ranges into the original bytes.
//!
//! Parsing is best effort: whatever parses before a problem is kept, and
//! the problem is reported in [`Message::error`] with its byte offset, so a
//! renderer can show what parsed and then the raw bytes. Only a message too
//! short for its 12-byte header is rejected outright.

use std::ops::Range;

use super::name::{read_name, Name};
use super::types;
use super::WireError;

/// Length of the fixed DNS header (RFC 1035 §4.1.1).
pub const HEADER_LEN: usize = 12;

/// The fixed header of a DNS message (RFC 1035 §4.1.1, RFC 2535 §6.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// Message ID.
    pub id: u16,
    /// The 16 flag bits: QR, opcode, AA, TC, RD, RA, Z, AD, CD, rcode.
    pub flags: u16,
    /// Number of entries in the question section, as the header claims.
    pub qdcount: u16,
    /// Number of answer records, as the header claims.
    pub ancount: u16,
    /// Number of authority records, as the header claims.
    pub nscount: u16,
    /// Number of additional records, as the header claims.
    pub arcount: u16,
}

impl Header {
    /// Reads the header from the first 12 bytes.
    pub fn parse(bytes: &[u8]) -> Result<Header, WireError> {
        let field = |i: usize| -> Result<u16, WireError> {
            match bytes.get(i..i + 2) {
                Some(b) => Ok(u16::from_be_bytes([b[0], b[1]])),
                None => Err(WireError::Truncated {
                    offset: bytes.len(),
                }),
            }
        };
        Ok(Header {
            id: field(0)?,
            flags: field(2)?,
            qdcount: field(4)?,
            ancount: field(6)?,
            nscount: field(8)?,
            arcount: field(10)?,
        })
    }

    /// QR: this is a response.
    pub fn qr(&self) -> bool {
        self.flags & 0x8000 != 0
    }
    /// The 4-bit opcode.
    pub fn opcode(&self) -> u8 {
        ((self.flags >> 11) & 0xf) as u8
    }
    /// AA: authoritative answer.
    pub fn aa(&self) -> bool {
        self.flags & 0x0400 != 0
    }
    /// TC: truncated.
    pub fn tc(&self) -> bool {
        self.flags & 0x0200 != 0
    }
    /// RD: recursion desired.
    pub fn rd(&self) -> bool {
        self.flags & 0x0100 != 0
    }
    /// RA: recursion available.
    pub fn ra(&self) -> bool {
        self.flags & 0x0080 != 0
    }
    /// Z: the reserved bit, must be zero.
    pub fn z(&self) -> bool {
        self.flags & 0x0040 != 0
    }
    /// AD: authentic data (RFC 4035 §3.2.3).
    pub fn ad(&self) -> bool {
        self.flags & 0x0020 != 0
    }
    /// CD: checking disabled (RFC 4035 §3.2.2).
    pub fn cd(&self) -> bool {
        self.flags & 0x0010 != 0
    }
    /// The low 4 bits of the response code.
    pub fn rcode(&self) -> u16 {
        self.flags & 0xf
    }
}

/// The first question of a message, read without parsing the records
/// (for banners and summaries on hot paths).
pub fn first_question(bytes: &[u8]) -> Option<Question> {
    let header = Header::parse(bytes).ok()?;
    if header.qdcount == 0 {
        return None;
    }
    let (name, next) = read_name(bytes, HEADER_LEN).ok()?;
    let f = bytes.get(next..next + 4)?;
    Some(Question {
        name,
        qtype: u16::from_be_bytes([f[0], f[1]]),
        qclass: u16::from_be_bytes([f[2], f[3]]),
    })
}

/// The QTYPE of the first question, read in place without following or
/// checking the name: equal to [`first_question`]'s whenever that one
/// succeeds.
pub fn first_qtype(bytes: &[u8]) -> Option<u16> {
    let header = Header::parse(bytes).ok()?;
    if header.qdcount == 0 {
        return None;
    }
    let mut pos = HEADER_LEN;
    loop {
        let len = *bytes.get(pos)?;
        match len {
            0 => {
                pos += 1;
                break;
            }
            l if l & 0xc0 == 0xc0 => {
                pos += 2;
                break;
            }
            l => pos += 1 + usize::from(l),
        }
    }
    let t = bytes.get(pos..pos + 2)?;
    Some(u16::from_be_bytes([t[0], t[1]]))
}

/// One entry of the question section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question {
    /// QNAME.
    pub name: Name,
    /// QTYPE.
    pub qtype: u16,
    /// QCLASS.
    pub qclass: u16,
}

/// One resource record, its RDATA left in place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Owner name.
    pub name: Name,
    /// TYPE.
    pub rtype: u16,
    /// CLASS (for OPT: the UDP payload size).
    pub class: u16,
    /// TTL (for OPT: extended rcode, version and flags).
    pub ttl: u32,
    /// Where the RDATA lies in the message bytes.
    pub rdata: Range<usize>,
}

/// Which of the three record sections a record came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    /// Answer (UPDATE: prerequisite).
    Answer,
    /// Authority (UPDATE: update).
    Authority,
    /// Additional.
    Additional,
}

/// A parsed DNS message borrowing its bytes.
#[derive(Clone, Debug)]
pub struct Message<'a> {
    /// The whole message as received.
    pub bytes: &'a [u8],
    /// The header.
    pub header: Header,
    /// Question entries that parsed.
    pub question: Vec<Question>,
    /// Answer records that parsed, in wire order.
    pub answer: Vec<Record>,
    /// Authority records that parsed, in wire order.
    pub authority: Vec<Record>,
    /// Additional records that parsed, in wire order (OPT and TSIG included).
    pub additional: Vec<Record>,
    /// The first problem met, if parsing stopped early.
    pub error: Option<WireError>,
    /// Bytes left over after the last record the header announced.
    pub trailing: usize,
}

impl<'a> Message<'a> {
    /// Parses `bytes`. Fails only when the 12-byte header is incomplete;
    /// any later problem is kept in [`Message::error`].
    pub fn parse(bytes: &'a [u8]) -> Result<Message<'a>, WireError> {
        let header = Header::parse(bytes)?;
        let mut msg = Message {
            bytes,
            header,
            question: Vec::with_capacity(usize::from(header.qdcount.min(4))),
            answer: Vec::new(),
            authority: Vec::new(),
            additional: Vec::new(),
            error: None,
            trailing: 0,
        };
        let mut pos = HEADER_LEN;
        if let Err(e) = msg.parse_body(&mut pos) {
            msg.error = Some(e);
        } else {
            msg.trailing = bytes.len() - pos;
        }
        Ok(msg)
    }

    fn parse_body(&mut self, pos: &mut usize) -> Result<(), WireError> {
        for _ in 0..self.header.qdcount {
            let (name, next) = read_name(self.bytes, *pos)?;
            let fixed = self.fixed(next, 4)?;
            self.question.push(Question {
                name,
                qtype: u16::from_be_bytes([fixed[0], fixed[1]]),
                qclass: u16::from_be_bytes([fixed[2], fixed[3]]),
            });
            *pos = next + 4;
        }
        let counts = [
            (Section::Answer, self.header.ancount),
            (Section::Authority, self.header.nscount),
            (Section::Additional, self.header.arcount),
        ];
        for (section, count) in counts {
            for _ in 0..count {
                let record = self.parse_record(pos)?;
                self.section_mut(section).push(record);
            }
        }
        Ok(())
    }

    fn fixed(&self, at: usize, len: usize) -> Result<&'a [u8], WireError> {
        self.bytes
            .get(at..at + len)
            .ok_or(WireError::Truncated { offset: at })
    }

    fn parse_record(&self, pos: &mut usize) -> Result<Record, WireError> {
        let (name, next) = read_name(self.bytes, *pos)?;
        let f = self.fixed(next, 10)?;
        let rtype = u16::from_be_bytes([f[0], f[1]]);
        let class = u16::from_be_bytes([f[2], f[3]]);
        let ttl = u32::from_be_bytes([f[4], f[5], f[6], f[7]]);
        let rdlen = usize::from(u16::from_be_bytes([f[8], f[9]]));
        let start = next + 10;
        let end = start + rdlen;
        if end > self.bytes.len() {
            return Err(WireError::Truncated {
                offset: self.bytes.len(),
            });
        }
        *pos = end;
        Ok(Record {
            name,
            rtype,
            class,
            ttl,
            rdata: start..end,
        })
    }

    fn section_mut(&mut self, section: Section) -> &mut Vec<Record> {
        match section {
            Section::Answer => &mut self.answer,
            Section::Authority => &mut self.authority,
            Section::Additional => &mut self.additional,
        }
    }

    /// The records of one section.
    pub fn section(&self, section: Section) -> &[Record] {
        match section {
            Section::Answer => &self.answer,
            Section::Authority => &self.authority,
            Section::Additional => &self.additional,
        }
    }

    /// The RDATA bytes of a record of this message.
    pub fn rdata(&self, record: &Record) -> &'a [u8] {
        self.bytes.get(record.rdata.clone()).unwrap_or(&[])
    }

    /// The first OPT record of the additional section (RFC 6891 §6.1.1).
    pub fn opt(&self) -> Option<&Record> {
        self.additional.iter().find(|r| r.rtype == types::OPT)
    }

    /// The full response code: the header's 4 bits plus the OPT record's
    /// 8 extended bits (RFC 6891 §6.1.3).
    pub fn rcode(&self) -> u16 {
        let ext = self.opt().map_or(0, |o| (o.ttl >> 24) as u16);
        (ext << 4) | self.header.rcode()
    }

    /// The first question, if any.
    pub fn first_question(&self) -> Option<&Question> {
        self.question.first()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A response for `a.b. A` with one answer using a compression pointer.
    fn sample() -> Vec<u8> {
        let mut m = vec![
            0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 1, // header
            1, b'a', 1, b'b', 0, 0, 1, 0, 1, // question a.b. A IN
            0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 192, 0, 2, 1, // answer
            0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 0, // OPT, udp 1232, DO
        ];
        m.shrink_to_fit();
        m
    }

    #[test]
    fn parses_header_question_and_records_in_order() {
        let bytes = sample();
        let msg = Message::parse(&bytes).unwrap();
        assert_eq!(msg.header.id, 0x1234);
        assert!(msg.header.qr() && msg.header.rd() && msg.header.ra());
        assert!(!msg.header.tc());
        assert_eq!(msg.question.len(), 1);
        assert_eq!(msg.question[0].qtype, 1);
        assert_eq!(msg.answer.len(), 1);
        assert_eq!(msg.answer[0].ttl, 3600);
        assert_eq!(msg.rdata(&msg.answer[0]), &[192, 0, 2, 1]);
        assert_eq!(msg.answer[0].name, msg.question[0].name);
        let opt = msg.opt().unwrap();
        assert_eq!(opt.class, 1232);
        assert!(msg.error.is_none());
        assert_eq!(msg.trailing, 0);
    }

    #[test]
    fn extended_rcode_combines_header_and_opt() {
        let mut bytes = sample();
        let opt_ttl = bytes.len() - 6;
        bytes[opt_ttl] = 1; // extended rcode 1 -> BADVERS (16) with header rcode 0
        let msg = Message::parse(&bytes).unwrap();
        assert_eq!(msg.rcode(), 16);
    }

    #[test]
    fn every_truncation_keeps_what_parsed_and_never_panics() {
        let bytes = sample();
        for cut in 0..bytes.len() {
            match Message::parse(&bytes[..cut]) {
                Err(WireError::Truncated { .. }) => assert!(cut < HEADER_LEN),
                Err(e) => panic!("unexpected error {e} at cut {cut}"),
                Ok(msg) => {
                    assert!(cut >= HEADER_LEN);
                    assert!(msg.error.is_some(), "cut {cut} must report an error");
                    if cut >= 21 {
                        assert_eq!(msg.question.len(), 1);
                    }
                }
            }
        }
    }

    #[test]
    fn first_question_matches_the_full_parse() {
        let bytes = sample();
        let full = Message::parse(&bytes).unwrap();
        assert_eq!(first_question(&bytes).as_ref(), full.first_question());
        assert_eq!(first_question(&bytes[..14]), None);
        assert_eq!(first_question(&[0; 12]), None);
        assert_eq!(first_qtype(&bytes), Some(1));
        assert_eq!(first_qtype(&bytes[..14]), None);
        assert_eq!(first_qtype(&[0; 12]), None);
    }

    #[test]
    fn first_qtype_agrees_with_first_question_on_every_corpus_message_cut() {
        use crate::testutil::{corpus_files, events_of};
        let mut checked = 0;
        for path in corpus_files() {
            for e in events_of(&path) {
                for m in [&e.query_message, &e.response_message]
                    .into_iter()
                    .flatten()
                {
                    for cut in [m.len(), 13, 20, 30, m.len() / 2] {
                        let bytes = &m[..cut.min(m.len())];
                        if let Some(q) = first_question(bytes) {
                            assert_eq!(first_qtype(bytes), Some(q.qtype));
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert!(checked > 500, "only {checked}");
    }

    #[test]
    fn trailing_bytes_are_counted() {
        let mut bytes = sample();
        bytes.extend_from_slice(&[1, 2, 3]);
        let msg = Message::parse(&bytes).unwrap();
        assert_eq!(msg.trailing, 3);
    }

    #[test]
    fn header_counts_larger_than_data_report_truncation() {
        let mut bytes = sample();
        bytes[7] = 5; // ancount 5
        let msg = Message::parse(&bytes).unwrap();
        assert!(matches!(msg.error, Some(WireError::Truncated { .. })));
    }
}
