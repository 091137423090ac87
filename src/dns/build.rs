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
    /// Set the header's reserved Z bit (`+zflag`).
    pub zflag: bool,
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
    /// Extra EDNS flag bits (`+ednsflags`), OR'ed with DO.
    pub flags: u16,
    /// CLIENT-SUBNET (RFC 7871): address and source prefix length.
    pub subnet: Option<(std::net::IpAddr, u8)>,
    /// Ask for EXPIRE (RFC 7314).
    pub expire: bool,
    /// Ask for TCP KEEPALIVE (RFC 7828).
    pub keepalive: bool,
    /// Further options (`+ednsopt=CODE[:HEX]`), in order.
    pub options: &'a [(u16, Vec<u8>)],
    /// PADDING (RFC 7830): pad the message to a multiple of this many
    /// bytes (RFC 8467 block padding); 0 sends an empty option.
    pub padding: Option<u16>,
}

/// Header settings beyond the usual flags, which dig can also change
/// (`+opcode`, `+raflag`, `+tcflag`, `+header-only`). The default is a
/// plain QUERY with one question.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeaderBits {
    /// OPCODE (RFC 1035 §4.1.1, 4 bits; 0 = QUERY).
    pub opcode: u8,
    /// Set RA in the query (`+raflag`).
    pub ra: bool,
    /// Set TC in the query (`+tcflag`).
    pub tc: bool,
    /// Send no question (`+header-only`). An IXFR query keeps its question,
    /// which its SOA record points to.
    pub header_only: bool,
}

/// EDNS option code for CLIENT-SUBNET (RFC 7871).
pub const OPT_CLIENT_SUBNET: u16 = 8;
/// EDNS option code for EXPIRE (RFC 7314).
pub const OPT_EXPIRE: u16 = 9;
/// EDNS option code for TCP KEEPALIVE (RFC 7828).
pub const OPT_KEEPALIVE: u16 = 11;
/// EDNS option code for PADDING (RFC 7830).
pub const OPT_PADDING: u16 = 12;

fn push_option(rdata: &mut Vec<u8>, code: u16, value: &[u8]) {
    rdata.extend_from_slice(&code.to_be_bytes());
    rdata.extend_from_slice(&(value.len().min(usize::from(u16::MAX)) as u16).to_be_bytes());
    rdata.extend_from_slice(value);
}

/// The CLIENT-SUBNET option value: family, source prefix, scope 0, and the
/// address cut to the prefix (RFC 7871 §6).
pub fn client_subnet(addr: std::net::IpAddr, prefix: u8) -> Vec<u8> {
    let (family, bytes, max): (u16, Vec<u8>, u8) = match addr {
        std::net::IpAddr::V4(a) => (1, a.octets().to_vec(), 32),
        std::net::IpAddr::V6(a) => (2, a.octets().to_vec(), 128),
    };
    let prefix = prefix.min(max);
    let keep = usize::from(prefix).div_ceil(8);
    let mut value = family.to_be_bytes().to_vec();
    value.push(prefix);
    value.push(0);
    let mut addr = bytes[..keep].to_vec();
    if prefix % 8 != 0 {
        if let Some(last) = addr.last_mut() {
            *last &= 0xffu8 << (8 - prefix % 8);
        }
    }
    value.extend_from_slice(&addr);
    value
}

/// Encodes the query.
pub fn encode_query(p: &QueryParams<'_>) -> Vec<u8> {
    encode_query_with(p, &HeaderBits::default())
}

