//! Record type and class numbers and their mnemonics as dig 9.18 prints and
//! parses them (IANA "DNS Parameters" registry, as known to BIND 9.18).
//!
//! Pure lookups: no allocation for known values, no I/O, no RDATA knowledge.

use std::borrow::Cow;

/// RFC 1035 §3.2.2 host address.
pub const A: u16 = 1;
/// RFC 1035 authoritative name server.
pub const NS: u16 = 2;
/// RFC 1035 mail destination (obsolete).
pub const MD: u16 = 3;
/// RFC 1035 mail forwarder (obsolete).
pub const MF: u16 = 4;
/// RFC 1035 canonical name.
pub const CNAME: u16 = 5;
/// RFC 1035 start of authority.
pub const SOA: u16 = 6;
/// RFC 1035 mailbox domain name.
pub const MB: u16 = 7;
/// RFC 1035 mail group member.
pub const MG: u16 = 8;
/// RFC 1035 mail rename domain name.
pub const MR: u16 = 9;
/// RFC 1035 null record.
pub const NULL: u16 = 10;
/// RFC 1035 well known service.
pub const WKS: u16 = 11;
/// RFC 1035 domain name pointer.
pub const PTR: u16 = 12;
/// RFC 1035 host information.
pub const HINFO: u16 = 13;
/// RFC 1035 mailbox information.
pub const MINFO: u16 = 14;
/// RFC 1035 mail exchange.
pub const MX: u16 = 15;
/// RFC 1035 text strings.
pub const TXT: u16 = 16;
/// RFC 1183 responsible person.
pub const RP: u16 = 17;
/// RFC 1183 AFS database.
pub const AFSDB: u16 = 18;
/// RFC 1183 X.25 address.
pub const X25: u16 = 19;
/// RFC 1183 ISDN address.
pub const ISDN: u16 = 20;
/// RFC 1183 route through.
pub const RT: u16 = 21;
/// RFC 1706 NSAP address.
pub const NSAP: u16 = 22;
/// RFC 1706 NSAP pointer (obsolete).
pub const NSAP_PTR: u16 = 23;
/// RFC 2535 signature (obsolete).
pub const SIG: u16 = 24;
/// RFC 2535 key (obsolete for DNSSEC).
pub const KEY: u16 = 25;
/// RFC 2163 X.400 mapping.
pub const PX: u16 = 26;
/// RFC 1712 geographical position.
pub const GPOS: u16 = 27;
/// RFC 3596 IPv6 address.
pub const AAAA: u16 = 28;
/// RFC 1876 location.
pub const LOC: u16 = 29;
/// RFC 2535 next domain (obsolete).
pub const NXT: u16 = 30;
/// Endpoint identifier.
pub const EID: u16 = 31;
/// Nimrod locator.
pub const NIMLOC: u16 = 32;
/// RFC 2782 service location.
pub const SRV: u16 = 33;
/// ATM address.
pub const ATMA: u16 = 34;
/// RFC 3403 naming authority pointer.
pub const NAPTR: u16 = 35;
/// RFC 2230 key exchanger.
pub const KX: u16 = 36;
/// RFC 4398 certificate.
pub const CERT: u16 = 37;
/// Kitchen sink (expired draft).
pub const SINK: u16 = 40;
/// RFC 2874 IPv6 address with prefix indirection (historic).
pub const A6: u16 = 38;
/// RFC 6672 delegation name.
pub const DNAME: u16 = 39;
/// RFC 6891 EDNS pseudo-record.
pub const OPT: u16 = 41;
/// RFC 3123 address prefix list.
pub const APL: u16 = 42;
/// RFC 4034 delegation signer.
pub const DS: u16 = 43;
/// RFC 4255 SSH key fingerprint.
pub const SSHFP: u16 = 44;
/// RFC 4025 IPsec key.
pub const IPSECKEY: u16 = 45;
/// RFC 4034 signature.
pub const RRSIG: u16 = 46;
/// RFC 4034 next secure.
pub const NSEC: u16 = 47;
/// RFC 4034 DNS key.
pub const DNSKEY: u16 = 48;
/// RFC 4701 DHCP identifier.
pub const DHCID: u16 = 49;
/// RFC 5155 hashed next secure.
pub const NSEC3: u16 = 50;
/// RFC 5155 NSEC3 parameters.
pub const NSEC3PARAM: u16 = 51;
/// RFC 6698 TLS association.
pub const TLSA: u16 = 52;
/// RFC 8162 S/MIME association.
pub const SMIMEA: u16 = 53;
/// RFC 8005 host identity protocol.
pub const HIP: u16 = 55;
/// Zone status information.
pub const NINFO: u16 = 56;
/// Resource key.
pub const RKEY: u16 = 57;
/// Trust anchor link.
pub const TALINK: u16 = 58;
/// RFC 7344 child DS.
pub const CDS: u16 = 59;
/// RFC 7344 child DNSKEY.
pub const CDNSKEY: u16 = 60;
/// RFC 7929 OpenPGP key.
pub const OPENPGPKEY: u16 = 61;
/// RFC 7477 child-to-parent synchronisation.
pub const CSYNC: u16 = 62;
/// RFC 8976 zone message digest.
pub const ZONEMD: u16 = 63;
/// RFC 9460 service binding.
pub const SVCB: u16 = 64;
/// RFC 9460 HTTPS service binding.
pub const HTTPS: u16 = 65;
/// RFC 7208 sender policy framework.
pub const SPF: u16 = 99;
/// RFC 6742 node identifier.
pub const NID: u16 = 104;
/// RFC 6742 32-bit locator.
pub const L32: u16 = 105;
/// RFC 6742 64-bit locator.
pub const L64: u16 = 106;
/// RFC 6742 locator pointer.
pub const LP: u16 = 107;
/// RFC 7043 EUI-48 address.
pub const EUI48: u16 = 108;
/// RFC 7043 EUI-64 address.
pub const EUI64: u16 = 109;
/// RFC 2930 transaction key.
pub const TKEY: u16 = 249;
/// RFC 8945 transaction signature.
pub const TSIG: u16 = 250;
/// RFC 1995 incremental zone transfer (query type).
pub const IXFR: u16 = 251;
/// RFC 5936 zone transfer (query type).
pub const AXFR: u16 = 252;
/// RFC 1035 any type (query type).
pub const ANY: u16 = 255;
/// RFC 7553 URI.
pub const URI: u16 = 256;
/// RFC 8659 certification authority authorization.
pub const CAA: u16 = 257;
/// Application visibility and control.
pub const AVC: u16 = 258;
/// Digital object architecture.
pub const DOA: u16 = 259;
/// RFC 8777 automatic multicast tunnelling relay.
pub const AMTRELAY: u16 = 260;
/// RFC 9606 resolver information.
pub const RESINFO: u16 = 261;
/// Public wallet address.
pub const WALLET: u16 = 262;
/// DNSSEC trust authorities.
pub const TA: u16 = 32768;
/// RFC 4431 DNSSEC lookaside validation (historic).
pub const DLV: u16 = 32769;

