//! TSIG (RFC 8945): keys and their text forms, signing a query, and
//! verifying a response or every message of a zone transfer.
//!
//! Pure: no I/O and no clock. Callers pass the time (seconds since the
//! epoch) and the bytes; key files are read by the caller and handed in as
//! text. A key's secret never appears in an error message or in `Debug`.
//!
//! The HMACs come from the RustCrypto crates (`hmac` with `md-5`, `sha1`,
//! `sha2`) for all six algorithms: `ring` has no HMAC-MD5 or HMAC-SHA224,
//! and one family for all keeps one code path (and one streaming interface,
//! which the multi-message rule of §5.3.1 uses to hash a transfer's
//! unsigned messages without keeping them). MACs are compared in constant
//! time with `subtle`.

use hmac::{Hmac, Mac as _};
use subtle::ConstantTimeEq;

use super::name::{read_name, Name};
use super::types;
use super::wire::{Message, HEADER_LEN};

/// The fudge qtap sends, as dig and kdig do (seconds, RFC 8945 §10).
pub const DEFAULT_FUDGE: u16 = 300;

/// At most this many messages of a transfer in a row may go unsigned
/// (RFC 8945 §5.3.1: "at least every 100th" message is signed).
pub const MAX_UNSIGNED_RUN: u32 = 99;

/// TSIG error field values (RFC 8945 §5.2, IANA "DNS RCODEs").
pub mod rcode {
    /// BADSIG: the MAC did not verify.
    pub const BADSIG: u16 = 16;
    /// BADKEY: the key is not known.
    pub const BADKEY: u16 = 17;
    /// BADTIME: the signature is outside the fudge window.
    pub const BADTIME: u16 = 18;
    /// BADTRUNC: the MAC was truncated too far.
    pub const BADTRUNC: u16 = 22;
}

/// A TSIG algorithm (RFC 8945 §6; RFC 4635 for the SHA family).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// HMAC-MD5.SIG-ALG.REG.INT (RFC 8945 §6, "MUST be implemented" no more).
    HmacMd5,
    /// hmac-sha1 (RFC 4635).
    HmacSha1,
    /// hmac-sha224 (RFC 4635).
    HmacSha224,
    /// hmac-sha256 (RFC 4635): dig's and kdig's default.
    HmacSha256,
    /// hmac-sha384 (RFC 4635).
    HmacSha384,
    /// hmac-sha512 (RFC 4635).
    HmacSha512,
}

impl Algorithm {
    /// Every algorithm, weakest first.
    pub const ALL: [Algorithm; 6] = [
        Algorithm::HmacMd5,
        Algorithm::HmacSha1,
        Algorithm::HmacSha224,
        Algorithm::HmacSha256,
        Algorithm::HmacSha384,
        Algorithm::HmacSha512,
    ];

    /// The name used on command lines and in key files (`hmac-sha256`).
    pub fn mnemonic(self) -> &'static str {
        match self {
            Algorithm::HmacMd5 => "hmac-md5",
            Algorithm::HmacSha1 => "hmac-sha1",
            Algorithm::HmacSha224 => "hmac-sha224",
            Algorithm::HmacSha256 => "hmac-sha256",
            Algorithm::HmacSha384 => "hmac-sha384",
            Algorithm::HmacSha512 => "hmac-sha512",
        }
    }

    /// The algorithm name carried in the TSIG RDATA (RFC 8945 §6).
    pub fn wire_text(self) -> &'static str {
        match self {
            Algorithm::HmacMd5 => "hmac-md5.sig-alg.reg.int.",
            Algorithm::HmacSha1 => "hmac-sha1.",
            Algorithm::HmacSha224 => "hmac-sha224.",
            Algorithm::HmacSha256 => "hmac-sha256.",
            Algorithm::HmacSha384 => "hmac-sha384.",
            Algorithm::HmacSha512 => "hmac-sha512.",
        }
    }

    /// The algorithm name in wire form.
    pub fn wire_name(self) -> Name {
        Name::from_text(self.wire_text()).unwrap_or_default()
    }

    /// Parses a mnemonic (`hmac-sha256`, any case) or an algorithm name
    /// (`hmac-md5.sig-alg.reg.int`, trailing dot optional).
    pub fn from_text(text: &str) -> Option<Algorithm> {
        let t = text.strip_suffix('.').unwrap_or(text);
        Algorithm::ALL.into_iter().find(|a| {
            t.eq_ignore_ascii_case(a.mnemonic())
                || t.eq_ignore_ascii_case(a.wire_text().trim_end_matches('.'))
        })
    }

    /// The algorithm named in a TSIG record.
    pub fn from_wire_name(name: &Name) -> Option<Algorithm> {
        Algorithm::ALL
            .into_iter()
            .find(|a| a.wire_name().eq_ignore_case(name))
    }

    /// Length of the full MAC in bytes.
    pub fn mac_len(self) -> usize {
        match self {
            Algorithm::HmacMd5 => 16,
            Algorithm::HmacSha1 => 20,
            Algorithm::HmacSha224 => 28,
            Algorithm::HmacSha256 => 32,
            Algorithm::HmacSha384 => 48,
            Algorithm::HmacSha512 => 64,
        }
    }

    /// The shortest MAC accepted (RFC 8945 §5.2.2.1: at least 10 bytes
    /// and at least half the full length).
    pub fn min_mac_len(self) -> usize {
        (self.mac_len() / 2).max(10)
    }
}