/// Encodes the query with the header settings `h`.
pub fn encode_query_with(p: &QueryParams<'_>, h: &HeaderBits) -> Vec<u8> {
    let with_question = !h.header_only || p.ixfr_serial.is_some();
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
    if p.zflag {
        flags |= 0x0040;
    }
    flags |= u16::from(h.opcode & 0x0f) << 11;
    if h.tc {
        flags |= 0x0200;
    }
    if h.ra {
        flags |= 0x0080;
    }
    out.extend_from_slice(&flags.to_be_bytes());
    let arcount: u16 = u16::from(p.edns.is_some());
    let nscount: u16 = u16::from(p.ixfr_serial.is_some());
    for count in [u16::from(with_question), 0, nscount, arcount] {
        out.extend_from_slice(&count.to_be_bytes());
    }
    if with_question {
        out.extend_from_slice(p.name.as_wire());
        out.extend_from_slice(&p.qtype.to_be_bytes());
        out.extend_from_slice(&p.qclass.to_be_bytes());
    }
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
        let ttl: u32 = (u32::from(e.version) << 16)
            | u32::from(e.flags)
            | if e.dnssec_ok { 0x8000 } else { 0 };
        out.extend_from_slice(&ttl.to_be_bytes());
        // The order dig uses.
        let mut rdata = Vec::new();
        if e.nsid {
            push_option(&mut rdata, OPT_NSID, &[]);
        }
        if let Some((addr, prefix)) = e.subnet {
            push_option(&mut rdata, OPT_CLIENT_SUBNET, &client_subnet(addr, prefix));
        }
        if let Some(cookie) = e.cookie {
            push_option(&mut rdata, OPT_COOKIE, cookie);
        }
        if e.expire {
            push_option(&mut rdata, OPT_EXPIRE, &[]);
        }
        if e.keepalive {
            push_option(&mut rdata, OPT_KEEPALIVE, &[]);
        }
        for (code, value) in e.options {
            push_option(&mut rdata, *code, value);
        }
        if let Some(block) = e.padding {
            // Message so far + RDLENGTH (2) + rdata + PAD header (4).
            let unpadded = out.len() + 2 + rdata.len() + 4;
            let block = usize::from(block);
            let pad = if block == 0 {
                0
            } else {
                (block - unpadded % block) % block
            };
            push_option(&mut rdata, OPT_PADDING, &vec![0; pad]);
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
    fn client_subnet_cuts_the_address_to_the_prefix() {
        assert_eq!(
            client_subnet("192.0.2.77".parse().unwrap(), 24),
            [0, 1, 24, 0, 192, 0, 2]
        );
        assert_eq!(
            client_subnet("192.0.2.255".parse().unwrap(), 28),
            [0, 1, 28, 0, 192, 0, 2, 0xf0]
        );
        assert_eq!(
            client_subnet("2001:db8::1".parse().unwrap(), 0),
            [0, 2, 0, 0]
        );
        assert_eq!(client_subnet("10.0.0.1".parse().unwrap(), 99).len(), 8);
    }

    #[test]
    fn padding_fills_to_the_block_and_options_keep_dig_order() {
        let name = Name::from_text("example.com").unwrap();
        let extra = [(65001u16, vec![0xab, 0xcd])];
        for block in [0u16, 64, 128, 468] {
            let q = encode_query(&QueryParams {
                id: 1,
                name: &name,
                qtype: types::A,
                qclass: types::IN,
                rd: true,
                ad: true,
                cd: false,
                aa: false,
                edns: Some(EdnsParams {
                    version: 0,
                    udp_size: 1232,
                    dnssec_ok: false,
                    nsid: true,
                    cookie: Some(&[1, 2, 3, 4, 5, 6, 7, 8]),
                    flags: 0x10,
                    subnet: Some(("192.0.2.0".parse().unwrap(), 24)),
                    expire: true,
                    keepalive: true,
                    options: &extra,
                    padding: Some(block),
                }),
                ixfr_serial: None,
                zflag: true,
            });
            if block > 0 {
                assert_eq!(q.len() % usize::from(block), 0, "block {block}");
            }
            let m = Message::parse(&q).unwrap();
            assert!(m.error.is_none() && m.header.z());
            let opt = m.opt().unwrap();
            assert_eq!(opt.ttl & 0xffff, 0x10);
            let mut codes = Vec::new();
            let mut data = m.rdata(opt);
            while data.len() >= 4 {
                codes.push(u16::from_be_bytes([data[0], data[1]]));
                let len = usize::from(u16::from_be_bytes([data[2], data[3]]));
                data = &data[4 + len..];
            }
            assert_eq!(codes, [3, 8, 10, 9, 11, 65001, 12]);
        }
    }

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
            zflag: false,
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
            zflag: false,
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
                flags: 0,
                subnet: None,
                expire: false,
                keepalive: false,
                options: &[],
                padding: None,
            }),
            ixfr_serial: None,
            zflag: false,
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

    #[test]
    fn header_bits_set_opcode_ra_tc_and_drop_the_question() {
        let name = Name::from_text("a.b").unwrap();
        let params = QueryParams {
            id: 1,
            name: &name,
            qtype: types::A,
            qclass: types::IN,
            rd: true,
            ad: false,
            cd: false,
            aa: false,
            edns: None,
            ixfr_serial: None,
            zflag: false,
        };
        let bits = HeaderBits {
            opcode: 5,
            ra: true,
            tc: true,
            header_only: true,
        };
        let q = encode_query_with(&params, &bits);
        // UPDATE (5) << 3 | TC | RD in the first flag byte, RA in the second.
        assert_eq!(q, [0, 1, 0x2b, 0x80, 0, 0, 0, 0, 0, 0, 0, 0]);
        let m = Message::parse(&q).unwrap();
        assert!(m.error.is_none() && m.question.is_empty());
        assert_eq!(
            encode_query_with(&params, &HeaderBits::default()),
            encode_query(&params)
        );
    }
}
