//! The PROXY protocol version 2 header (HAProxy's proxy-protocol.txt,
//! §2.2) that `+proxy` and `+proxy-plain` put in front of queries, as
//! BIND 9.20's dig does: [`Proxy`] says what to send, [`encode`] builds
//! the bytes, [`parse`] reads them back (tests, in-process servers). Pure:
//! no I/O. Also [`Prefixed`], the transport adapter that puts the header
//! in front of every UDP datagram; stream transports send it once, when
//! the connection opens (see `conn.rs`).
//!
//! Layout: the 12-byte signature, one byte of version (2) and command
//! (0 LOCAL, 1 PROXY), one byte of address family (1 INET, 2 INET6) and
//! transport (1 STREAM, 2 DGRAM), a 16-bit length of what follows, then for
//! PROXY the source address, the destination address, the source port and
//! the destination port, all in network byte order. A LOCAL header has
//! family and transport 0 and no addresses: the server uses the real ones.

use std::net::{IpAddr, SocketAddr};

use bytes::Bytes;
use tokio::time::Instant;

use super::error::{Mismatch, QueryError};
use super::DnsTransport;
use crate::tap::event::Protocol;

/// The v2 signature.
pub const SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";

/// The fixed part: signature, version/command, family/transport, length.
const FIXED: usize = 16;

/// The source and destination a PROXY command reports, of one family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProxyAddrs {
    source: SocketAddr,
    destination: SocketAddr,
}

impl ProxyAddrs {
    /// The addresses a PROXY header reports; both of one family (the
    /// header has room for one).
    pub fn new(source: SocketAddr, destination: SocketAddr) -> Result<ProxyAddrs, String> {
        if source.is_ipv4() != destination.is_ipv4() {
            return Err(format!(
                "source {source} and destination {destination} are of different address families"
            ));
        }
        Ok(ProxyAddrs {
            source,
            destination,
        })
    }

    /// The addresses a PROXY header reports, of whatever families: when
    /// one is IPv4 and the other IPv6, the IPv4 one is written
    /// IPv4-mapped (`::ffff:a.b.c.d`) in an AF_INET6 header, as HAProxy
    /// does (the header has room for one family). `--replay` needs this:
    /// a recorded client's family need not be the target server's.
    pub fn mapped(source: SocketAddr, destination: SocketAddr) -> ProxyAddrs {
        let map = |a: SocketAddr| SocketAddr::new(IpAddr::V6(v6(a.ip())), a.port());
        if source.is_ipv4() == destination.is_ipv4() {
            ProxyAddrs {
                source,
                destination,
            }
        } else {
            ProxyAddrs {
                source: map(source),
                destination: map(destination),
            }
        }
    }

    /// The original client's address and port.
    pub fn source(&self) -> SocketAddr {
        self.source
    }

    /// The address and port the original client sent to.
    pub fn destination(&self) -> SocketAddr {
        self.destination
    }
}

/// `+proxy` / `+proxy-plain`: a PROXY v2 header before the queries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Proxy {
    /// PROXY with these addresses; None sends the LOCAL command (the
    /// server then uses the connection's own addresses).
    pub addrs: Option<ProxyAddrs>,
    /// `+proxy-plain`: over TLS (DoT, DoH), send the header before the
    /// handshake instead of as the first bytes inside the encrypted
    /// channel. No difference over UDP and TCP.
    pub plain: bool,
}

impl Proxy {
    /// The header for one connection (`Stream`) or datagram (`Datagram`).
    pub fn header(&self, carrier: Carrier) -> Vec<u8> {
        encode(self.addrs.as_ref(), carrier)
    }
}

/// What the header says the proxied traffic ran over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Carrier {
    /// TCP (and TLS over it): the header opens the connection.
    Stream,
    /// UDP: the header opens every datagram.
    Datagram,
}

