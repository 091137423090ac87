//! Builds query messages (RFC 1035 §4.1, EDNS per RFC 6891) the way dig
//! 9.18 does by default: RD and AD set, EDNS0 with a 1232-byte UDP size and
//! a client COOKIE (RFC 7873).
//!
//! Encoding a query is a handful of fixed fields, so it is done here
//! directly rather than through a general message model: the bytes qtap
//! sends are then exactly the bytes this module documents, whatever the
//! name contains. No I/O; the caller supplies the ID and cookie bytes.

use super::name::Name;
use super::types;

/// EDNS option code for NSID (RFC 5001).
pub const OPT_NSID: u16 = 3;
/// EDNS option code for COOKIE (RFC 7873).
pub const OPT_COOKIE: u16 = 10;

/// What goes into one query message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryParams<'a> {
    /// Message ID.
    pub id: u16,
    /// QNAME.
    pub name: &'a Name,
    /// QTYPE.
    pub qtype: u16,
    /// QCLASS.
    pub qclass: u16,
    /// RD.
    pub rd: bool,
    /// AD.
    pub ad: bool,
    /// CD.
    pub cd: bool,
    /// AA.
    pub aa: bool,
    /// EDNS, when present.
    pub edns: Option<EdnsParams<'a>>,
    /// For IXFR: the serial the client has, sent as a SOA in the
    /// authority section (RFC 1995 §3).
    pub ixfr_serial: Option<u32>,
}

/// The OPT record of a query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EdnsParams<'a> {
    /// EDNS version.
    pub version: u8,
    /// Requestor's UDP payload size.
    pub udp_size: u16,
    /// DO bit.
    pub dnssec_ok: bool,
    /// Ask for NSID.
    pub nsid: bool,
    /// Client cookie (8 bytes, or a full cookie of up to 40 bytes).
    pub cookie: Option<&'a [u8]>,
}

/// Encodes the query.
pub fn encode_query(p: &QueryParams<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + p.name.as_wire().len());
    out.extend_from_slice(&p.id.to_be_bytes());
    let mut flags: u16 = 0;
    if p.aa {
        flags |= 0x0400;
    }
    if p.rd {
        flags |= 0x0100;
    }
    if p.ad {
        flags |= 0x0020;
    }
    if p.cd {
        flags |= 0x0010;
    }
    out.extend_from_slice(&flags.to_be_bytes());
    let arcount: u16 = u16::from(p.edns.is_some());
    let nscount: u16 = u16::from(p.ixfr_serial.is_some());
    for count in [1u16, 0, nscount, arcount] {
        out.extend_from_slice(&count.to_be_bytes());
    }
    out.extend_from_slice(p.name.as_wire());
    out.extend_from_slice(&p.qtype.to_be_bytes());
    out.extend_from_slice(&p.qclass.to_be_bytes());
    if let Some(serial) = p.ixfr_serial {
        // Owner: a pointer to the question name at offset 12; "." for the
        // names, the serial, and zero timers, as dig sends it.
        out.extend_from_slice(&[0xc0, 12]);
        out.extend_from_slice(&types::SOA.to_be_bytes());
        out.extend_from_slice(&p.qclass.to_be_bytes());
        out.extend_from_slice(&0u32.to_be_bytes());
        out.extend_from_slice(&22u16.to_be_bytes());
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&serial.to_be_bytes());
        out.extend_from_slice(&[0; 16]);
    }
    if let Some(e) = &p.edns {
        out.push(0); // root owner
        out.extend_from_slice(&types::OPT.to_be_bytes());
        out.extend_from_slice(&e.udp_size.to_be_bytes());
        let ttl: u32 = (u32::from(e.version) << 16) | if e.dnssec_ok { 0x8000 } else { 0 };
        out.extend_from_slice(&ttl.to_be_bytes());
        let mut rdata = Vec::new();
        if e.nsid {
            rdata.extend_from_slice(&OPT_NSID.to_be_bytes());
            rdata.extend_from_slice(&0u16.to_be_bytes());
        }
        if let Some(cookie) = e.cookie {
            rdata.extend_from_slice(&OPT_COOKIE.to_be_bytes());
            rdata.extend_from_slice(&(cookie.len() as u16).to_be_bytes());
            rdata.extend_from_slice(cookie);
        }
        out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        out.extend_from_slice(&rdata);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::wire::Message;

    #[test]
    fn ixfr_query_carries_the_serial_in_a_soa() {
        let name = Name::from_text("small.test").unwrap();
        let q = encode_query(&QueryParams {
            id: 1,
            name: &name,
            qtype: types::IXFR,
            qclass: types::IN,
            rd: false,
            ad: false,
            cd: false,
            aa: false,
            edns: None,
            ixfr_serial: Some(3),
        });
        let m = Message::parse(&q).unwrap();
        assert!(m.error.is_none());
        assert_eq!(m.authority.len(), 1);
        assert_eq!(m.authority[0].rtype, types::SOA);
        assert_eq!(m.authority[0].name, name);
        assert_eq!(&m.rdata(&m.authority[0])[2..6], &3u32.to_be_bytes());
    }

    #[test]
    fn plain_query_bytes() {
        let name = Name::from_text("a.b").unwrap();
        let q = encode_query(&QueryParams {
            id: 0xbeef,
            name: &name,
            qtype: types::A,
            qclass: types::IN,
            rd: true,
            ad: false,
            cd: false,
            aa: false,
            edns: None,
            ixfr_serial: None,
        });
        assert_eq!(
            q,
            [0xbe, 0xef, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, b'a', 1, b'b', 0, 0, 1, 0, 1]
        );
    }

    #[test]
    fn edns_query_parses_back() {
        let name = Name::from_text("example.com").unwrap();
        let cookie = [1u8, 2, 3, 4, 5, 6, 7, 8];
        let q = encode_query(&QueryParams {
            id: 7,
            name: &name,
            qtype: types::AAAA,
            qclass: types::IN,
            rd: true,
            ad: true,
            cd: true,
            aa: false,
            edns: Some(EdnsParams {
                version: 0,
                udp_size: 1232,
                dnssec_ok: true,
                nsid: true,
                cookie: Some(&cookie),
            }),
            ixfr_serial: None,
        });
        let m = Message::parse(&q).unwrap();
        assert!(m.error.is_none());
        assert!(m.header.rd() && m.header.ad() && m.header.cd() && !m.header.qr());
        assert_eq!(m.question[0].qtype, types::AAAA);
        let opt = m.opt().unwrap();
        assert_eq!(opt.class, 1232);
        assert_eq!(opt.ttl, 0x8000);
        assert_eq!(
            m.rdata(opt),
            [0, 3, 0, 0, 0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8]
        );
    }
}