/// A running HMAC of one algorithm.
enum Hasher {
    Md5(Hmac<md5::Md5>),
    Sha1(Hmac<sha1::Sha1>),
    Sha224(Hmac<sha2::Sha224>),
    Sha256(Hmac<sha2::Sha256>),
    Sha384(Hmac<sha2::Sha384>),
    Sha512(Hmac<sha2::Sha512>),
}

macro_rules! each_hasher {
    ($self:expr, $h:ident => $body:expr) => {
        match $self {
            Hasher::Md5($h) => $body,
            Hasher::Sha1($h) => $body,
            Hasher::Sha224($h) => $body,
            Hasher::Sha256($h) => $body,
            Hasher::Sha384($h) => $body,
            Hasher::Sha512($h) => $body,
        }
    };
}

impl Hasher {
    /// HMAC accepts a key of any length, so this fails only if the crate
    /// ever changed that; the caller reports it as a bad key.
    fn new(alg: Algorithm, secret: &[u8]) -> Option<Hasher> {
        Some(match alg {
            Algorithm::HmacMd5 => Hasher::Md5(Hmac::new_from_slice(secret).ok()?),
            Algorithm::HmacSha1 => Hasher::Sha1(Hmac::new_from_slice(secret).ok()?),
            Algorithm::HmacSha224 => Hasher::Sha224(Hmac::new_from_slice(secret).ok()?),
            Algorithm::HmacSha256 => Hasher::Sha256(Hmac::new_from_slice(secret).ok()?),
            Algorithm::HmacSha384 => Hasher::Sha384(Hmac::new_from_slice(secret).ok()?),
            Algorithm::HmacSha512 => Hasher::Sha512(Hmac::new_from_slice(secret).ok()?),
        })
    }

    fn update(&mut self, data: &[u8]) {
        each_hasher!(self, h => h.update(data))
    }

    fn finish(self) -> Vec<u8> {
        each_hasher!(self, h => h.finalize().into_bytes().to_vec())
    }
}

/// A TSIG key: name, algorithm and shared secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Key {
    /// The key name (the TSIG record's owner).
    pub name: Name,
    /// The algorithm.
    pub algorithm: Algorithm,
    /// Bytes of MAC sent (dig's `hmac-sha256-128` form gives 16); the full
    /// length otherwise.
    pub mac_len: usize,
    secret: Vec<u8>,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("name", &self.name)
            .field("algorithm", &self.algorithm)
            .field("mac_len", &self.mac_len)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Why a key could not be read. No variant holds the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// `-y` text not of the form `[alg:]name:secret`.
    #[error("expected [algorithm:]name:secret")]
    Form,
    /// An unknown algorithm name.
    #[error("unknown TSIG algorithm {0:?}")]
    Algorithm(String),
    /// A truncation (`hmac-sha256-N`) that is not a whole number of bytes
    /// between the algorithm's minimum and its full length.
    #[error("invalid MAC length {bits} bits for {alg} (allowed: {min}..{max}, a multiple of 8)")]
    Truncation {
        /// The requested bits.
        bits: String,
        /// The algorithm mnemonic.
        alg: &'static str,
        /// Fewest bits allowed.
        min: usize,
        /// Most bits allowed.
        max: usize,
    },
    /// The key name is not a domain name (the name, quoted, and why).
    #[error("invalid key name {0}")]
    Name(String),
    /// The secret is not base64 (the secret itself is not repeated).
    #[error("the secret is not valid base64")]
    Secret,
    /// A key file with no key in it, or a key missing a field.
    #[error("{0}")]
    File(String),
}

impl Key {
    /// A key from its parts.
    pub fn new(name: Name, algorithm: Algorithm, secret: Vec<u8>) -> Key {
        Key {
            name,
            algorithm,
            mac_len: algorithm.mac_len(),
            secret,
        }
    }

