//! What to ask and how: one lookup ([`QuerySpec`]) with its protocol
//! settings ([`QueryOpts`]), its transport and TLS settings, and which
//! dnstap message types to record. Owned by the network layer that acts on
//! it; the command line (`cli`) fills it in. Plain data: no parsing, no I/O.

use std::net::IpAddr;
use std::path::PathBuf;

use crate::dns::build::HeaderBits;
use crate::dns::name::Name;
use crate::dns::tsig::Key;

pub use super::proxy::{Proxy, ProxyAddrs};

/// Which dnstap message types live mode records.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TapType {
    /// STUB_QUERY / STUB_RESPONSE.
    #[default]
    Stub,
    /// TOOL_QUERY / TOOL_RESPONSE, as kdig -E writes.
    Tool,
}

/// `+trace` or `+nssearch`: a lookup that chases the delegation from the
/// root ([`super::iterate`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chase {
    /// dig's `+trace`: every step down to the answer.
    Trace,
    /// dig's `+nssearch`: the SOA record from each server of the zone.
    NsSearch,
}

/// `+hints=FILE`: root hints replacing the built-in ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hints {
    /// The file, as given.
    pub path: PathBuf,
    /// Its servers (filled in when the configuration is checked).
    pub servers: Vec<super::delegation::NsServer>,
}

/// Transport of one query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transport {
    /// UDP, falling back to TCP on TC=1.
    Udp,
    /// TCP.
    Tcp,
    /// DNS over TLS (RFC 7858).
    Tls,
    /// DNS over HTTPS (RFC 8484).
    Https {
        /// The URI path (default `/dns-query`).
        path: String,
        /// GET with a `dns=` parameter instead of POST.
        get: bool,
    },
    /// DNS over QUIC (RFC 9250).
    Quic,
}

impl Transport {
    /// The port used when `-p` is not given.
    pub fn default_port(&self) -> u16 {
        match self {
            Transport::Udp | Transport::Tcp => 53,
            Transport::Tls | Transport::Quic => 853,
            Transport::Https { .. } => 443,
        }
    }

    /// True for the transports that run over TLS.
    pub fn is_encrypted(&self) -> bool {
        matches!(
            self,
            Transport::Tls | Transport::Https { .. } | Transport::Quic
        )
    }
}

/// The default DoH path (RFC 8484 §4.1 example, used by dig and kdig).
pub const DEFAULT_DOH_PATH: &str = "/dns-query";

/// TLS settings for DoT, DoH and DoQ.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsOpts {
    /// `+tls-ca`: Some(None) = system roots (the default anyway), Some(Some(file)) = this CA.
    pub ca: Option<Option<PathBuf>>,
    /// `+tls-hostname`: the name the certificate must carry.
    pub hostname: Option<String>,
    /// `+tls-sni`: the name sent in the TLS SNI extension.
    pub sni: Option<String>,
    /// `+tls-pin`: accepted SPKI SHA-256 pins, base64.
    pub pins: Vec<String>,
    /// `+tls-certfile`: client certificate chain (PEM).
    pub certfile: Option<PathBuf>,
    /// `+tls-keyfile`: client private key (PEM).
    pub keyfile: Option<PathBuf>,
    /// `+tls-insecure`: accept any certificate (announced with a warning).
    pub insecure: bool,
    /// `+tlsinfo`: show the negotiated TLS parameters.
    pub info: bool,
}

/// Per-query protocol settings (dig's lookup options).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryOpts {
    /// UDP or TCP.
    pub transport: Transport,
    /// `+notcp`/`+novc` given: UDP even where dig goes to TCP by itself
    /// (a type ANY query).
    pub udp_asked: bool,
    /// RD flag (`+rec`).
    pub rd: bool,
    /// DO bit (`+dnssec`).
    pub dnssec: bool,
    /// CD flag (`+cdflag`).
    pub cd: bool,
    /// AD flag (`+adflag`, on by default like dig 9.18).
    pub ad: bool,
    /// AA flag (`+aaflag`).
    pub aa: bool,
    /// EDNS version, None for `+noedns`.
    pub edns: Option<u8>,
    /// EDNS UDP payload size (`+bufsize`).
    pub bufsize: u16,
    /// Send a client COOKIE (`+cookie`), optionally a given one.
    pub cookie: Option<Option<Vec<u8>>>,
    /// Ask for NSID (`+nsid`).
    pub nsid: bool,
    /// `+subnet=ADDR[/LEN]`: CLIENT-SUBNET.
    pub subnet: Option<(IpAddr, u8)>,
    /// `+expire`.
    pub expire: bool,
    /// `+keepalive`.
    pub keepalive: bool,
    /// `+padding=N`: pad queries to blocks of N bytes.
    pub padding: Option<u16>,
    /// `+ednsopt=CODE[:HEX]`, in order.
    pub ednsopts: Vec<(u16, Vec<u8>)>,
    /// `+ednsflags=N`: extra EDNS flag bits.
    pub ednsflags: u16,
    /// `+zflag`: set the header's Z bit.
    pub zflag: bool,
    /// `+parallel=N`: run up to N lookups of the run at once (output and
    /// trace still in input order).
    pub parallel: u16,
    /// Seconds to wait per try.
    pub timeout: u32,
    /// UDP tries.
    pub tries: u32,
    /// `+ignore`: do not retry over TCP on TC=1.
    pub ignore_tc: bool,
    /// `+keepopen`: reuse one TCP/TLS/HTTPS/QUIC connection for the run.
    pub keepopen: bool,
    /// TLS settings.
    pub tls: TlsOpts,
    /// `+qid=N`: this message ID instead of a random one.
    pub qid: Option<u16>,
    /// `+opcode`, `+raflag`, `+tcflag`, `+header-only`.
    pub header: HeaderBits,
    /// `-y` / `-k`: sign the query with this TSIG key and verify the
    /// answers (RFC 8945).
    pub tsig: Option<Key>,
    /// `+proxy` / `+proxy-plain`: a PROXY v2 header before the query (per
    /// datagram over UDP, once per connection otherwise).
    pub proxy: Option<Proxy>,
    /// `+trace` / `+nssearch`.
    pub chase: Option<Chase>,
    /// `+hints=FILE`.
    pub hints: Option<Hints>,
    /// `-4` / `-6`: the only address family a delegation chase sends to.
    pub family: Option<u8>,
}

impl Default for QueryOpts {
    fn default() -> Self {
        QueryOpts {
            transport: Transport::Udp,
            udp_asked: false,
            rd: true,
            dnssec: false,
            cd: false,
            ad: true,
            aa: false,
            edns: Some(0),
            bufsize: 1232,
            cookie: Some(None),
            nsid: false,
            subnet: None,
            expire: false,
            keepalive: false,
            padding: None,
            ednsopts: Vec::new(),
            ednsflags: 0,
            zflag: false,
            parallel: 1,
            timeout: 5,
            tries: 3,
            ignore_tc: false,
            keepopen: false,
            tls: TlsOpts::default(),
            qid: None,
            header: HeaderBits::default(),
            tsig: None,
            proxy: None,
            chase: None,
            hints: None,
            family: None,
        }
    }
}

/// One lookup: what to ask and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuerySpec {
    /// QNAME.
    pub name: Name,
    /// QTYPE.
    pub qtype: u16,
    /// QCLASS.
    pub qclass: u16,
    /// For IXFR (`IXFR=N`): the serial the client has.
    pub ixfr_serial: Option<u32>,
    /// Protocol settings.
    pub opts: QueryOpts,
}
