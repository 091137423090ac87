//! The I/O half of `+trace` and `+nssearch`: the delegation chase. Like
//! dig, `+trace` first asks the resolver for the root's NS set (with
//! `+hints`, it primes from the hints' servers instead, RFC 8109, and never
//! asks the resolver), then follows referrals down from the root with RD=0,
//! one server at a time, each query through the one lookup driver
//! ([`super::lookup`]). `+nssearch`, like dig, asks the resolver for the
//! zone's NS set and their addresses, then each address for the SOA (with
//! `+hints`, the NS set comes from a chase instead). Every message of the chase is recorded as
//! RESOLVER_QUERY / RESOLVER_RESPONSE with `query_zone` naming the zone
//! whose servers were asked (the resolver's exchange stays a STUB one).
//!
//! A server without glue is resolved by a chase of its own from the root
//! (recorded and shown like the rest), never through the system resolver.
//! What a response means is [`super::delegation::judge`]'s (pure) verdict;
//! a lame server or a bad referral moves on to the next server of the same
//! zone. The chase is bounded: each accepted referral goes strictly down
//! towards the name, glueless resolutions nest at most [`MAX_DEPTH`] deep
//! and never for a name already being resolved, and the whole lookup sends
//! at most [`MAX_QUERIES`] queries. A chase that ends without an answer
//! is the lookup's [`Outcome::NoReply`] (with a line saying why), so the
//! rest of a `-f` batch still runs.

use std::net::{IpAddr, SocketAddr};

use bytes::Bytes;

use super::delegation::{glue_addr, is_at_or_below, judge, parse_hints, NsServer, Verdict};
use super::lookup::{lookup, Outcome, RecordMeta, Session, Sink, Target};
use super::spec::{Chase, QuerySpec};
use crate::dns::name::{read_name, Name};
use crate::dns::types;
use crate::dns::wire::Message;
use crate::error::Error;
use crate::tap::event::{Direction, Event, MessageType};
use crate::tap::pb;

/// The most queries one `+trace` or `+nssearch` lookup sends.
pub const MAX_QUERIES: u32 = 100;

/// How deeply glueless server names are resolved within one another.
pub const MAX_DEPTH: usize = 4;

/// The most servers tried per zone (a hostile referral may list many).
const MAX_SERVERS: usize = 16;

/// Records every message of one step under the zone asked, and keeps the
/// last response accepted.
struct Tagged<'s> {
    inner: &'s mut dyn Sink,
    zone: Option<Name>,
    last: Option<Bytes>,
}

impl Sink for Tagged<'_> {
    fn record(&mut self, mut record: Event) -> Result<(), Error> {
        if let Some(zone) = &self.zone {
            record.mtype = match record.mtype.direction() {
                Some(Direction::Query) => MessageType(pb::message::Type::ResolverQuery as i32),
                _ => MessageType(pb::message::Type::ResolverResponse as i32),
            };
            record.query_zone = Some(Bytes::copy_from_slice(zone.as_wire()));
        }
        if let Some(r) = &record.response_message {
            self.last = Some(r.clone());
        }
        self.inner.record(record)
    }

    fn diag(&mut self, line: &str) {
        self.inner.diag(line);
    }
}

/// One chase's state.
struct Chaser<'a> {
    spec: &'a QuerySpec,
    meta: &'a RecordMeta,
    session: &'a mut Session,
    sink: &'a mut dyn Sink,
    /// The port every server is asked on (`-p`, else the transport's).
    port: u16,
    /// Queries still allowed.
    left: u32,
    /// Names being resolved (glueless servers), outermost first.
    resolving: Vec<Name>,
    /// The root servers.
    roots: Vec<NsServer>,
}

/// Why the chase stopped short.
fn failed(what: &str) -> Error {
    Error::Server(what.to_owned())
}