/// Class IN (RFC 1035 §3.2.4).
pub const CLASS_IN: u16 = 1;
/// Class IN, short name.
pub const IN: u16 = CLASS_IN;
/// Class CHAOS, short name.
pub const CH: u16 = 3;
/// Class Hesiod, short name.
pub const HS: u16 = 4;
/// Class CHAOS.
pub const CLASS_CH: u16 = 3;
/// Class Hesiod.
pub const CLASS_HS: u16 = 4;
/// Class NONE (RFC 2136 §2.4).
pub const CLASS_NONE: u16 = 254;
/// Class ANY (RFC 1035 §3.2.5).
pub const CLASS_ANY: u16 = 255;

/// Every type BIND 9.18 names, sorted by number (binary-searched).
static TYPES: &[(u16, &str)] = &[
    (1, "A"),
    (2, "NS"),
    (3, "MD"),
    (4, "MF"),
    (5, "CNAME"),
    (6, "SOA"),
    (7, "MB"),
    (8, "MG"),
    (9, "MR"),
    (10, "NULL"),
    (11, "WKS"),
    (12, "PTR"),
    (13, "HINFO"),
    (14, "MINFO"),
    (15, "MX"),
    (16, "TXT"),
    (17, "RP"),
    (18, "AFSDB"),
    (19, "X25"),
    (20, "ISDN"),
    (21, "RT"),
    (22, "NSAP"),
    (23, "NSAP-PTR"),
    (24, "SIG"),
    (25, "KEY"),
    (26, "PX"),
    (27, "GPOS"),
    (28, "AAAA"),
    (29, "LOC"),
    (30, "NXT"),
    (31, "EID"),
    (32, "NIMLOC"),
    (33, "SRV"),
    (34, "ATMA"),
    (35, "NAPTR"),
    (36, "KX"),
    (37, "CERT"),
    (38, "A6"),
    (39, "DNAME"),
    (40, "SINK"),
    (41, "OPT"),
    (42, "APL"),
    (43, "DS"),
    (44, "SSHFP"),
    (45, "IPSECKEY"),
    (46, "RRSIG"),
    (47, "NSEC"),
    (48, "DNSKEY"),
    (49, "DHCID"),
    (50, "NSEC3"),
    (51, "NSEC3PARAM"),
    (52, "TLSA"),
    (53, "SMIMEA"),
    (55, "HIP"),
    (56, "NINFO"),
    (57, "RKEY"),
    (58, "TALINK"),
    (59, "CDS"),
    (60, "CDNSKEY"),
    (61, "OPENPGPKEY"),
    (62, "CSYNC"),
    (63, "ZONEMD"),
    (64, "SVCB"),
    (65, "HTTPS"),
    (99, "SPF"),
    (100, "UINFO"),
    (101, "UID"),
    (102, "GID"),
    (103, "UNSPEC"),
    (104, "NID"),
    (105, "L32"),
    (106, "L64"),
    (107, "LP"),
    (108, "EUI48"),
    (109, "EUI64"),
    (249, "TKEY"),
    (250, "TSIG"),
    (251, "IXFR"),
    (252, "AXFR"),
    (253, "MAILB"),
    (254, "MAILA"),
    (255, "ANY"),
    (256, "URI"),
    (257, "CAA"),
    (258, "AVC"),
    (259, "DOA"),
    (260, "AMTRELAY"),
    (261, "RESINFO"),
    (262, "WALLET"),
    (32768, "TA"),
    (32769, "DLV"),
];