    /// Parses dig's and kdig's `-y [alg:]name:secret` (algorithm
    /// hmac-sha256 when left out; dig's `alg-BITS` truncation accepted).
    pub fn from_arg(text: &str) -> Result<Key, KeyError> {
        let parts: Vec<&str> = text.trim().split(':').collect();
        let (alg, name, secret) = match parts.as_slice() {
            [name, secret] => (None, *name, *secret),
            [alg, name, secret] => (Some(*alg), *name, *secret),
            _ => return Err(KeyError::Form),
        };
        if name.is_empty() || secret.is_empty() {
            return Err(KeyError::Form);
        }
        Key::from_parts(alg, name, secret)
    }

    /// Builds a key from its three text fields.
    fn from_parts(alg: Option<&str>, name: &str, secret: &str) -> Result<Key, KeyError> {
        let (algorithm, mac_len) = match alg {
            None => (Algorithm::HmacSha256, Algorithm::HmacSha256.mac_len()),
            Some(a) => parse_algorithm(a)?,
        };
        let name = Name::from_text(name).map_err(|e| {
            // The name may come from a key file: escaped.
            KeyError::Name(format!(
                "\"{}\": {e}",
                crate::render::escaped(name.as_bytes())
            ))
        })?;
        let secret = decode_secret(secret)?;
        Ok(Key {
            name,
            algorithm,
            mac_len,
            secret,
        })
    }

    /// Parses a key file: BIND's `key "name" { algorithm A; secret "S"; };`
    /// (tsig-keygen, ddns-confgen; the first key statement is used), Knot's
    /// YAML `key:` section (keymgr -t; the first key), or kdig's one-line
    /// `[alg:]name:secret`.
    pub fn from_file_text(text: &str) -> Result<Key, KeyError> {
        let body = strip_hash_comments(text);
        let trimmed = body.trim();
        if trimmed.is_empty() {
            return Err(KeyError::File("no key in the file".into()));
        }
        if body.lines().any(|l| l.trim_end() == "key:") {
            return parse_knot_yaml(&body);
        }
        let tokens = bind_tokens(text)?;
        if matches!(tokens.first(), Some(Token::Word(w)) if w == "key") {
            return parse_bind_conf(&tokens);
        }
        if !trimmed.contains(char::is_whitespace) {
            return Key::from_arg(trimmed);
        }
        Err(KeyError::File(
            "not a BIND key statement, a Knot key: section or [algorithm:]name:secret".into(),
        ))
    }

    /// The secret (for the caller's own HMAC tests).
    pub fn secret(&self) -> &[u8] {
        &self.secret
    }

    fn hasher(&self) -> Result<Hasher, VerifyError> {
        Hasher::new(self.algorithm, &self.secret).ok_or(VerifyError::BadKey)
    }
}

fn parse_algorithm(text: &str) -> Result<(Algorithm, usize), KeyError> {
    if let Some(a) = Algorithm::from_text(text) {
        return Ok((a, a.mac_len()));
    }
    if let Some((base, bits)) = text.rsplit_once('-') {
        if let Some(a) = Algorithm::from_text(base) {
            let min = a.min_mac_len() * 8;
            let max = a.mac_len() * 8;
            return match bits.parse::<usize>() {
                Ok(b) if b % 8 == 0 && (min..=max).contains(&b) => Ok((a, b / 8)),
                _ => Err(KeyError::Truncation {
                    bits: bits.chars().take(12).collect(),
                    alg: a.mnemonic(),
                    min,
                    max,
                }),
            };
        }
    }
    Err(KeyError::Algorithm(text.chars().take(40).collect()))
}

fn decode_secret(text: &str) -> Result<Vec<u8>, KeyError> {
    use base64::Engine as _;
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| KeyError::Secret)
}

/// Drops `#` comments to the end of the line (outside double quotes).
fn strip_hash_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut quoted = false;
        let mut end = line.len();
        for (i, c) in line.char_indices() {
            match c {
                '"' => quoted = !quoted,
                '#' if !quoted => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        out.push_str(&line[..end]);
        out.push('\n');
    }
    out
}