/// The header bytes: PROXY with `addrs`, or LOCAL for None.
pub fn encode(addrs: Option<&ProxyAddrs>, carrier: Carrier) -> Vec<u8> {
    let mut out = Vec::with_capacity(FIXED + 36);
    out.extend_from_slice(&SIGNATURE);
    let Some(a) = addrs else {
        // Version 2, LOCAL; AF_UNSPEC, UNSPEC; no address block.
        out.extend_from_slice(&[0x20, 0x00, 0x00, 0x00]);
        return out;
    };
    let transport = match carrier {
        Carrier::Stream => 0x1,
        Carrier::Datagram => 0x2,
    };
    out.push(0x21);
    match (a.source.ip(), a.destination.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            out.push(0x10 | transport);
            out.extend_from_slice(&12u16.to_be_bytes());
            out.extend_from_slice(&s.octets());
            out.extend_from_slice(&d.octets());
        }
        (s, d) => {
            // ProxyAddrs keeps one family (`mapped` maps an IPv4 one
            // into IPv6); were they ever mixed, the IPv4 one is written
            // IPv4-mapped here too.
            out.push(0x20 | transport);
            out.extend_from_slice(&36u16.to_be_bytes());
            out.extend_from_slice(&v6(s).octets());
            out.extend_from_slice(&v6(d).octets());
        }
    }
    out.extend_from_slice(&a.source.port().to_be_bytes());
    out.extend_from_slice(&a.destination.port().to_be_bytes());
    out
}

fn v6(ip: IpAddr) -> std::net::Ipv6Addr {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}

/// A header read back by [`parse`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    /// PROXY's addresses, None for LOCAL.
    pub addrs: Option<ProxyAddrs>,
    /// What the header says the traffic ran over (None: unspecified).
    pub carrier: Option<Carrier>,
    /// The header's length: the payload starts here.
    pub len: usize,
}

/// Why bytes are not a PROXY v2 header.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProxyError {
    /// The first 12 bytes are not the v2 signature.
    #[error("no PROXY v2 signature")]
    Signature,
    /// Another version, or a command other than LOCAL and PROXY.
    #[error("version/command byte {0:#04x} is not v2 LOCAL or PROXY")]
    Command(u8),
    /// A family/transport byte this parser does not read.
    #[error("family/transport byte {0:#04x} is not TCP or UDP over IPv4 or IPv6")]
    Family(u8),
    /// The length is too short for the family's addresses.
    #[error("address block of {len} bytes, {need} needed")]
    Short {
        /// What the header says.
        len: usize,
        /// What the family needs.
        need: usize,
    },
}

/// Reads a PROXY v2 header at the start of `buf`. Ok(None): not all of it
/// is there yet. TLVs after the addresses are skipped.
pub fn parse(buf: &[u8]) -> Result<Option<Parsed>, ProxyError> {
    let Some(sig) = buf.get(..SIGNATURE.len()) else {
        return if SIGNATURE.starts_with(buf) {
            Ok(None)
        } else {
            Err(ProxyError::Signature)
        };
    };
    if sig != SIGNATURE {
        return Err(ProxyError::Signature);
    }
    let Some(&[ver_cmd, fam, hi, lo]) = buf.get(12..FIXED) else {
        return Ok(None);
    };
    let len = usize::from(u16::from_be_bytes([hi, lo]));
    let Some(block) = buf.get(FIXED..FIXED + len) else {
        return Ok(None);
    };
    let total = FIXED + len;
    match ver_cmd {
        0x20 => {
            return Ok(Some(Parsed {
                addrs: None,
                carrier: None,
                len: total,
            }))
        }
        0x21 => {}
        other => return Err(ProxyError::Command(other)),
    }
    let carrier = match fam & 0x0f {
        0x1 => Carrier::Stream,
        0x2 => Carrier::Datagram,
        _ => return Err(ProxyError::Family(fam)),
    };
    let ip_len = match fam >> 4 {
        0x1 => 4,
        0x2 => 16,
        _ => return Err(ProxyError::Family(fam)),
    };
    let need = 2 * ip_len + 4;
    let short = || ProxyError::Short { len, need };
    let ip = |at: usize| -> Option<IpAddr> {
        let b = block.get(at..at + ip_len)?;
        Some(match <[u8; 4]>::try_from(b) {
            Ok(v4) => IpAddr::from(v4),
            Err(_) => IpAddr::from(<[u8; 16]>::try_from(b).ok()?),
        })
    };
    let port = |at: usize| -> Option<u16> {
        let b = block.get(at..at + 2)?;
        Some(u16::from_be_bytes([*b.first()?, *b.get(1)?]))
    };
    let src = ip(0).ok_or_else(short)?;
    let dst = ip(ip_len).ok_or_else(short)?;
    let sport = port(2 * ip_len).ok_or_else(short)?;
    let dport = port(2 * ip_len + 2).ok_or_else(short)?;
    Ok(Some(Parsed {
        addrs: Some(ProxyAddrs {
            source: SocketAddr::new(src, sport),
            destination: SocketAddr::new(dst, dport),
        }),
        carrier: Some(carrier),
        len: total,
    }))
}