/// The mnemonic if BIND 9.18 knows the type, without allocating.
pub fn known_type_name(rtype: u16) -> Option<&'static str> {
    // The types of nearly every record seen, before the table search.
    match rtype {
        1 => return Some("A"),
        2 => return Some("NS"),
        5 => return Some("CNAME"),
        6 => return Some("SOA"),
        15 => return Some("MX"),
        16 => return Some("TXT"),
        28 => return Some("AAAA"),
        _ => {}
    }
    table_type_name(rtype)
}

/// [`known_type_name`] from the table alone.
fn table_type_name(rtype: u16) -> Option<&'static str> {
    TYPES
        .binary_search_by_key(&rtype, |&(n, _)| n)
        .ok()
        .and_then(|i| TYPES.get(i))
        .map(|&(_, s)| s)
}

/// Mnemonic of a record type as dig 9.18 prints it ("A", "AAAA",
/// "TYPE65400" for unknown).
pub fn type_name(rtype: u16) -> Cow<'static, str> {
    match known_type_name(rtype) {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(format!("TYPE{rtype}")),
    }
}

/// Parses `PREFIXnnn` (case-insensitive prefix, decimal 0..=65535).
fn parse_numbered(text: &str, prefix: &str) -> Option<u16> {
    let head = text.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let digits = text.get(prefix.len()..)?;
    if digits.is_empty() || digits.len() > 5 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u16>().ok()
}

/// Parses a type mnemonic (case-insensitive) or TYPEnnn (0..=65535).
/// None if neither.
pub fn parse_type(text: &str) -> Option<u16> {
    TYPES
        .iter()
        .find(|(_, s)| s.eq_ignore_ascii_case(text))
        .map(|&(n, _)| n)
        .or_else(|| parse_numbered(text, "TYPE"))
}