/// Knot's YAML key list: the first `- id:` item under `key:`.
fn parse_knot_yaml(text: &str) -> Result<Key, KeyError> {
    let mut in_keys = false;
    let (mut id, mut alg, mut secret) = (None::<String>, None::<String>, None::<String>);
    let mut items = 0;
    for line in text.lines() {
        if line.trim().is_empty() {
            continue;
        }
        if !line.starts_with(char::is_whitespace) && !line.starts_with('-') {
            if in_keys && items > 0 {
                break;
            }
            in_keys = line.trim_end() == "key:";
            continue;
        }
        if !in_keys {
            continue;
        }
        let mut item = line.trim_start();
        if let Some(rest) = item.strip_prefix('-') {
            items += 1;
            if items > 1 {
                break;
            }
            item = rest.trim_start();
        }
        let Some((field, value)) = item.split_once(':') else {
            continue;
        };
        let value = unquote(value.trim()).to_string();
        match field.trim() {
            "id" => id = Some(value),
            "algorithm" => alg = Some(value),
            "secret" => secret = Some(value),
            _ => {}
        }
    }
    let missing = |f: &str| KeyError::File(format!("the first key of the key: section has no {f}"));
    let id = id.ok_or_else(|| missing("id"))?;
    let alg = alg.ok_or_else(|| missing("algorithm"))?;
    let secret = secret.ok_or_else(|| missing("secret"))?;
    Key::from_parts(Some(&alg), &id, &secret)
}

fn unquote(v: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q).and_then(|s| s.strip_suffix(q)) {
            return inner;
        }
    }
    v
}

/// One token of BIND's configuration syntax.
#[derive(Debug, PartialEq, Eq)]
enum Token {
    Word(String),
    Quoted(String),
    Punct(char),
}

/// Splits BIND configuration text into tokens, dropping `#`, `//` and
/// `/* */` comments.
fn bind_tokens(text: &str) -> Result<Vec<Token>, KeyError> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '#' => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'/') => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut prev = ' ';
                let mut closed = false;
                for n in chars.by_ref() {
                    if prev == '*' && n == '/' {
                        closed = true;
                        break;
                    }
                    prev = n;
                }
                if !closed {
                    return Err(KeyError::File("unterminated /* comment".into()));
                }
            }
            '"' => {
                let mut s = String::new();
                let mut closed = false;
                while let Some(n) = chars.next() {
                    match n {
                        '"' => {
                            closed = true;
                            break;
                        }
                        '\\' => {
                            if let Some(e) = chars.next() {
                                s.push(e);
                            }
                        }
                        _ => s.push(n),
                    }
                }
                if !closed {
                    return Err(KeyError::File("unterminated quoted string".into()));
                }
                out.push(Token::Quoted(s));
            }
            '{' | '}' | ';' => out.push(Token::Punct(c)),
            _ => {
                let mut s = String::from(c);
                while let Some(&n) = chars.peek() {
                    if n.is_whitespace() || matches!(n, '{' | '}' | ';' | '"') {
                        break;
                    }
                    s.push(n);
                    chars.next();
                }
                out.push(Token::Word(s));
            }
        }
    }
    Ok(out)
}

/// BIND's `key "name" { algorithm A; secret "S"; };`: the first statement.
fn parse_bind_conf(tokens: &[Token]) -> Result<Key, KeyError> {
    let mut it = tokens.iter();
    let bad = |what: &str| KeyError::File(format!("BIND key statement: {what}"));
    match it.next() {
        Some(Token::Word(w)) if w == "key" => {}
        _ => return Err(bad("expected `key`")),
    }
    let name = match it.next() {
        Some(Token::Word(n) | Token::Quoted(n)) => n.clone(),
        _ => return Err(bad("expected the key name after `key`")),
    };
    if it.next() != Some(&Token::Punct('{')) {
        return Err(bad("expected `{` after the key name"));
    }
    let (mut alg, mut secret) = (None::<String>, None::<String>);
    loop {
        let field = match it.next() {
            Some(Token::Punct('}')) => break,
            Some(Token::Word(f)) => f.to_ascii_lowercase(),
            None => return Err(bad("missing `}`")),
            Some(_) => return Err(bad("expected `algorithm` or `secret`")),
        };
        let value = match it.next() {
            Some(Token::Word(v) | Token::Quoted(v)) => v.clone(),
            _ => return Err(bad("expected a value after a field name")),
        };
        if it.next() != Some(&Token::Punct(';')) {
            return Err(bad("expected `;` after a field"));
        }
        match field.as_str() {
            "algorithm" => alg = Some(value),
            "secret" => secret = Some(value),
            _ => return Err(bad("unknown field (only algorithm and secret)")),
        }
    }
    let alg = alg.ok_or_else(|| bad("no algorithm"))?;
    let secret = secret.ok_or_else(|| bad("no secret"))?;
    Key::from_parts(Some(&alg), &name, &secret)
}

/// Lower-cases a wire name's ASCII letters (the canonical form the MAC
/// covers, RFC 8945 §4.3.3).
fn canonical(name: &Name) -> Vec<u8> {
    name.as_wire().to_ascii_lowercase()
}