impl Chaser<'_> {
    /// Sends one query; the response accepted, if any.
    async fn ask(
        &mut self,
        name: &Name,
        qtype: u16,
        zone: Option<&Name>,
        addr: IpAddr,
    ) -> Result<Option<Bytes>, Error> {
        if self.left == 0 {
            return Err(failed(&format!(
                "{}: gave up after {MAX_QUERIES} queries",
                self.what()
            )));
        }
        self.left -= 1;
        let mut spec = self.spec.clone();
        spec.name = name.clone();
        spec.qtype = qtype;
        spec.ixfr_serial = None;
        spec.opts.rd = zone.is_none();
        let target = Target {
            addr: SocketAddr::new(addr, self.port),
            host: None,
        };
        let mut tagged = Tagged {
            inner: &mut *self.sink,
            zone: zone.cloned(),
            last: None,
        };
        match lookup(&spec, &target, self.meta, self.session, &mut tagged).await? {
            Outcome::Answered => Ok(tagged.last),
            Outcome::NoReply => Ok(None),
        }
    }

    /// The addresses the chase may send to (`-4` / `-6`), IPv4 first (a
    /// host without IPv6 would wait on each IPv6 one).
    fn usable(&self, addrs: impl Iterator<Item = IpAddr>) -> Vec<IpAddr> {
        let family = self.spec.opts.family;
        let mut all: Vec<IpAddr> = addrs
            .filter(|a| match family {
                Some(4) => a.is_ipv4(),
                Some(6) => a.is_ipv6(),
                _ => true,
            })
            .collect();
        all.sort_by_key(|a| a.is_ipv6());
        all
    }

    fn what(&self) -> &'static str {
        match self.spec.opts.chase {
            Some(Chase::NsSearch) => "+nssearch",
            _ => "+trace",
        }
    }

    /// The root servers: the resolver's (`resolver`) or the hints' after
    /// priming.
    async fn find_roots(&mut self, resolver: Option<IpAddr>) -> Result<(), Error> {
        let root = Name::root();
        let candidates: Vec<IpAddr> = match resolver {
            Some(r) => vec![r],
            None => self.usable(self.roots.iter().flat_map(|s| s.addrs.iter().copied())),
        };
        let zone = resolver.is_none().then_some(&root);
        for addr in candidates.into_iter().take(MAX_SERVERS) {
            let Some(bytes) = self.ask(&root, types::NS, zone, addr).await? else {
                continue;
            };
            let Ok(msg) = Message::parse(&bytes) else {
                continue;
            };
            let mut found = ns_set(&msg, &root);
            for s in &mut found {
                if s.addrs.is_empty() {
                    if let Some(h) = self.roots.iter().find(|h| h.name.eq_ignore_case(&s.name)) {
                        s.addrs.clone_from(&h.addrs);
                    }
                }
            }
            if found.iter().any(|s| !s.addrs.is_empty()) {
                self.roots = found;
                return Ok(());
            }
        }
        if resolver.is_some() {
            self.sink.diag(&format!(
                ";; WARNING: {}: no root servers from the resolver, using the built-in root hints",
                self.what()
            ));
        }
        Ok(())
    }

    /// Chases `name`/`qtype` down from the root; the final response and the
    /// zone whose server gave it.
    async fn chase(&mut self, name: &Name, qtype: u16) -> Result<(Bytes, Name), Error> {
        let mut zone = Name::root();
        let mut servers = self.roots.clone();
        loop {
            let mut next = None;
            let mut tried = false;
            'servers: for server in servers.iter_mut().take(MAX_SERVERS) {
                // The root's servers cannot be found from the root.
                if self.usable(server.addrs.iter().copied()).is_empty() && !zone.is_root() {
                    let found = Box::pin(self.addresses(&server.name)).await?;
                    server.addrs.extend(found);
                }
                for addr in self.usable(server.addrs.iter().copied()) {
                    tried = true;
                    let Some(bytes) = self.ask(name, qtype, Some(&zone), addr).await? else {
                        continue;
                    };
                    let Ok(msg) = Message::parse(&bytes) else {
                        continue 'servers;
                    };
                    match judge(Some(&zone), name, &msg).verdict {
                        Verdict::Answer => return Ok((bytes, zone)),
                        Verdict::Referral {
                            zone: z,
                            servers: s,
                        } => {
                            next = Some((z, s));
                            break 'servers;
                        }
                        Verdict::Lame => continue 'servers,
                    }
                }
            }
            match next {
                Some((z, s)) => {
                    zone = z;
                    servers = s;
                }
                None if !tried && self.spec.opts.family.is_some() => {
                    return Err(failed(&format!(
                        "{}: no server of {} has an {} address",
                        self.what(),
                        crate::render::escaped(zone.to_string().as_bytes()),
                        if self.spec.opts.family == Some(6) {
                            "IPv6"
                        } else {
                            "IPv4"
                        },
                    )))
                }
                None => {
                    return Err(failed(&format!(
                        "{}: no server of {} gave a usable answer for {}",
                        self.what(),
                        crate::render::escaped(zone.to_string().as_bytes()),
                        crate::render::escaped(name.to_string().as_bytes()),
                    )))
                }
            }
        }
    }

    /// The addresses of a server named without glue, from a chase of its
    /// own (none when that would nest too deep or loop).
    async fn addresses(&mut self, name: &Name) -> Result<Vec<IpAddr>, Error> {
        // A name already being resolved is a loop; a new name past the
        // depth limit is only a long chain.
        let refused = if self.resolving.iter().any(|n| n.eq_ignore_case(name)) {
            Some("again (glueless delegation loop)".to_owned())
        } else if self.resolving.len() >= MAX_DEPTH {
            Some(format!(
                "(glueless delegation chain deeper than {MAX_DEPTH} levels)"
            ))
        } else {
            None
        };
        if let Some(why) = refused {
            self.sink.diag(&format!(
                ";; WARNING: {}: not resolving {} {why}",
                self.what(),
                crate::render::escaped(name.to_string().as_bytes())
            ));
            return Ok(Vec::new());
        }
        self.resolving.push(name.clone());
        let qtype = match self.spec.opts.family {
            Some(6) => types::AAAA,
            _ => types::A,
        };
        let got = self.chase(name, qtype).await;
        self.resolving.pop();
        let (bytes, _) = match got {
            Ok(found) => found,
            // An error that is not the budget's: this server stays unknown.
            Err(_) if self.left > 0 => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let Ok(msg) = Message::parse(&bytes) else {
            return Ok(Vec::new());
        };
        Ok(msg
            .answer
            .iter()
            .filter(|r| r.name.eq_ignore_case(name))
            .filter_map(|r| glue_addr(&msg, r))
            .collect())
    }

    /// The addresses the `resolver` gives for `name` (A and AAAA, or the
    /// family of `-4`/`-6`).
    async fn resolved(&mut self, name: &Name, resolver: IpAddr) -> Result<Vec<IpAddr>, Error> {
        let qtypes: &[u16] = match self.spec.opts.family {
            Some(4) => &[types::A],
            Some(6) => &[types::AAAA],
            _ => &[types::A, types::AAAA],
        };
        let mut found = Vec::new();
        for &qtype in qtypes {
            let Some(bytes) = self.ask(name, qtype, None, resolver).await? else {
                continue;
            };
            let Ok(msg) = Message::parse(&bytes) else {
                continue;
            };
            // The whole answer: a CNAME chain ends in another owner.
            found.extend(msg.answer.iter().filter_map(|r| glue_addr(&msg, r)));
        }
        Ok(found)
    }

    /// `+nssearch`: the SOA record from every address of every server of
    /// the zone `name`. As dig, the servers and their addresses come from
    /// the `resolver` (dig asks the system's resolver for the addresses;
    /// qtap asks the same resolver, so the lookups are recorded); with
    /// `+hints` (no resolver), from a chase for the zone's NS set. No
    /// response from any of them is an error, as dig's `NS servers could
    /// not be reached`.
    async fn nssearch(&mut self, name: &Name, resolver: Option<IpAddr>) -> Result<(), Error> {
        let bytes = match resolver {
            Some(r) => self
                .ask(name, types::NS, None, r)
                .await?
                .ok_or_else(|| failed("+nssearch: no answer from the resolver"))?,
            None => self.chase(name, types::NS).await?.0,
        };
        let msg = Message::parse(&bytes).map_err(|e| failed(&format!("+nssearch: {e}")))?;
        let mut servers = ns_set(&msg, name);
        if servers.is_empty() {
            return Err(failed(&format!(
                "+nssearch: {} has no NS records",
                crate::render::escaped(name.to_string().as_bytes())
            )));
        }
        let mut reached = false;
        for server in servers.iter_mut().take(MAX_SERVERS) {
            if self.usable(server.addrs.iter().copied()).is_empty() {
                let found = match resolver {
                    Some(r) => self.resolved(&server.name, r).await?,
                    None => self.addresses(&server.name).await?,
                };
                server.addrs.extend(found);
            }
            if self.usable(server.addrs.iter().copied()).is_empty() {
                self.sink.diag(&format!(
                    ";; WARNING: +nssearch: no usable address for {}",
                    crate::render::escaped(server.name.to_string().as_bytes())
                ));
            }
            for addr in self.usable(server.addrs.iter().copied()) {
                reached |= self
                    .ask(name, types::SOA, Some(name), addr)
                    .await?
                    .is_some();
            }
        }
        if reached {
            Ok(())
        } else {
            // dig's words, and (as dig) the lookup's "no reply": exit 9.
            Err(failed("NS servers could not be reached"))
        }
    }
}

