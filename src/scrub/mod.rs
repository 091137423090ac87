//! `--scrub`: makes a trace safe to publish. It owns what is removed or
//! replaced; it does not read or write files (the caller hands it records
//! or events) and reads no clock.
//!
//! What changes, per record:
//! - `query_address` and `response_address`: a Crypto-PAn pseudonym
//!   ([`cryptopan`]), keyed, prefix-preserving, the same mapping for every
//!   record of the run; an address field of another length is removed.
//! - `query_port` and `response_port` with `--scrub-ports`: a keyed
//!   permutation of 0-65535 (so pairing still works).
//! - `identity`, `version`, `extra` and `policy` (which can name the
//!   client's address or the rule that matched): removed.
//! - Inside `query_message` and `response_message`, in every OPT record:
//!   EDNS Client Subnet addresses get the pseudonym of the same mapping,
//!   cut to their source prefix; COOKIE, NSID and PADDING option data are
//!   overwritten with zeros. Bytes are rewritten in place, lengths kept, so
//!   every message parses and pairs as before.
//!
//! What stays: times, message types, transports, query names and every
//! record in the messages (answers naming a client's address included),
//! `query_zone`. A message that cannot be parsed as far as its OPT record
//! is kept as it is and counted as unchecked.

pub mod cryptopan;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bytes::Bytes;
use prost::Message as _;

use crate::dns::wire::{Message, Section};
use crate::tap::event::Event;
use crate::tap::pb;
use cryptopan::CryptoPan;

/// Distinct addresses remembered before the cache is emptied (each takes
/// 32 or 128 AES blocks to map).
const CACHE_MAX: usize = 1 << 20;

/// EDNS option codes (IANA "DNS EDNS0 Option Codes").
const OPT_NSID: u16 = 3; // RFC 5001
const OPT_ECS: u16 = 8; // RFC 7871
const OPT_COOKIE: u16 = 10; // RFC 7873
const OPT_PADDING: u16 = 12; // RFC 7830

/// What a scrub run changed, by kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Address fields replaced by a pseudonym.
    pub addresses: u64,
    /// Address fields of an odd length, removed.
    pub odd_addresses: u64,
    /// Port fields replaced.
    pub ports: u64,
    /// Identity fields removed.
    pub identities: u64,
    /// Version fields removed.
    pub versions: u64,
    /// `extra` and `policy` fields removed.
    pub extras: u64,
    /// EDNS Client Subnet addresses replaced.
    pub ecs: u64,
    /// COOKIE options zeroed.
    pub cookies: u64,
    /// NSID options zeroed.
    pub nsid: u64,
    /// PADDING options zeroed.
    pub padding: u64,
    /// Labels of names hashed.
    pub labels: u64,
    /// Messages that could not be parsed as far as their OPT record.
    pub unchecked: u64,
}

/// Scrubbing options.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScrubOpts {
    /// Replace ports as well.
    pub ports: bool,
    /// Hash the labels of question and owner names (`--scrub-names`).
    pub names: bool,
}

/// Why a record could not be scrubbed (it is then left out).
#[derive(Debug, thiserror::Error)]
pub enum ScrubError {
    /// The payload is not a dnstap protobuf.
    #[error("not a valid dnstap protobuf: {0}")]
    Protobuf(#[from] prost::DecodeError),
}

/// Reads a scrub key file: 32 bytes, raw or as 64 hexadecimal digits
/// (surrounding white space ignored).
pub fn key_from_bytes(bytes: &[u8]) -> Result<[u8; 32], String> {
    if let Ok(k) = <[u8; 32]>::try_from(bytes) {
        return Ok(k);
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| "expected 32 bytes or 64 hexadecimal digits".to_string())?
        .trim();
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("expected 32 bytes or 64 hexadecimal digits".into());
    }
    let mut key = [0u8; 32];
    for (i, k) in key.iter_mut().enumerate() {
        *k = u8::from_str_radix(&text[2 * i..2 * i + 2], 16)
            .map_err(|_| "expected 64 hexadecimal digits".to_string())?;
    }
    Ok(key)
}

/// The scrubbing state of one run: the key, the address cache, counts.
#[derive(Debug)]
pub struct Scrubber {
    pan: CryptoPan,
    /// Port permutation (with `ports`), filled as ports are seen
    /// (`u32::MAX`: not yet computed).
    ports: Option<Box<[u32; 65536]>>,
    cache: HashMap<IpAddr, IpAddr, foldhash::fast::RandomState>,
    counts: Counts,
    /// `--scrub-names`.
    names: bool,
}