/// The fields of a TSIG record (RFC 8945 §4.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TsigRecord {
    /// Owner: the key name.
    pub key_name: Name,
    /// CLASS as sent (must be ANY).
    pub class: u16,
    /// TTL as sent (must be 0).
    pub ttl: u32,
    /// Algorithm name.
    pub algorithm: Name,
    /// Time signed, 48 bits.
    pub time_signed: u64,
    /// Fudge.
    pub fudge: u16,
    /// MAC.
    pub mac: Vec<u8>,
    /// Original ID.
    pub original_id: u16,
    /// Error.
    pub error: u16,
    /// Other data.
    pub other: Vec<u8>,
}

/// Where a message's TSIG record starts, and the record.
struct Located {
    start: usize,
    tsig: TsigRecord,
}

/// Finds the TSIG record. It must be the last record of the additional
/// section (RFC 8945 §5.1); a TSIG anywhere else is an error.
fn locate(bytes: &[u8]) -> Result<Option<Located>, VerifyError> {
    let msg = Message::parse(bytes).map_err(|_| VerifyError::Malformed)?;
    let all: Vec<_> = msg
        .answer
        .iter()
        .chain(&msg.authority)
        .chain(&msg.additional)
        .collect();
    let Some(last) = msg.additional.last() else {
        if all.iter().any(|r| r.rtype == types::TSIG) || msg.error.is_some() {
            return Err(VerifyError::Malformed);
        }
        return Ok(None);
    };
    if last.rtype != types::TSIG {
        if all.iter().any(|r| r.rtype == types::TSIG) {
            return Err(VerifyError::Malformed);
        }
        return Ok(None);
    }
    if msg.error.is_some()
        || msg.trailing != 0
        || all[..all.len() - 1].iter().any(|r| r.rtype == types::TSIG)
    {
        return Err(VerifyError::Malformed);
    }
    // The record starts where the one before it ends, or after the question.
    let start = match all.len().checked_sub(2).and_then(|i| all.get(i)) {
        Some(prev) => prev.rdata.end,
        None => {
            let mut pos = HEADER_LEN;
            for _ in 0..msg.header.qdcount {
                let (_, next) = read_name(bytes, pos).map_err(|_| VerifyError::Malformed)?;
                pos = next + 4;
            }
            pos
        }
    };
    let rd = bytes
        .get(last.rdata.clone())
        .ok_or(VerifyError::Malformed)?;
    let (algorithm, after) =
        read_name(bytes, last.rdata.start).map_err(|_| VerifyError::Malformed)?;
    let mut r = Reader {
        b: rd,
        pos: after
            .checked_sub(last.rdata.start)
            .ok_or(VerifyError::Malformed)?,
    };
    let hi = u64::from(r.u16()?);
    let lo = u64::from(r.u32()?);
    let fudge = r.u16()?;
    let mac_len = usize::from(r.u16()?);
    let mac = r.take(mac_len)?.to_vec();
    let original_id = r.u16()?;
    let error = r.u16()?;
    let other_len = usize::from(r.u16()?);
    let other = r.take(other_len)?.to_vec();
    if r.pos != rd.len() {
        return Err(VerifyError::Malformed);
    }
    Ok(Some(Located {
        start,
        tsig: TsigRecord {
            key_name: last.name.clone(),
            class: last.class,
            ttl: last.ttl,
            algorithm,
            time_signed: (hi << 32) | lo,
            fudge,
            mac,
            original_id,
            error,
            other,
        },
    }))
}

/// `bytes` as they were before signing: the TSIG record (the last one)
/// removed, ARCOUNT one less, the original ID back (RFC 8945 §5.1). None
/// when the message has no TSIG record or does not parse.
pub fn unsigned(bytes: &[u8]) -> Option<Vec<u8>> {
    let l = locate(bytes).ok()??;
    unsigned_form(bytes, l.start, l.tsig.original_id)
}

/// Reads the TSIG record of a message, if it has one as its last record.
pub fn find_tsig(bytes: &[u8]) -> Result<Option<TsigRecord>, VerifyError> {
    Ok(locate(bytes)?.map(|l| l.tsig))
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], VerifyError> {
        let s = self
            .b
            .get(self.pos..self.pos + n)
            .ok_or(VerifyError::Malformed)?;
        self.pos += n;
        Ok(s)
    }
    fn u16(&mut self) -> Result<u16, VerifyError> {
        let s = self.take(2)?;
        Ok(u16::from_be_bytes([s[0], s[1]]))
    }
    fn u32(&mut self) -> Result<u32, VerifyError> {
        let s = self.take(4)?;
        Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }
}

fn time48(t: u64) -> [u8; 6] {
    let b = t.to_be_bytes();
    [b[2], b[3], b[4], b[5], b[6], b[7]]
}