/// The NS set of `zone` in the answer section, with the addresses the
/// additional section gives for them.
fn ns_set(msg: &Message<'_>, zone: &Name) -> Vec<NsServer> {
    let mut servers: Vec<NsServer> = Vec::new();
    for r in msg
        .answer
        .iter()
        .filter(|r| r.rtype == types::NS && r.name.eq_ignore_case(zone))
    {
        if let Ok((n, _)) = read_name(msg.bytes, r.rdata.start) {
            if !servers.iter().any(|s| s.name.eq_ignore_case(&n)) {
                servers.push(NsServer {
                    name: n,
                    addrs: Vec::new(),
                });
            }
        }
    }
    for r in &msg.additional {
        if let (Some(addr), Some(s)) = (
            glue_addr(msg, r),
            servers.iter_mut().find(|s| s.name.eq_ignore_case(&r.name)),
        ) {
            if is_at_or_below(&r.name, &Name::root()) && !s.addrs.contains(&addr) {
                s.addrs.push(addr);
            }
        }
    }
    servers
}

/// Runs a `+trace` or `+nssearch` lookup. `resolver`: the server the
/// run would ask (only asked for the root's NS set, and not at all with
/// `+hints`; its port is every server's).
pub async fn chase(
    spec: &QuerySpec,
    resolver: &Target,
    meta: &RecordMeta,
    session: &mut Session,
    sink: &mut dyn Sink,
) -> Result<Outcome, Error> {
    let (roots, ask_resolver) = match &spec.opts.hints {
        Some(hints) => (hints.servers.clone(), false),
        None => (
            parse_hints(super::delegation::BUILT_IN_HINTS).map_err(Error::Internal)?,
            true,
        ),
    };
    let mut chaser = Chaser {
        spec,
        meta,
        session,
        sink,
        port: resolver.addr.port(),
        left: MAX_QUERIES,
        resolving: Vec::new(),
        roots,
    };
    let resolver = ask_resolver.then_some(resolver.addr.ip());
    let done = async {
        match spec.opts.chase {
            // As dig: the resolver is asked for the zone's servers, so no
            // root servers are needed (but with +hints).
            Some(Chase::NsSearch) => {
                if resolver.is_none() {
                    chaser.find_roots(None).await?;
                }
                chaser.nssearch(&spec.name, resolver).await
            }
            _ => {
                chaser.find_roots(resolver).await?;
                chaser.chase(&spec.name, spec.qtype).await.map(|_| ())
            }
        }
    }
    .await;
    match done {
        Ok(()) => Ok(Outcome::Answered),
        // A chase that found no answer is this lookup's "no reply": the
        // rest of a batch still runs.
        Err(Error::Server(why)) => {
            chaser.sink.diag(&format!(";; {why}"));
            Ok(Outcome::NoReply)
        }
        Err(e) => Err(e),
    }
}