impl Scrubber {
    /// A scrubber with `key` (see [`key_from_bytes`]).
    pub fn new(key: &[u8; 32], opts: ScrubOpts) -> Scrubber {
        let pan = CryptoPan::new(key);
        let ports = opts.ports.then(|| Box::new([u32::MAX; 65536]));
        Scrubber {
            pan,
            ports,
            cache: HashMap::default(),
            counts: Counts::default(),
            names: opts.names,
        }
    }

    /// A scrubber with a random key, for this run only.
    pub fn random(opts: ScrubOpts) -> Scrubber {
        let key: [u8; 32] = rand::random();
        Scrubber::new(&key, opts)
    }

    /// What was changed so far.
    pub fn counts(&self) -> &Counts {
        &self.counts
    }

    /// One line for stderr: what was changed, by kind (kinds with nothing
    /// changed are left out, addresses excepted).
    pub fn summary(&self) -> String {
        let c = &self.counts;
        let mut s = String::from(";; scrubbed:");
        for (n, what) in [
            (c.addresses, "addresses"),
            (c.odd_addresses, "odd-length addresses removed"),
            (c.ports, "ports"),
            (c.identities, "identities removed"),
            (c.versions, "versions removed"),
            (c.extras, "extra/policy fields removed"),
            (c.ecs, "client subnets"),
            (c.cookies, "cookies"),
            (c.nsid, "NSIDs"),
            (c.padding, "paddings"),
            (c.labels, "name labels hashed"),
        ] {
            if n > 0 || what == "addresses" {
                let _ = write!(s, " {n} {what},");
            }
        }
        s.pop();
        if c.unchecked > 0 {
            let _ = write!(
                s,
                "; {} messages could not be parsed to their OPT record and were kept as they are",
                c.unchecked
            );
        }
        s
    }