/// Class mnemonic as dig prints it: IN, CH, HS, NONE (254), ANY (255),
/// RESERVED0 (0), else CLASSnnn.
pub fn class_name(class: u16) -> Cow<'static, str> {
    match class {
        0 => Cow::Borrowed("RESERVED0"),
        CLASS_IN => Cow::Borrowed("IN"),
        CLASS_CH => Cow::Borrowed("CH"),
        CLASS_HS => Cow::Borrowed("HS"),
        CLASS_NONE => Cow::Borrowed("NONE"),
        CLASS_ANY => Cow::Borrowed("ANY"),
        n => Cow::Owned(format!("CLASS{n}")),
    }
}

/// Parses IN/CH/CHAOS/HS/HESIOD/NONE/ANY or CLASSnnn, case-insensitive.
pub fn parse_class(text: &str) -> Option<u16> {
    const NAMES: &[(&str, u16)] = &[
        ("IN", CLASS_IN),
        ("CH", CLASS_CH),
        ("CHAOS", CLASS_CH),
        ("HS", CLASS_HS),
        ("HESIOD", CLASS_HS),
        ("NONE", CLASS_NONE),
        ("ANY", CLASS_ANY),
    ];
    NAMES
        .iter()
        .find(|(s, _)| s.eq_ignore_ascii_case(text))
        .map(|&(_, n)| n)
        .or_else(|| parse_numbered(text, "CLASS"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_type_shortcut_agrees_with_the_table() {
        for t in 0..=u16::MAX {
            assert_eq!(known_type_name(t), table_type_name(t), "type {t}");
        }
    }

    #[test]
    fn table_is_sorted_and_unique() {
        assert!(TYPES.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn names_of_known_and_unknown_types() {
        assert_eq!(type_name(A), "A");
        assert_eq!(type_name(AAAA), "AAAA");
        assert_eq!(type_name(23), "NSAP-PTR");
        assert_eq!(type_name(HTTPS), "HTTPS");
        assert_eq!(type_name(DLV), "DLV");
        assert_eq!(type_name(54), "TYPE54");
        assert_eq!(type_name(263), "TYPE263");
        assert_eq!(type_name(65400), "TYPE65400");
        assert_eq!(type_name(0), "TYPE0");
        assert!(matches!(type_name(CAA), Cow::Borrowed(_)));
    }

    #[test]
    fn parse_type_mnemonics_and_numbers() {
        assert_eq!(parse_type("aaaa"), Some(AAAA));
        assert_eq!(parse_type("Https"), Some(HTTPS));
        assert_eq!(parse_type("nsap-ptr"), Some(23));
        assert_eq!(parse_type("TYPE65400"), Some(65400));
        assert_eq!(parse_type("type1"), Some(A));
        assert_eq!(parse_type("TYPE65535"), Some(65535));
        assert_eq!(parse_type("TYPE0"), Some(0));
        assert_eq!(parse_type("TYPE65536"), None);
        assert_eq!(parse_type("TYPE"), None);
        assert_eq!(parse_type("TYPE+1"), None);
        assert_eq!(parse_type("TYPE1x"), None);
        assert_eq!(parse_type("BOGUS"), None);
        assert_eq!(parse_type(""), None);
        for &(n, s) in TYPES {
            assert_eq!(parse_type(s), Some(n));
            assert_eq!(parse_type(&type_name(n)), Some(n));
        }
    }

    #[test]
    fn classes() {
        assert_eq!(class_name(1), "IN");
        assert_eq!(class_name(3), "CH");
        assert_eq!(class_name(4), "HS");
        assert_eq!(class_name(254), "NONE");
        assert_eq!(class_name(255), "ANY");
        assert_eq!(class_name(0), "RESERVED0");
        assert_eq!(class_name(2), "CLASS2");
        assert_eq!(parse_class("chaos"), Some(3));
        assert_eq!(parse_class("Hesiod"), Some(4));
        assert_eq!(parse_class("in"), Some(1));
        assert_eq!(parse_class("CLASS42"), Some(42));
        assert_eq!(parse_class("class65535"), Some(65535));
        assert_eq!(parse_class("CLASS70000"), None);
        assert_eq!(parse_class("IX"), None);
    }
}