/// The message as it was before signing: TSIG removed, ARCOUNT one less,
/// the original ID back (RFC 8945 §4.3.2, §5.3). `None` if too short.
fn unsigned_form(bytes: &[u8], start: usize, original_id: u16) -> Option<Vec<u8>> {
    let mut m = bytes.get(..start)?.to_vec();
    if m.len() < HEADER_LEN {
        return None;
    }
    let ar = u16::from_be_bytes([m[10], m[11]]).checked_sub(1)?;
    m[0..2].copy_from_slice(&original_id.to_be_bytes());
    m[10..12].copy_from_slice(&ar.to_be_bytes());
    Some(m)
}

/// Hashes the TSIG variables of §4.3.3 (all of them, or only the timers).
fn hash_variables(h: &mut Hasher, t: &TsigRecord, timers_only: bool) {
    if !timers_only {
        h.update(&canonical(&t.key_name));
        h.update(&t.class.to_be_bytes());
        h.update(&t.ttl.to_be_bytes());
        h.update(&canonical(&t.algorithm));
    }
    h.update(&time48(t.time_signed));
    h.update(&t.fudge.to_be_bytes());
    if !timers_only {
        h.update(&t.error.to_be_bytes());
        h.update(&(t.other.len() as u16).to_be_bytes());
        h.update(&t.other);
    }
}

fn encode_rr(t: &TsigRecord) -> Vec<u8> {
    let mut rdata = t.algorithm.as_wire().to_vec();
    rdata.extend_from_slice(&time48(t.time_signed));
    rdata.extend_from_slice(&t.fudge.to_be_bytes());
    rdata.extend_from_slice(&(t.mac.len() as u16).to_be_bytes());
    rdata.extend_from_slice(&t.mac);
    rdata.extend_from_slice(&t.original_id.to_be_bytes());
    rdata.extend_from_slice(&t.error.to_be_bytes());
    rdata.extend_from_slice(&(t.other.len() as u16).to_be_bytes());
    rdata.extend_from_slice(&t.other);
    let mut rr = t.key_name.as_wire().to_vec();
    rr.extend_from_slice(&types::TSIG.to_be_bytes());
    rr.extend_from_slice(&t.class.to_be_bytes());
    rr.extend_from_slice(&t.ttl.to_be_bytes());
    rr.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    rr.extend_from_slice(&rdata);
    rr
}

/// Why a message could not be signed or did not verify. `dig_text` gives
/// the words dig prints after `;; Couldn't verify signature: `.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The message is not a DNS message, or its TSIG is malformed or not the
    /// last record.
    #[error("malformed TSIG record")]
    Malformed,
    /// The query was signed and the response (or the first message of a
    /// transfer) is not.
    #[error("expected a TSIG record")]
    Missing,
    /// The response is signed with another key or algorithm.
    #[error("response signed with another key or algorithm")]
    WrongKey,
    /// The response carries a TSIG error (BADSIG, BADKEY, BADTIME...).
    #[error("server reported TSIG error {}", tsig_error_text(*.0))]
    ErrorSet(u16),
    /// The MAC does not match.
    #[error("MAC does not match")]
    BadSig,
    /// The MAC is shorter than RFC 8945 §5.2.2.1 or the key allows, or
    /// longer than the algorithm's.
    #[error("MAC truncated to {0} bytes")]
    BadTrunc(usize),
    /// Time signed is outside the fudge window.
    #[error("time signed {signed} is {skew} s away from now (fudge {fudge})")]
    BadTime {
        /// Time signed.
        signed: u64,
        /// Seconds between it and now.
        skew: u64,
        /// The fudge allowed.
        fudge: u16,
    },
    /// More than 99 messages of a transfer in a row were unsigned.
    #[error("more than {MAX_UNSIGNED_RUN} unsigned messages in a row")]
    TooManyUnsigned,
    /// The transfer ended on an unsigned message.
    #[error("last message of the transfer is not signed")]
    UnsignedEnd,
    /// The key could not be used.
    #[error("unusable key")]
    BadKey,
}

impl VerifyError {
    /// BIND's result text for the failure, as dig shows it.
    pub fn dig_text(&self) -> &'static str {
        match self {
            VerifyError::ErrorSet(_) => "tsig indicates error",
            VerifyError::Missing | VerifyError::TooManyUnsigned | VerifyError::UnsignedEnd => {
                "expected a TSIG or SIG(0)"
            }
            VerifyError::BadTime { .. } => "clocks are unsynchronized",
            VerifyError::Malformed => "TSIG in wrong location",
            _ => "tsig verify failure",
        }
    }
}