    /// The pseudonym of an address.
    pub fn address(&mut self, addr: IpAddr) -> IpAddr {
        if let Some(a) = self.cache.get(&addr) {
            return *a;
        }
        let mapped = match addr {
            IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from(self.pan.v4(u32::from(a)))),
            IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(self.pan.v6(u128::from(a)))),
        };
        if self.cache.len() >= CACHE_MAX {
            self.cache.clear();
        }
        self.cache.insert(addr, mapped);
        mapped
    }

    fn address_field(&mut self, field: &mut Option<Bytes>) {
        let Some(b) = field.as_deref() else {
            return;
        };
        let addr = if let Ok(a) = <[u8; 4]>::try_from(b) {
            IpAddr::V4(Ipv4Addr::from(a))
        } else if let Ok(a) = <[u8; 16]>::try_from(b) {
            IpAddr::V6(Ipv6Addr::from(a))
        } else {
            *field = None;
            self.counts.odd_addresses += 1;
            return;
        };
        self.counts.addresses += 1;
        *field = Some(match self.address(addr) {
            IpAddr::V4(a) => Bytes::copy_from_slice(&a.octets()),
            IpAddr::V6(a) => Bytes::copy_from_slice(&a.octets()),
        });
    }

    fn port(&mut self, port: u16) -> u16 {
        let pan = &self.pan;
        match self.ports.as_deref_mut() {
            Some(table) => {
                self.counts.ports += 1;
                let slot = &mut table[usize::from(port)];
                if *slot == u32::MAX {
                    *slot = u32::from(permute_port(pan, port));
                }
                *slot as u16
            }
            None => port,
        }
    }

    fn message(&mut self, field: &mut Option<Bytes>) {
        if let Some(m) = field.as_deref() {
            let mut bytes = m.to_vec();
            self.scrub_message(&mut bytes);
            *field = Some(Bytes::from(bytes));
        }
    }

    /// Scrubs one record (see the module documentation).
    pub fn scrub_record(&mut self, record: &mut pb::Dnstap) {
        if record.identity.take().is_some() {
            self.counts.identities += 1;
        }
        if record.version.take().is_some() {
            self.counts.versions += 1;
        }
        if record.extra.take().is_some() {
            self.counts.extras += 1;
        }
        let Some(m) = record.message.as_mut() else {
            return;
        };
        if m.policy.take().is_some() {
            self.counts.extras += 1;
        }
        self.address_field(&mut m.query_address);
        self.address_field(&mut m.response_address);
        if self.ports.is_some() {
            for v in [&mut m.query_port, &mut m.response_port]
                .into_iter()
                .flatten()
            {
                *v = match u16::try_from(*v) {
                    Ok(v) => u32::from(self.port(v)),
                    Err(_) => 0,
                };
            }
        }
        self.message(&mut m.query_message);
        self.message(&mut m.response_message);
    }

    /// Scrubs one encoded record and returns the new encoding.
    pub fn scrub_payload(&mut self, payload: &[u8]) -> Result<Vec<u8>, ScrubError> {
        let mut record = pb::Dnstap::decode(payload)?;
        self.scrub_record(&mut record);
        Ok(record.encode_to_vec())
    }

    /// Scrubs an event in place (for rendering and the live collector).
    pub fn scrub_event(&mut self, event: &mut Event) {
        if event.identity.take().is_some() {
            self.counts.identities += 1;
        }
        if event.version.take().is_some() {
            self.counts.versions += 1;
        }
        for a in [&mut event.query_addr, &mut event.response_addr] {
            if let Some(addr) = *a {
                self.counts.addresses += 1;
                *a = Some(self.address(addr));
            }
        }
        if self.ports.is_some() {
            for p in [&mut event.query_port, &mut event.response_port] {
                if let Some(v) = *p {
                    *p = Some(self.port(v));
                }
            }
        }
        self.message(&mut event.query_message);
        self.message(&mut event.response_message);
    }

    /// Rewrites the OPT options of a DNS message in place (same length).
    pub fn scrub_message(&mut self, bytes: &mut [u8]) {
        let opts: Vec<std::ops::Range<usize>> = match Message::parse(bytes) {
            Ok(msg) if msg.error.is_none() => msg
                .section(Section::Additional)
                .iter()
                .filter(|r| r.rtype == crate::dns::types::OPT)
                .map(|r| r.rdata.clone())
                .collect(),
            // Too short for a header: nothing to scrub.
            Err(_) => return,
            Ok(_) => {
                self.counts.unchecked += 1;
                return;
            }
        };
        for range in opts {
            let Some(rdata) = bytes.get_mut(range) else {
                continue;
            };
            self.scrub_options(rdata);
        }
        if self.names {
            let mut done = std::collections::HashSet::new();
            for pos in name_positions(bytes) {
                self.hash_name_at(bytes, pos, &mut done);
            }
        }
    }

    /// Replaces each label of the name at `pos` (following compression
    /// pointers) by its keyed hash of the same length, once per label.
    fn hash_name_at(
        &mut self,
        bytes: &mut [u8],
        mut pos: usize,
        done: &mut std::collections::HashSet<usize>,
    ) {
        // A name has at most 127 labels; pointer loops end here too.
        for _ in 0..256 {
            let Some(&len) = bytes.get(pos) else {
                return;
            };
            match len {
                0 => return,
                l if l & 0xc0 == 0xc0 => {
                    let Some(&low) = bytes.get(pos + 1) else {
                        return;
                    };
                    pos = usize::from(u16::from_be_bytes([l & 0x3f, low]));
                }
                l if l & 0xc0 != 0 => return,
                l => {
                    let range = pos + 1..pos + 1 + usize::from(l);
                    if done.insert(pos) {
                        if let Some(label) = bytes.get_mut(range) {
                            self.hash_label(label);
                            self.counts.labels += 1;
                        }
                    }
                    pos += 1 + usize::from(l);
                }
            }
        }
    }

    /// A keyed pseudonym of a label, same length, lowercase letters and
    /// digits; labels equal but for case get the same one.
    fn hash_label(&self, label: &mut [u8]) {
        const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        // A CBC-MAC of the lowercased label under the scrub key...
        let mut state = [0u8; 16];
        state[0] = b'L';
        state[1] = label.len() as u8;
        let lower: Vec<u8> = label.iter().map(u8::to_ascii_lowercase).collect();
        for chunk in lower.chunks(16) {
            for (s, b) in state.iter_mut().zip(chunk) {
                *s ^= b;
            }
            state = self.pan.prf_block(state);
        }
        // ...expanded one character per block.
        for (i, b) in label.iter_mut().enumerate() {
            let mut block = state;
            block[15] ^= i as u8;
            block[14] ^= 0x5a;
            *b = ALPHABET[usize::from(self.pan.prf_byte(block)) % 36];
        }
    }

    fn scrub_options(&mut self, rdata: &mut [u8]) {
        let mut pos = 0;
        while let Some(head) = rdata.get(pos..pos + 4) {
            let code = u16::from_be_bytes([head[0], head[1]]);
            let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
            let start = pos + 4;
            // A length past the end: scrub what is there.
            let end = (start + len).min(rdata.len());
            let data = &mut rdata[start..end];
            match code {
                OPT_ECS => {
                    self.counts.ecs += 1;
                    self.ecs(data);
                }
                OPT_COOKIE => {
                    self.counts.cookies += 1;
                    data.fill(0);
                }
                OPT_NSID if !data.is_empty() => {
                    self.counts.nsid += 1;
                    data.fill(0);
                }
                OPT_PADDING => {
                    self.counts.padding += 1;
                    data.fill(0);
                }
                _ => {}
            }
            pos = start + len;
        }
    }

    /// ECS (RFC 7871 §6): FAMILY, SOURCE PREFIX, SCOPE PREFIX, ADDRESS cut
    /// to the source prefix. The pseudonym is cut the same way.
    fn ecs(&mut self, data: &mut [u8]) {
        let (family, source) = match data {
            [f0, f1, src, _, ..] => (u16::from_be_bytes([*f0, *f1]), *src),
            _ => {
                data.fill(0);
                return;
            }
        };
        let Some(addr) = data.get_mut(4..) else {
            return;
        };
        let width = match family {
            1 if addr.len() <= 4 => 4,
            2 if addr.len() <= 16 => 16,
            _ => {
                addr.fill(0);
                return;
            }
        };
        let mut full = [0u8; 16];
        full[..addr.len()].copy_from_slice(addr);
        let mapped = if width == 4 {
            let a = Ipv4Addr::from([full[0], full[1], full[2], full[3]]);
            match self.address(IpAddr::V4(a)) {
                IpAddr::V4(m) => {
                    let mut o = [0u8; 16];
                    o[..4].copy_from_slice(&m.octets());
                    o
                }
                IpAddr::V6(_) => [0; 16],
            }
        } else {
            match self.address(IpAddr::V6(Ipv6Addr::from(full))) {
                IpAddr::V6(m) => m.octets(),
                IpAddr::V4(_) => [0; 16],
            }
        };
        // Keep the source prefix's bits; zero the rest (RFC 7871 §6).
        let bits = usize::from(source).min(width * 8);
        for (i, b) in addr.iter_mut().enumerate() {
            let m = mapped[i];
            let keep = bits.saturating_sub(i * 8).min(8);
            let mask = if keep == 0 { 0 } else { 0xffu8 << (8 - keep) };
            *b = m & mask;
        }
    }
}