/// A datagram transport whose every query goes out behind `prefix` (the
/// header). Receiving is the inner transport's: servers answer without
/// one. The records still hold the DNS message alone.
pub(crate) struct Prefixed<'a, T> {
    inner: &'a mut T,
    prefix: &'a [u8],
}

impl<'a, T> Prefixed<'a, T> {
    /// `inner`, sending `prefix` before each query.
    pub(crate) fn new(inner: &'a mut T, prefix: &'a [u8]) -> Self {
        Prefixed { inner, prefix }
    }
}

impl<T: DnsTransport> DnsTransport for Prefixed<'_, T> {
    fn protocol(&self) -> Protocol {
        self.inner.protocol()
    }

    fn http_protocol(&self) -> Option<i32> {
        self.inner.http_protocol()
    }

    fn local(&self) -> SocketAddr {
        self.inner.local()
    }

    fn continues(&self) -> bool {
        self.inner.continues()
    }

    async fn send(&mut self, query: &Bytes, deadline: Instant) -> Result<(), QueryError> {
        let mut datagram = Vec::with_capacity(self.prefix.len() + query.len());
        datagram.extend_from_slice(self.prefix);
        datagram.extend_from_slice(query);
        self.inner.send(&Bytes::from(datagram), deadline).await
    }

    async fn recv(
        &mut self,
        deadline: Instant,
        check: &mut dyn FnMut(&[u8]) -> Result<(), Mismatch>,
        skipped: &mut dyn FnMut(Mismatch),
    ) -> Result<Vec<u8>, QueryError> {
        self.inner.recv(deadline, check, skipped).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(s: &str, d: &str) -> ProxyAddrs {
        ProxyAddrs::new(s.parse().unwrap(), d.parse().unwrap()).unwrap()
    }

    #[test]
    fn ipv4_over_tcp_and_udp_byte_for_byte() {
        let a = addrs("192.0.2.1:5353", "127.0.0.1:53");
        let mut want = vec![
            0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54,
            0x0a, // signature
            0x21, // v2, PROXY
            0x11, // AF_INET, STREAM
            0x00, 0x0c, // 12 bytes follow
            192, 0, 2, 1, // source
            127, 0, 0, 1, // destination
            0x14, 0xe9, // 5353
            0x00, 0x35, // 53
        ];
        assert_eq!(encode(Some(&a), Carrier::Stream), want);
        want[13] = 0x12; // AF_INET, DGRAM
        assert_eq!(encode(Some(&a), Carrier::Datagram), want);
    }

    #[test]
    fn ipv6_byte_for_byte() {
        let a = addrs("[2001:db8::1]:0", "[::1]:853");
        let got = encode(Some(&a), Carrier::Stream);
        assert_eq!(got.len(), 16 + 36);
        assert_eq!(got[..12], SIGNATURE);
        assert_eq!(got[12..16], [0x21, 0x21, 0x00, 0x24]);
        let mut src = [0u8; 16];
        src[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        src[15] = 1;
        assert_eq!(got[16..32], src);
        let mut dst = [0u8; 16];
        dst[15] = 1;
        assert_eq!(got[32..48], dst);
        assert_eq!(got[48..], [0, 0, 0x03, 0x55]);
        assert_eq!(encode(Some(&a), Carrier::Datagram)[13], 0x22);
    }

    #[test]
    fn local_has_no_addresses() {
        let got = encode(None, Carrier::Datagram);
        let mut want = SIGNATURE.to_vec();
        want.extend_from_slice(&[0x20, 0x00, 0x00, 0x00]);
        assert_eq!(got, want);
        assert_eq!(got, Proxy::default().header(Carrier::Stream));
    }

    #[test]
    fn mixed_families_are_refused() {
        let e = ProxyAddrs::new("192.0.2.1:1".parse().unwrap(), "[::1]:53".parse().unwrap());
        assert!(e.unwrap_err().contains("different address families"));
    }

    #[test]
    fn mixed_families_are_mapped_into_ipv6_on_request() {
        let a = ProxyAddrs::mapped("192.0.2.1:1".parse().unwrap(), "[::1]:53".parse().unwrap());
        assert_eq!(a.source(), "[::ffff:192.0.2.1]:1".parse().unwrap());
        assert_eq!(a.destination(), "[::1]:53".parse().unwrap());
        let got = encode(Some(&a), Carrier::Datagram);
        assert_eq!(got[12..16], [0x21, 0x22, 0x00, 0x24]);
        assert_eq!(parse(&got).unwrap().unwrap().addrs, Some(a));
        let b = ProxyAddrs::mapped(
            "[2001:db8::6]:9".parse().unwrap(),
            "127.0.0.1:53".parse().unwrap(),
        );
        assert_eq!(b.destination(), "[::ffff:127.0.0.1]:53".parse().unwrap());
        // One family: kept as it is.
        let c = ProxyAddrs::mapped(
            "192.0.2.1:1".parse().unwrap(),
            "127.0.0.1:53".parse().unwrap(),
        );
        assert_eq!(c, addrs("192.0.2.1:1", "127.0.0.1:53"));
    }

    #[test]
    fn parse_reads_back_what_encode_wrote_and_waits_for_the_rest() {
        for a in [
            addrs("192.0.2.1:5353", "127.0.0.1:53"),
            addrs("[2001:db8::1]:9", "[::1]:53"),
        ] {
            for carrier in [Carrier::Stream, Carrier::Datagram] {
                let mut bytes = encode(Some(&a), carrier);
                for cut in 0..bytes.len() {
                    assert_eq!(parse(&bytes[..cut]), Ok(None), "cut at {cut}");
                }
                bytes.extend_from_slice(b"payload");
                let p = parse(&bytes).unwrap().unwrap();
                assert_eq!((p.addrs, p.carrier), (Some(a), Some(carrier)));
                assert_eq!(&bytes[p.len..], b"payload");
            }
        }
        let local = encode(None, Carrier::Stream);
        let p = parse(&local).unwrap().unwrap();
        assert_eq!((p.addrs, p.len), (None, 16));
    }

    #[test]
    fn parse_refuses_junk_without_panicking() {
        assert_eq!(parse(b"GET / HTTP/1.1\r\n"), Err(ProxyError::Signature));
        assert_eq!(parse(b"\r\nX"), Err(ProxyError::Signature));
        let mut bad = SIGNATURE.to_vec();
        bad.extend_from_slice(&[0x31, 0x11, 0, 0]);
        assert_eq!(parse(&bad), Err(ProxyError::Command(0x31)));
        let mut short = SIGNATURE.to_vec();
        short.extend_from_slice(&[0x21, 0x21, 0, 12]);
        short.extend_from_slice(&[0; 12]);
        assert_eq!(parse(&short), Err(ProxyError::Short { len: 12, need: 36 }));
        let mut unix = SIGNATURE.to_vec();
        unix.extend_from_slice(&[0x21, 0x31, 0, 0]);
        assert_eq!(parse(&unix), Err(ProxyError::Family(0x31)));
    }
}