/// The TSIG error mnemonic (BIND's `dns_tsigrcode_totext`).
pub fn tsig_error_text(e: u16) -> String {
    match e {
        0 => "NOERROR".into(),
        16 => "BADSIG".into(),
        17 => "BADKEY".into(),
        18 => "BADTIME".into(),
        19 => "BADMODE".into(),
        20 => "BADNAME".into(),
        21 => "BADALG".into(),
        22 => "BADTRUNC".into(),
        _ => e.to_string(),
    }
}

/// Signs a query in place: appends the TSIG record and bumps ARCOUNT
/// (RFC 8945 §4.3.3, §5.1). Returns the MAC, which the response's digest
/// starts with.
pub fn sign_query(
    msg: &mut Vec<u8>,
    key: &Key,
    time_signed: u64,
    fudge: u16,
) -> Result<Vec<u8>, VerifyError> {
    let h = key.hasher()?;
    sign_with(msg, key, time_signed, fudge, h)
}

/// Finishes the digest `h` (which may already hold a request MAC) over
/// the message and the TSIG variables, and appends the TSIG record.
fn sign_with(
    msg: &mut Vec<u8>,
    key: &Key,
    time_signed: u64,
    fudge: u16,
    mut h: Hasher,
) -> Result<Vec<u8>, VerifyError> {
    if msg.len() < HEADER_LEN {
        return Err(VerifyError::Malformed);
    }
    let ar = u16::from_be_bytes([msg[10], msg[11]])
        .checked_add(1)
        .ok_or(VerifyError::Malformed)?;
    let mut t = TsigRecord {
        key_name: key.name.clone(),
        class: types::CLASS_ANY,
        ttl: 0,
        algorithm: key.algorithm.wire_name(),
        time_signed: time_signed & 0xffff_ffff_ffff,
        fudge,
        mac: Vec::new(),
        original_id: u16::from_be_bytes([msg[0], msg[1]]),
        error: 0,
        other: Vec::new(),
    };
    h.update(msg);
    hash_variables(&mut h, &t, false);
    let mut mac = h.finish();
    mac.truncate(key.mac_len);
    t.mac = mac.clone();
    msg.extend_from_slice(&encode_rr(&t));
    msg[10..12].copy_from_slice(&ar.to_be_bytes());
    Ok(mac)
}

/// Signs a response in place as a server signs the first (or only)
/// answer to a query whose MAC was `query_mac` (RFC 8945 §4.3.2): for test
/// responders, and the reference the verifier is checked against.
pub fn sign_response(
    msg: &mut Vec<u8>,
    key: &Key,
    query_mac: &[u8],
    time_signed: u64,
    fudge: u16,
) -> Result<Vec<u8>, VerifyError> {
    let mut h = key.hasher()?;
    h.update(&(query_mac.len() as u16).to_be_bytes());
    h.update(query_mac);
    // The rest is the query's digest: message, then every TSIG variable.
    sign_with(msg, key, time_signed, fudge, h)
}

/// What [`Verifier::check`] found in one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Checked {
    /// Signed, and the MAC verified.
    Verified(Box<TsigRecord>),
    /// Not signed; allowed in the middle of a transfer (its bytes are
    /// covered by the next signed message's MAC).
    Unsigned,
}

/// Verifies the responses to one signed query: a single response, or every
/// message of a zone transfer (RFC 8945 §5.3, §5.3.1).
pub struct Verifier {
    key: Key,
    /// The MAC the next digest starts with: the query's, then the last
    /// verified message's.
    prior_mac: Vec<u8>,
    /// The running digest over the unsigned messages since the last signed
    /// one, if any.
    pending: Option<Hasher>,
    /// Unsigned messages since the last signed one.
    unsigned_run: u32,
    /// Signed messages verified so far.
    verified: u64,
}

impl Verifier {
    /// A verifier for the answers to a query signed with `key` whose MAC
    /// was `query_mac`.
    pub fn new(key: Key, query_mac: Vec<u8>) -> Verifier {
        Verifier {
            key,
            prior_mac: query_mac,
            pending: None,
            unsigned_run: 0,
            verified: 0,
        }
    }