/// Where the question names and record owner names of a message start
/// (a message that parsed without error).
fn name_positions(bytes: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let Ok(h) = crate::dns::wire::Header::parse(bytes) else {
        return out;
    };
    let skip = |mut pos: usize| -> Option<usize> {
        loop {
            let len = *bytes.get(pos)?;
            match len {
                0 => return Some(pos + 1),
                l if l & 0xc0 == 0xc0 => return Some(pos + 2),
                l if l & 0xc0 != 0 => return None,
                l => pos += 1 + usize::from(l),
            }
        }
    };
    let mut pos = crate::dns::wire::HEADER_LEN;
    for _ in 0..h.qdcount {
        out.push(pos);
        match skip(pos) {
            Some(p) => pos = p + 4,
            None => return out,
        }
    }
    let records = u32::from(h.ancount) + u32::from(h.nscount) + u32::from(h.arcount);
    for _ in 0..records {
        out.push(pos);
        let Some(p) = skip(pos) else {
            return out;
        };
        let Some(f) = bytes.get(p + 8..p + 10) else {
            return out;
        };
        pos = p + 10 + usize::from(u16::from_be_bytes([f[0], f[1]]));
    }
    out
}

/// A keyed permutation of the 65536 ports: a four-round Feistel network
/// over the two bytes whose round function is AES under the scrub key, on
/// blocks that start with `port` (distinct from every block Crypto-PAn
/// encrypts for IPv4 addresses, whose last 12 bytes are the pad's).
fn permute_port(pan: &CryptoPan, port: u16) -> u16 {
    let [mut l, mut r] = port.to_be_bytes();
    for round in 0..4u8 {
        let mut block = *b"port\0\0\0\0\0\0\0\0\0\0\0\0";
        block[4] = round;
        block[5] = r;
        let next = l ^ pan.prf_byte(block);
        l = r;
        r = next;
    }
    u16::from_be_bytes([l, r])
}