    /// Checks the next message at time `now`. The first message must be
    /// signed; later ones may go unsigned up to [`MAX_UNSIGNED_RUN`] in a
    /// row. After an error the verifier should not be fed further.
    pub fn check(&mut self, bytes: &[u8], now: u64) -> Result<Checked, VerifyError> {
        let located = locate(bytes)?;
        let Some(Located { start, tsig }) = located else {
            if self.verified == 0 {
                return Err(VerifyError::Missing);
            }
            self.unsigned_run += 1;
            if self.unsigned_run > MAX_UNSIGNED_RUN {
                return Err(VerifyError::TooManyUnsigned);
            }
            let h = match self.pending.as_mut() {
                Some(h) => h,
                None => self.pending.insert(self.start_digest()?),
            };
            h.update(bytes);
            return Ok(Checked::Unsigned);
        };
        if !tsig.key_name.eq_ignore_case(&self.key.name)
            || Algorithm::from_wire_name(&tsig.algorithm) != Some(self.key.algorithm)
        {
            return Err(VerifyError::WrongKey);
        }
        if tsig.error != 0 {
            return Err(VerifyError::ErrorSet(tsig.error));
        }
        let full = self.key.algorithm.mac_len();
        let len = tsig.mac.len();
        if len > full || len < self.key.algorithm.min_mac_len() || len < self.key.mac_len.min(full)
        {
            return Err(VerifyError::BadTrunc(len));
        }
        let unsigned =
            unsigned_form(bytes, start, tsig.original_id).ok_or(VerifyError::Malformed)?;
        let subsequent = self.verified > 0;
        let mut h = match self.pending.take() {
            Some(h) => h,
            None => self.start_digest()?,
        };
        h.update(&unsigned);
        hash_variables(&mut h, &tsig, subsequent);
        let mac = h.finish();
        let ok: bool = mac
            .get(..len)
            .is_some_and(|m| bool::from(m.ct_eq(&tsig.mac)));
        if !ok {
            return Err(VerifyError::BadSig);
        }
        let skew = now.abs_diff(tsig.time_signed);
        if skew > u64::from(tsig.fudge) {
            return Err(VerifyError::BadTime {
                signed: tsig.time_signed,
                skew,
                fudge: tsig.fudge,
            });
        }
        self.prior_mac = tsig.mac.clone();
        self.unsigned_run = 0;
        self.verified += 1;
        Ok(Checked::Verified(Box::new(tsig)))
    }

    /// Checks that the stream ended on a signed message (RFC 8945 §5.3.1).
    pub fn finish(&self) -> Result<(), VerifyError> {
        if self.verified == 0 {
            Err(VerifyError::Missing)
        } else if self.unsigned_run > 0 {
            Err(VerifyError::UnsignedEnd)
        } else {
            Ok(())
        }
    }

    /// A digest that starts with the prior MAC, length first (§4.3.2).
    fn start_digest(&self) -> Result<Hasher, VerifyError> {
        let mut h = self.key.hasher()?;
        h.update(&(self.prior_mac.len() as u16).to_be_bytes());
        h.update(&self.prior_mac);
        Ok(h)
    }
}

/// dig's line for a message whose signature did not verify.
pub fn couldnt_verify_line(err: &VerifyError) -> String {
    format!(";; Couldn't verify signature: {}", err.dig_text())
}

/// dig's closing warning when some message did not verify.
pub const NOT_VALIDATED_LINE: &str = ";; WARNING -- Some TSIG could not be validated";

/// What the lookup driver keeps for one signed exchange: it feeds every
/// answer message in, and shows the lines it gets back as diagnostics
/// (stderr), as dig shows them. After the first failure the rest of a
/// transfer is not checked again (its MAC chain is broken, and dig's
/// line for every later message would say nothing new).
pub struct Checker {
    verifier: Verifier,
    failed: bool,
}

impl Checker {
    /// Signs `query` in place with `key` at time `now` (seconds since the
    /// epoch) and returns the checker for its answers.
    pub fn sign(query: &mut Vec<u8>, key: &Key, now: u64) -> Result<Checker, VerifyError> {
        let mac = sign_query(query, key, now, DEFAULT_FUDGE)?;
        Ok(Checker::new(key.clone(), mac))
    }

    /// A checker for the answers to a query signed with `key` whose MAC was
    /// `query_mac` (one per exchange: a retry starts afresh).
    pub fn new(key: Key, query_mac: Vec<u8>) -> Checker {
        Checker {
            verifier: Verifier::new(key, query_mac),
            failed: false,
        }
    }

    /// Checks one answer message at time `now`; returns dig's line when it
    /// does not verify.
    pub fn message(&mut self, bytes: &[u8], now: u64) -> Option<String> {
        if self.failed {
            return None;
        }
        match self.verifier.check(bytes, now) {
            Ok(_) => None,
            Err(e) => {
                self.failed = true;
                Some(couldnt_verify_line(&e))
            }
        }
    }

    /// After the last message: the lines still to show (an unsigned last
    /// message, then dig's closing warning if anything failed).
    pub fn end(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        if !self.failed {
            if let Err(e) = self.verifier.finish() {
                self.failed = true;
                lines.push(couldnt_verify_line(&e));
            }
        }
        if self.failed {
            lines.push(NOT_VALIDATED_LINE.to_owned());
        }
        lines
    }

    /// True when some message did not verify.
    pub fn failed(&self) -> bool {
        self.failed
    }
}

#[cfg(test)]
mod tests;