/// `--scrub` settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScrubSpec {
    /// The key from `--scrub-key` (None: random for this run).
    pub key: Option<[u8; 32]>,
    /// `--scrub-ports`.
    pub ports: bool,
    /// `--scrub-names`.
    pub names: bool,
}

impl ScrubSpec {
    /// The scrubber for a run.
    pub fn scrubber(&self) -> Scrubber {
        let opts = ScrubOpts {
            ports: self.ports,
            names: self.names,
        };
        match &self.key {
            Some(k) => Scrubber::new(k, opts),
            None => Scrubber::random(opts),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrubber() -> Scrubber {
        Scrubber::new(
            &[9; 32],
            ScrubOpts {
                ports: true,
                names: false,
            },
        )
    }

    #[test]
    fn ports_are_permuted() {
        let mut s = scrubber();
        let mut seen = vec![false; 65536];
        for p in 0..=u16::MAX {
            let q = s.port(p);
            assert!(!seen[usize::from(q)], "{p} -> {q} twice");
            seen[usize::from(q)] = true;
        }
        assert_ne!(s.port(53), 53);
        assert_eq!(s.port(53), s.port(53));
    }

    /// A message with an OPT record holding ECS 198.51.100.0/24, a cookie,
    /// an NSID, padding and an unknown option.
    fn message_with_options() -> Vec<u8> {
        let mut m = vec![0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1];
        m.extend_from_slice(b"\x07example\x03com\x00\x00\x01\x00\x01");
        let mut opts = Vec::new();
        opts.extend_from_slice(&[0, 8, 0, 7, 0, 1, 24, 0, 198, 51, 100]);
        opts.extend_from_slice(&[0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8]);
        opts.extend_from_slice(&[0, 3, 0, 3, b'n', b's', b'1']);
        opts.extend_from_slice(&[0, 12, 0, 2, 0xaa, 0xbb]);
        opts.extend_from_slice(&[0xfd, 0xe9, 0, 2, 0x55, 0x66]);
        m.extend_from_slice(&[0, 0, 41, 4, 208, 0, 0, 0, 0]);
        m.extend_from_slice(&(opts.len() as u16).to_be_bytes());
        m.extend_from_slice(&opts);
        m
    }

    #[test]
    fn opt_options_are_rewritten_in_place() {
        let mut s = scrubber();
        let original = message_with_options();
        let mut m = original.clone();
        s.scrub_message(&mut m);
        assert_eq!(m.len(), original.len());
        let msg = Message::parse(&m).unwrap();
        assert!(msg.error.is_none());
        // ECS address: after the option's code, length, family and prefixes.
        let at = original.len() - 42 + 8;
        assert_eq!(&original[at..at + 3], &[198, 51, 100]);
        // ECS: the /24 of the client's pseudonym.
        let client = s.address("198.51.100.77".parse().unwrap());
        let IpAddr::V4(c) = client else { panic!() };
        assert_eq!(&m[at..at + 3], &c.octets()[..3]);
        assert_ne!(&m[at..at + 3], &[198, 51, 100]);
        assert!(m.windows(8).all(|w| w != [1, 2, 3, 4, 5, 6, 7, 8]));
        assert!(m.windows(3).all(|w| w != b"ns1"));
        assert!(m.windows(2).all(|w| w != [0xaa, 0xbb]));
        assert_eq!(&m[m.len() - 2..], &[0x55, 0x66], "unknown options stay");
        let c = s.counts();
        assert_eq!((c.ecs, c.cookies, c.nsid, c.padding), (1, 1, 1, 1));
    }

    /// A PTR query for 198.51.100.77 and its answer, the owner compressed.
    fn ptr_response() -> Vec<u8> {
        let mut m = vec![0, 7, 0x84, 0, 0, 1, 0, 1, 0, 0, 0, 0];
        m.extend_from_slice(b"\x0277\x03100\x0251\x03198\x07in-addr\x04arpa\x00\x00\x0c\x00\x01");
        m.extend_from_slice(&[0xc0, 12, 0, 12, 0, 1, 0, 0, 0, 60, 0, 6]);
        m.extend_from_slice(b"\x04host\x00");
        m
    }

    #[test]
    fn names_are_hashed_label_by_label_when_asked() {
        let original = ptr_response();
        let mut plain = original.clone();
        scrubber().scrub_message(&mut plain);
        assert_eq!(plain, original, "names stay by default");
        let mut s = Scrubber::new(
            &[9; 32],
            ScrubOpts {
                ports: false,
                names: true,
            },
        );
        let mut m = original.clone();
        s.scrub_message(&mut m);
        assert_eq!(m.len(), original.len());
        for gone in [&b"in-addr"[..], b"arpa", b"198", b"100"] {
            assert!(m.windows(gone.len()).all(|w| w != gone), "{gone:?}");
        }
        let msg = Message::parse(&m).unwrap();
        assert!(msg.error.is_none());
        // The owner is the question's name, through the pointer.
        assert_eq!(msg.section(Section::Answer)[0].name, msg.question[0].name);
        assert_eq!(msg.question[0].name.label_count(), 6);
        // RDATA names stay; the same label gets the same hash, any case.
        assert!(m.windows(4).any(|w| w == b"host"));
        let mut upper = original.clone();
        assert_eq!(&upper[35..39], b"arpa");
        upper[35..39].copy_from_slice(b"ARPA");
        let mut again = Scrubber::new(
            &[9; 32],
            ScrubOpts {
                ports: false,
                names: true,
            },
        );
        again.scrub_message(&mut upper);
        assert_eq!(upper, m);
        assert_eq!(s.counts().labels, 6);
        // Pointer loops end.
        let mut looped = vec![0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1];
        s.scrub_message(&mut looped);
    }

    #[test]
    fn ecs_keeps_only_the_source_prefix_bits() {
        let mut s = scrubber();
        let mut data = [0, 1, 20, 0, 198, 51, 100];
        s.ecs(&mut data);
        assert_eq!(data[6] & 0x0f, 0);
        let mut v6 = [0, 2, 56, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0];
        s.ecs(&mut v6);
        assert_ne!(&v6[4..8], &[0x20, 0x01, 0x0d, 0xb8]);
        // Malformed: no panic, address bytes cleared.
        let mut bad = [0, 9, 8, 0, 1, 2, 3];
        s.ecs(&mut bad);
        assert_eq!(&bad[4..], &[0, 0, 0]);
        let mut short = [0, 1];
        s.ecs(&mut short);
    }

    #[test]
    fn truncated_options_never_panic() {
        let mut s = scrubber();
        let m = message_with_options();
        for cut in 0..m.len() {
            let mut part = m[..cut].to_vec();
            s.scrub_message(&mut part);
        }
        // An option length running past the OPT record.
        let mut opts = vec![0u8, 10, 0, 40, 1, 2, 3];
        s.scrub_options(&mut opts);
        assert_eq!(&opts[4..], &[0, 0, 0]);
    }

    #[test]
    fn key_files_are_raw_or_hex() {
        assert_eq!(key_from_bytes(&[3; 32]).unwrap(), [3; 32]);
        let hex = format!("{}\n", "ab".repeat(32));
        assert_eq!(key_from_bytes(hex.as_bytes()).unwrap(), [0xab; 32]);
        assert!(key_from_bytes(b"short").is_err());
        assert!(key_from_bytes("zz".repeat(32).as_bytes()).is_err());
    }

    #[test]
    fn records_lose_identity_version_policy_and_get_pseudonyms() {
        let mut s = scrubber();
        let mut r = pb::Dnstap {
            identity: Some(Bytes::from_static(b"resolver-7")),
            version: Some(Bytes::from_static(b"v1")),
            extra: Some(Bytes::from_static(b"x")),
            r#type: 1,
            message: Some(pb::Message {
                r#type: 5,
                query_address: Some(Bytes::from_static(&[198, 51, 100, 77])),
                response_address: Some(Bytes::from_static(&[1, 2, 3])),
                query_port: Some(40000),
                response_port: Some(70000),
                query_message: Some(Bytes::from(message_with_options())),
                ..Default::default()
            }),
        };
        s.scrub_record(&mut r);
        assert!(r.identity.is_none() && r.version.is_none() && r.extra.is_none());
        let m = r.message.unwrap();
        assert_ne!(m.query_address.as_deref(), Some(&[198u8, 51, 100, 77][..]));
        assert_eq!(m.query_address.as_ref().map(|a| a.len()), Some(4));
        assert_eq!(m.response_address, None);
        assert_ne!(m.query_port, Some(40000));
        assert_eq!(m.response_port, Some(0));
    }
}
