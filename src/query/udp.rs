//! UDP exchanges on connected sockets (the kernel then drops datagrams from
//! other sources). Replies whose ID or question do not match the query are
//! skipped until the deadline (RFC 5452 §9.1).
//!
//! Two ways to use a socket:
//!
//! - [`UdpConn`]: one socket, one exchange. Each sequential try gets a new
//!   one, so every query goes out from a fresh port, as dig's do (source
//!   port randomisation, RFC 5452 §9.2); what carries over between lookups
//!   is only how fast the server answered ([`UdpConn::expect_rtt`]).
//! - [`UdpMux`]: one socket shared by many lookups in flight (`+parallel`).
//!   A reader task receives every datagram and hands it to the lookup
//!   waiting for its message ID, which still checks ID and question itself;
//!   a datagram for no waiting ID is given to the oldest waiter to report
//!   and skip, unless it is a late reply to an exchange already over. A
//!   shared socket carries at most [`PER_SOCKET`] exchanges in its life,
//!   then makes way for a fresh one: sharing saves a socket per lookup in a
//!   large run, rotating keeps any one port from serving a long run (a
//!   spoofer who learns it would otherwise have only the ID to guess).

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::time::Instant;

use bytes::Bytes;

use super::error::{Mismatch, QueryError};
use super::DnsTransport;
use crate::tap::event::Protocol;

/// The largest datagram we accept.
const MAX_DATAGRAM: usize = 65_535;

/// A socket that tells the runtime only about incoming datagrams and
/// errors: sending a datagram never waits (the kernel queues it or says it
/// cannot), and a socket registered for write readiness too would wake the
/// runtime after every send for nothing.
///
/// Errors matter: an ICMP port unreachable makes the socket report an error
/// (EPOLLERR) without becoming readable, and the next receive returns
/// "connection refused". A wait for readability alone never ends on it, and
/// the try would wait out its whole timeout.
#[derive(Debug)]
pub(crate) struct Socket(AsyncFd<std::net::UdpSocket>);

/// What a receive waits for: a datagram, or an error to read.
const RECV_READY: Interest = Interest::READABLE.add(Interest::ERROR);

/// How long to wait before sending again when the socket's send buffer is
/// full (which a DNS client's few datagrams hardly ever fill).
const SEND_RETRY: std::time::Duration = std::time::Duration::from_millis(1);

impl Socket {
    /// An ephemeral port of the server's family, connected to it.
    pub(crate) fn bind_connected(peer: SocketAddr) -> std::io::Result<(Socket, SocketAddr)> {
        let bind: SocketAddr = match peer {
            SocketAddr::V4(_) => (std::net::Ipv4Addr::UNSPECIFIED, 0).into(),
            SocketAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
        };
        let sock = std::net::UdpSocket::bind(bind)?;
        sock.connect(peer)?;
        sock.set_nonblocking(true)?;
        let local = sock.local_addr()?;
        // SAFETY: the std socket owns its descriptor and keeps it, open and
        // the same, until the AsyncFd (which owns the socket) is dropped.
        // A local exception to the crate's deny(unsafe_code): the call is
        // tokio's own, on the socket this function just made.
        #[allow(unsafe_code)]
        let fd = unsafe { AsyncFd::register_with_interest(sock, RECV_READY) }?;
        Ok((Socket(fd), local))
    }

    /// The socket, as the runtime knows it (the UDP window polls it itself).
    pub(crate) fn fd(&self) -> &AsyncFd<std::net::UdpSocket> {
        &self.0
    }

    async fn send(&self, msg: &[u8]) -> std::io::Result<()> {
        let mut waits = 0;
        loop {
            match self.0.get_ref().send(msg) {
                Ok(_) => return Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && waits < 1000 => {
                    waits += 1;
                    tokio::time::sleep(SEND_RETRY).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Receives one datagram if one is there (None: nothing yet).
    fn try_recv(&self, buf: &mut [u8]) -> std::io::Result<Option<usize>> {
        loop {
            match self.0.get_ref().recv(buf) {
                Ok(n) => return Ok(Some(n)),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Receives one datagram: straight away when one is there, else once
    /// the runtime says one came. `fresh`: a query went out just now, so
    /// its answer can hardly be there yet: wait for word first (any
    /// datagram arriving from now on is reported by the runtime).
    async fn recv(&self, buf: &mut [u8], fresh: bool) -> std::io::Result<usize> {
        if fresh {
            self.wait_readable().await?;
        }
        loop {
            if let Some(n) = self.try_recv(buf)? {
                return Ok(n);
            }
            self.wait_readable().await?;
        }
    }

    /// Waits until the runtime reports the socket readable, right after a
    /// receive found nothing. A readiness the runtime noted before that
    /// receive is stale: it is cleared rather than tried again (a wasted
    /// system call per exchange otherwise).
    async fn wait_readable(&self) -> std::io::Result<()> {
        let first = self.0.ready(RECV_READY);
        tokio::pin!(first);
        let at_once =
            std::future::poll_fn(|cx| Poll::Ready(std::future::Future::poll(first.as_mut(), cx)))
                .await;
        match at_once {
            // Ready at once, with no turn of the event loop since the
            // receive: noted before it (which also read any error).
            Poll::Ready(Ok(mut ready)) => ready.clear_ready(),
            Poll::Ready(Err(e)) => return Err(e),
            Poll::Pending => return first.await.map(drop),
        }
        self.0.ready(RECV_READY).await.map(drop)
    }
}

/// A connected UDP socket with a random source port, for one exchange at
/// a time.
#[derive(Debug)]
pub struct UdpConn {
    sock: Socket,
    /// The local address the kernel chose.
    pub local: SocketAddr,
    /// Receive buffer, taken from [`SPARE_BUFS`] and given back on drop.
    buf: Vec<u8>,
    /// When the last datagram went out.
    sent: std::cell::Cell<Option<std::time::Instant>>,
    /// How long the last answer on this socket took.
    last_rtt: Option<std::time::Duration>,
}

thread_local! {
    /// The receive buffers of the last [`UdpConn`]s (or shared sockets'
    /// readers) dropped on this thread, for the next ones: each try gets a
    /// fresh socket, and zeroing a new 64 KiB buffer per lookup was most
    /// of a sequential `-f` run's instructions (BENCHMARKS.md). Up to
    /// [`SPARE_BUFS_MAX`]: with `+parallel`, a spent shared socket's reader
    /// gives its buffer back only once its aborted task is dropped, after
    /// the next socket has started, and a single spare made nearly every
    /// new shared socket allocate and zero one (callgrind).
    static SPARE_BUFS: std::cell::RefCell<Vec<Vec<u8>>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Receive buffers kept for the next sockets, at most.
const SPARE_BUFS_MAX: usize = 4;

/// A spare receive buffer, or an empty one when there is none.
fn spare_take() -> Vec<u8> {
    SPARE_BUFS
        .try_with(|s| s.try_borrow_mut().ok().and_then(|mut s| s.pop()))
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Keeps `buf` for the next socket, if there is room (a thread that is
/// ending simply frees it).
fn spare_give(buf: Vec<u8>) {
    if buf.is_empty() {
        return;
    }
    let _ = SPARE_BUFS.try_with(|s| {
        if let Ok(mut s) = s.try_borrow_mut() {
            if s.len() < SPARE_BUFS_MAX {
                s.push(buf);
            }
        }
    });
}

/// A receive buffer taken from [`SPARE_BUFS`], given back when dropped
/// (a shared socket's reader is dropped with its task).
struct SpareBuf(Vec<u8>);

impl SpareBuf {
    fn take() -> SpareBuf {
        let mut buf = spare_take();
        if buf.len() < MAX_DATAGRAM {
            buf = vec![0u8; MAX_DATAGRAM];
        }
        SpareBuf(buf)
    }
}

impl std::ops::Deref for SpareBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl std::ops::DerefMut for SpareBuf {
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.0
    }
}

impl Drop for SpareBuf {
    fn drop(&mut self) {
        spare_give(std::mem::take(&mut self.0));
    }
}

impl Drop for UdpConn {
    fn drop(&mut self) {
        spare_give(std::mem::take(&mut self.buf));
    }
}

/// Answers that came this fast on a socket (a server on the same machine)
/// are waited for by polling the socket for up to twice that long, at most
/// this, before sleeping: waking a sleeping thread costs more than such a
/// round trip, tens of microseconds when the two ends run on different
/// CPUs of a virtual machine. Each poll yields the CPU, so a server on the
/// same CPU runs at once. Slower servers are never polled.
const POLL_FOR: std::time::Duration = std::time::Duration::from_micros(50);

impl UdpConn {
    /// Binds an ephemeral port of the server's family and connects it.
    pub async fn connect(peer: SocketAddr) -> std::io::Result<UdpConn> {
        let (sock, local) = Socket::bind_connected(peer)?;
        Ok(UdpConn {
            sock,
            local,
            buf: spare_take(),
            sent: std::cell::Cell::new(None),
            last_rtt: None,
        })
    }

    /// How long the last answer on this socket took.
    pub fn rtt(&self) -> Option<std::time::Duration> {
        self.last_rtt
    }

    /// Expects the server to answer about as fast as it did last time, on
    /// another socket (a fast server's answer is then polled for).
    pub fn expect_rtt(&mut self, rtt: std::time::Duration) {
        self.last_rtt = Some(rtt);
    }

    /// Sends one datagram.
    pub async fn send(&self, msg: &[u8]) -> std::io::Result<()> {
        self.sock.send(msg).await?;
        self.sent.set(Some(std::time::Instant::now()));
        Ok(())
    }

    /// Waits for a datagram that `check` accepts, until `deadline`;
    /// `skipped` is told why each other one was skipped.
    pub async fn recv_matching(
        &mut self,
        deadline: Instant,
        mut check: impl FnMut(&[u8]) -> Result<(), Mismatch>,
        mut skipped: impl FnMut(Mismatch),
    ) -> Result<Vec<u8>, QueryError> {
        if self.buf.len() < MAX_DATAGRAM {
            self.buf = vec![0u8; MAX_DATAGRAM];
        }
        let sent = self.sent.get();
        let mut judge = |datagram: &[u8]| match check(datagram) {
            Ok(()) => Some(datagram.to_vec()),
            Err(why) => {
                skipped(why);
                None
            }
        };
        let poll_until = match (sent, self.last_rtt) {
            (Some(at), Some(rtt)) if rtt <= POLL_FOR => Some(at + (rtt * 2).min(POLL_FOR)),
            _ => None,
        };
        if let Some(until) = poll_until {
            while std::time::Instant::now() < until {
                match self.sock.try_recv(&mut self.buf) {
                    Ok(Some(n)) => {
                        if let Some(answer) = judge(&self.buf[..n]) {
                            self.last_rtt = sent.map(|at| at.elapsed());
                            return Ok(answer);
                        }
                    }
                    Ok(None) => std::thread::yield_now(),
                    Err(e) => return Err(QueryError::from(e)),
                }
            }
        }
        let mut fresh = true;
        loop {
            // A server that never stops sending wrong replies must not keep
            // the deadline from being noticed.
            if Instant::now() >= deadline {
                return Err(QueryError::Timeout);
            }
            let recv = self.sock.recv(&mut self.buf, fresh);
            fresh = false;
            let n = match tokio::time::timeout_at(deadline, recv).await {
                Err(_) => return Err(QueryError::Timeout),
                Ok(Err(e)) => return Err(QueryError::from(e)),
                Ok(Ok(n)) => n,
            };
            if let Some(answer) = judge(&self.buf[..n]) {
                self.last_rtt = sent.map(|at| at.elapsed());
                return Ok(answer);
            }
        }
    }
}

/// Datagrams a shared socket's reader takes in a row before it lets the
/// other tasks run.
const FLOOD_YIELD: u32 = 64;

/// One socket shared by lookups in flight; see the module documentation.
#[derive(Debug)]
pub struct UdpMux {
    sock: Socket,
    /// The local address the kernel chose.
    pub local: SocketAddr,
    /// The server.
    pub peer: SocketAddr,
    state: RefCell<MuxState>,
}

#[derive(Debug)]
struct MuxState {
    /// The lookups waiting for a reply, by message ID, oldest first.
    waiting: Vec<(u16, Rc<Waiter>)>,
    /// Every ID claimed on this socket, in use or over: an ID serves one
    /// exchange per socket, so replies that come after their exchange
    /// ended (answered, timed out, abandoned) are dropped quietly instead
    /// of being taken for strays. At most [`PER_SOCKET`] IDs: a short
    /// list scanned beats a 64 Ki table made and zeroed per socket.
    used: Vec<u16>,
    /// Exchanges registered so far.
    next_seq: u64,
    /// The socket failed for good: no new registrations.
    broken: bool,
}

#[derive(Debug, Default)]
struct Waiter {
    /// What was handed over, oldest first. Nearly always just the
    /// answer: room for two inline saves an allocation per exchange.
    inbox: RefCell<smallvec::SmallVec<[std::io::Result<Vec<u8>>; 2]>>,
    waker: RefCell<Option<Waker>>,
}

impl Waiter {
    fn push(&self, item: std::io::Result<Vec<u8>>) {
        self.inbox.borrow_mut().push(item);
        // Taken out first: no borrow is held while the waker runs.
        let waker = self.waker.borrow_mut().take();
        if let Some(w) = waker {
            w.wake();
        }
    }

    fn poll_next(&self, cx: &mut Context<'_>) -> Poll<std::io::Result<Vec<u8>>> {
        let mut inbox = self.inbox.borrow_mut();
        if inbox.is_empty() {
            *self.waker.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        } else {
            Poll::Ready(inbox.remove(0))
        }
    }
}

impl UdpMux {
    /// Binds an ephemeral port of the server's family and connects it. The
    /// caller runs [`UdpMux::read_loop`] beside the lookups.
    pub async fn connect(peer: SocketAddr) -> std::io::Result<UdpMux> {
        let (sock, local) = Socket::bind_connected(peer)?;
        Ok(UdpMux {
            sock,
            local,
            peer,
            state: RefCell::new(MuxState {
                waiting: Vec::with_capacity(PER_SOCKET),
                used: Vec::with_capacity(PER_SOCKET),
                next_seq: 0,
                broken: false,
            }),
        })
    }

    /// Exchanges waiting on this socket.
    pub fn in_flight(&self) -> usize {
        self.state.borrow().waiting.len()
    }

    /// Whether this socket takes new exchanges: it is sound, and has
    /// carried fewer than [`PER_SOCKET`].
    pub fn has_room(&self) -> bool {
        let st = self.state.borrow();
        !st.broken && st.next_seq < PER_SOCKET as u64
    }

    /// Whether `id` is free for a new exchange on this socket.
    pub fn is_free(&self, id: u16) -> bool {
        let st = self.state.borrow();
        !st.broken && !st.used.contains(&id)
    }

    /// Claims `id` for an exchange; None when it is in use (or was lately,
    /// or the socket failed): the caller then uses a socket of its own.
    pub fn register(self: &Rc<Self>, id: u16) -> Option<Ticket> {
        let mut st = self.state.borrow_mut();
        if st.broken || st.used.contains(&id) {
            return None;
        }
        st.used.push(id);
        st.next_seq += 1;
        let waiter = Rc::new(Waiter::default());
        st.waiting.push((id, waiter.clone()));
        Some(Ticket {
            mux: self.clone(),
            id,
            waiter,
        })
    }

    /// Receives datagrams for the waiting lookups, until the socket fails
    /// for good (run it as a task; abort it when the lookups are done).
    pub async fn read_loop(self: Rc<Self>) {
        let mut buf = SpareBuf::take();
        let mut run = 0u32;
        loop {
            // A flood of datagrams must not starve the lookups (their
            // deadlines) or the signal handlers: yield now and then.
            run += 1;
            if run.is_multiple_of(FLOOD_YIELD) {
                tokio::task::yield_now().await;
            }
            match self.sock.recv(&mut buf, false).await {
                Ok(n) => {
                    replied();
                    self.dispatch(&buf[..n]);
                }
                Err(e) => {
                    if !self.fail_waiting(&e, None) {
                        return;
                    }
                }
            }
        }
    }

    /// Hands a socket error to the lookups waiting (but `except`'s). An
    /// ICMP error concerns the server this socket is connected to, so every
    /// lookup waiting for it, and each ends its try (and may try again);
    /// other errors end this socket's use. True when the socket is still
    /// usable.
    fn fail_waiting(&self, e: &std::io::Error, except: Option<u16>) -> bool {
        let transient = is_icmp(e) || e.kind() == std::io::ErrorKind::Interrupted;
        let mut st = self.state.borrow_mut();
        if !transient {
            st.broken = true;
        }
        let waiting: Vec<Rc<Waiter>> = st
            .waiting
            .iter()
            .filter(|(id, _)| Some(*id) != except)
            .map(|(_, w)| w.clone())
            .collect();
        drop(st);
        for w in waiting {
            // A copy of the error for each lookup it concerns.
            w.push(Err(crate::error::copy_io_error(e)));
        }
        transient
    }

    /// Hands a datagram to the lookup waiting for its ID.
    fn dispatch(&self, datagram: &[u8]) {
        let st = self.state.borrow();
        let id = match datagram {
            [a, b, ..] => Some(u16::from_be_bytes([*a, *b])),
            _ => None,
        };
        let waiting = id.and_then(|id| st.waiting.iter().find(|(w, _)| *w == id));
        let to = match (id, waiting) {
            (_, Some((_, w))) => Some(w.clone()),
            // A late reply to an exchange that is over: nobody's business.
            (Some(id), None) if st.used.contains(&id) => None,
            // A stray: the oldest waiter reports and skips it.
            _ => st.waiting.first().map(|(_, w)| w.clone()),
        };
        drop(st);
        if let Some(w) = to {
            w.push(Ok(datagram.to_vec()));
        }
    }

    /// Sends one datagram. After [`BURST`] datagrams on shared sockets
    /// with no reply read in between, the thread lets others run first:
    /// many lookups start at once, and a server on the same CPU would
    /// otherwise get no turn to read its queries before its socket
    /// overflows. Replies coming in show the server is getting its turns:
    /// a steady run of up to [`BURST`] in flight never gives the CPU away
    /// (each `sched_yield` on a busy machine can cost a time slice).
    ///
    /// The kernel reports an ICMP error for an earlier datagram to whichever
    /// call comes first, a send included: such an error goes to the lookups
    /// waiting (not to `id`, whose query has not even gone out), and the
    /// query is sent again.
    async fn send(&self, id: u16, msg: &[u8]) -> std::io::Result<()> {
        let sent = SENT.with(|n| {
            let sent = n.get().saturating_add(1);
            n.set(sent);
            sent
        });
        if sent > BURST {
            SENT.set(0);
            std::thread::yield_now();
        }
        match self.sock.send(msg).await {
            Err(e) if is_icmp(&e) => {
                self.fail_waiting(&e, Some(id));
                self.sock.send(msg).await
            }
            other => other,
        }
    }
}

/// Whether `e` is an ICMP error the kernel reported on a connected socket
/// (the server's port is closed, or the host unreachable).
pub(crate) fn is_icmp(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::ConnectionReset
    )
}

/// Datagrams sent on shared sockets between two turns given to other
/// threads.
const BURST: u32 = 64;

/// A reply came in on a shared socket: the server is keeping up.
fn replied() {
    SENT.set(0);
}

thread_local! {
    /// Datagrams sent on shared sockets by this thread since one was last
    /// read from any of them.
    static SENT: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// One exchange's claim on a shared socket: its message ID. Dropping it
/// ends the exchange (the ID is not used again on that socket).
#[derive(Debug)]
pub struct Ticket {
    mux: Rc<UdpMux>,
    id: u16,
    waiter: Rc<Waiter>,
}

impl Ticket {
    /// The socket's local address.
    pub fn local(&self) -> SocketAddr {
        self.mux.local
    }

    /// Sends the query.
    pub async fn send(&self, msg: &[u8]) -> std::io::Result<()> {
        self.mux.send(self.id, msg).await
    }

    /// Like [`UdpConn::recv_matching`], for the datagrams handed to this
    /// exchange.
    pub async fn recv_matching(
        &self,
        deadline: Instant,
        mut check: impl FnMut(&[u8]) -> Result<(), Mismatch>,
        mut skipped: impl FnMut(Mismatch),
    ) -> Result<Vec<u8>, QueryError> {
        loop {
            if Instant::now() >= deadline {
                self.report_rest(&mut check, &mut skipped);
                return Err(QueryError::Timeout);
            }
            let next = std::future::poll_fn(|cx| self.waiter.poll_next(cx));
            let datagram = match tokio::time::timeout_at(deadline, next).await {
                Err(_) => return Err(QueryError::Timeout),
                Ok(Err(e)) => {
                    self.report_rest(&mut check, &mut skipped);
                    return Err(QueryError::from(e));
                }
                Ok(Ok(d)) => d,
            };
            match check(&datagram) {
                Ok(()) => {
                    self.report_rest(&mut check, &mut skipped);
                    return Ok(datagram);
                }
                Err(why) => skipped(why),
            }
        }
    }

    /// Strays handed to this exchange behind its answer (or a socket error)
    /// are still checked and reported before it ends (a copy of the answer
    /// goes quietly); otherwise they would go unread when the ticket is
    /// dropped.
    fn report_rest(
        &self,
        check: &mut impl FnMut(&[u8]) -> Result<(), Mismatch>,
        skipped: &mut impl FnMut(Mismatch),
    ) {
        let rest: Vec<_> = self.waiter.inbox.borrow_mut().drain(..).collect();
        for datagram in rest.into_iter().flatten() {
            if let Err(why) = check(&datagram) {
                skipped(why);
            }
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let Ok(mut st) = self.mux.state.try_borrow_mut() else {
            return;
        };
        // The ID stays in `used`: retired for the socket's life.
        if let Some(at) = st.waiting.iter().position(|(id, _)| *id == self.id) {
            st.waiting.remove(at);
        }
    }
}

/// Exchanges one shared socket carries in its life, so also in flight at
/// once at most: a socket's receive buffer (about 200 KiB by default) holds
/// a few hundred small answers, and a port that served a whole long run
/// would be one a spoofer need learn only once. Then the next exchanges
/// get a fresh socket, and the spent one is closed once its last exchange
/// is over. (Per query, this costs a 64th of a socket.)
pub const PER_SOCKET: usize = 64;

/// The shared sockets of a run, per server address, with their reader
/// tasks (stopped when this is dropped). Needs a [`tokio::task::LocalSet`].
#[derive(Debug, Default)]
pub struct MuxPool {
    muxes: RefCell<Vec<(Rc<UdpMux>, tokio::task::JoinHandle<()>)>>,
}

impl MuxPool {
    /// Claims `id` on a shared socket to `peer` with room, opening one if
    /// all are full. None: the ID is taken (or the socket could not be
    /// opened); the caller then uses a socket of its own.
    pub async fn register(&self, peer: SocketAddr, id: u16) -> Option<Ticket> {
        if let Some(t) = self.register_existing(peer, id) {
            return Some(t);
        }
        if self.has_room(peer) {
            // There is room, but the ID is taken there.
            return None;
        }
        self.close_spent();
        let mux = Rc::new(UdpMux::connect(peer).await.ok()?);
        let ticket = mux.register(id);
        let reader = tokio::task::spawn_local(mux.clone().read_loop());
        self.muxes.borrow_mut().push((mux, reader));
        ticket
    }

    fn register_existing(&self, peer: SocketAddr, id: u16) -> Option<Ticket> {
        let muxes = self.muxes.borrow();
        let (mux, _) = muxes.iter().find(|(m, _)| m.peer == peer && m.has_room())?;
        mux.register(id)
    }

    fn has_room(&self, peer: SocketAddr) -> bool {
        self.muxes
            .borrow()
            .iter()
            .any(|(m, _)| m.peer == peer && m.has_room())
    }

    /// Closes the sockets that take no new exchanges and have none left.
    fn close_spent(&self) {
        self.muxes.borrow_mut().retain(|(m, reader)| {
            let spent = !m.has_room() && m.in_flight() == 0;
            if spent {
                reader.abort();
            }
            !spent
        });
    }

    /// Whether `id` is free on every shared socket to `peer`.
    pub fn is_free(&self, peer: SocketAddr, id: u16) -> bool {
        self.muxes
            .borrow()
            .iter()
            .filter(|(m, _)| m.peer == peer)
            .all(|(m, _)| m.is_free(id))
    }

    /// Shared sockets open.
    pub fn sockets(&self) -> usize {
        self.muxes.borrow().len()
    }
}

impl Drop for MuxPool {
    fn drop(&mut self) {
        for (_, reader) in self.muxes.borrow().iter() {
            reader.abort();
        }
    }
}

/// The socket one UDP try goes out on: the transport the driver sees.
#[derive(Debug)]
pub enum UdpVia {
    /// A socket of its own.
    Own(UdpConn),
    /// A shared socket, holding the message ID.
    Shared(Ticket),
}

impl UdpVia {
    /// The socket for a try of `query` to `server`: a shared one from
    /// `pool` when the run has them and the query's ID is free there, else
    /// a new one, expecting the server to answer within `rtt` as it did
    /// last time.
    pub async fn open(
        query: &[u8],
        server: SocketAddr,
        pool: Option<&MuxPool>,
        rtt: Option<std::time::Duration>,
    ) -> std::io::Result<UdpVia> {
        if let (Some(pool), [a, b, ..]) = (pool, query) {
            if let Some(ticket) = pool.register(server, u16::from_be_bytes([*a, *b])).await {
                return Ok(UdpVia::Shared(ticket));
            }
        }
        let mut conn = UdpConn::connect(server).await?;
        if let Some(rtt) = rtt {
            conn.expect_rtt(rtt);
        }
        Ok(UdpVia::Own(conn))
    }

    /// How long the answer took on a socket of its own.
    pub fn rtt(&self) -> Option<std::time::Duration> {
        match self {
            UdpVia::Own(c) => c.rtt(),
            UdpVia::Shared(_) => None,
        }
    }
}

impl DnsTransport for UdpVia {
    fn protocol(&self) -> Protocol {
        Protocol::Udp
    }

    fn local(&self) -> SocketAddr {
        match self {
            UdpVia::Own(c) => c.local,
            UdpVia::Shared(t) => t.local(),
        }
    }

    async fn send(&mut self, query: &Bytes, _: Instant) -> Result<(), QueryError> {
        let sent = match self {
            UdpVia::Own(c) => c.send(query).await,
            UdpVia::Shared(t) => t.send(query).await,
        };
        Ok(sent?)
    }

    async fn recv(
        &mut self,
        deadline: Instant,
        check: &mut dyn FnMut(&[u8]) -> Result<(), Mismatch>,
        skipped: &mut dyn FnMut(Mismatch),
    ) -> Result<Vec<u8>, QueryError> {
        match self {
            // Boxed: a socket of its own waits in a larger future, which
            // would otherwise size every `+parallel` lookup's (a shared
            // socket's exchange is the common case there; about 400 bytes
            // of a 2 KiB future).
            UdpVia::Own(c) => Box::pin(c.recv_matching(deadline, check, skipped)).await,
            UdpVia::Shared(t) => t.recv_matching(deadline, check, skipped).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A query-like datagram: the ID, then a marker byte.
    fn datagram(id: u16, marker: u8) -> Vec<u8> {
        let mut d = id.to_be_bytes().to_vec();
        d.push(marker);
        d
    }

    fn marker(d: &[u8]) -> u8 {
        d[2]
    }

    /// Runs `f` on a one-thread runtime inside a LocalSet, as `+parallel` does.
    fn local<F: std::future::Future<Output = ()>>(f: F) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(tokio::task::LocalSet::new().run_until(f));
    }

    /// A reason to skip, told apart by its text.
    fn skip(why: &str) -> Mismatch {
        Mismatch::BadQuery(why.into())
    }

    fn accept_all(_: &[u8]) -> Result<(), Mismatch> {
        Ok(())
    }

    #[test]
    fn shared_socket_hands_each_reply_to_its_id_and_strays_to_the_oldest() {
        local(async {
            let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            let pool = MuxPool::default();
            let peer = server.local_addr().unwrap();
            let first = pool.register(peer, 1).await.unwrap();
            let second = pool.register(peer, 2).await.unwrap();
            assert!(pool.register(peer, 2).await.is_none(), "ID in use");
            assert_eq!(first.local(), second.local(), "one socket");
            first.send(&datagram(1, 0)).await.unwrap();
            let mut buf = [0u8; 64];
            let (_, client) = server.recv_from(&mut buf).unwrap();
            // Replies in reverse order, and a stray with an unknown ID.
            for d in [datagram(2, 20), datagram(9, 90), datagram(1, 10)] {
                server.send_to(&d, client).unwrap();
            }
            let deadline = Instant::now() + std::time::Duration::from_secs(5);
            let got = second
                .recv_matching(deadline, accept_all, |_| {})
                .await
                .unwrap();
            assert_eq!(marker(&got), 20);
            // The stray goes to the oldest waiter, which skips it.
            let mut skipped = Vec::new();
            let got = first
                .recv_matching(
                    deadline,
                    |d| {
                        if marker(d) == 90 {
                            Err(skip("stray"))
                        } else {
                            Ok(())
                        }
                    },
                    |why| skipped.push(why),
                )
                .await
                .unwrap();
            assert_eq!(marker(&got), 10);
            assert_eq!(skipped, [skip("stray")]);
            // Done: the IDs are retired, and late copies dropped quietly.
            drop(first);
            drop(second);
            assert!(!pool.is_free(peer, 1));
            let third = pool.register(peer, 3).await.unwrap();
            for d in [datagram(1, 11), datagram(2, 21), datagram(3, 30)] {
                server.send_to(&d, client).unwrap();
            }
            let got = third
                .recv_matching(deadline, accept_all, |_| {})
                .await
                .unwrap();
            assert_eq!(marker(&got), 30, "late copies never reach a lookup");
        });
    }

    #[test]
    fn a_stray_queued_behind_the_answer_is_still_reported() {
        local(async {
            let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            let pool = MuxPool::default();
            let peer = server.local_addr().unwrap();
            let ticket = pool.register(peer, 1).await.unwrap();
            ticket.send(&datagram(1, 0)).await.unwrap();
            let mut buf = [0u8; 64];
            let (_, client) = server.recv_from(&mut buf).unwrap();
            // The answer, then a stray and a copy of the answer, all read
            // before the lookup looks at its inbox.
            for d in [datagram(1, 10), datagram(9, 90), datagram(1, 10)] {
                server.send_to(&d, client).unwrap();
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            let deadline = Instant::now() + std::time::Duration::from_secs(5);
            let mut skipped = Vec::new();
            let got = ticket
                .recv_matching(
                    deadline,
                    |d| match marker(d) {
                        90 => Err(skip("stray")),
                        _ => Ok(()),
                    },
                    |why| skipped.push(why),
                )
                .await
                .unwrap();
            assert_eq!(marker(&got), 10);
            assert_eq!(
                skipped,
                [skip("stray")],
                "the stray is reported, the copy is not"
            );
        });
    }

    #[test]
    fn exchanges_answered_one_by_one_never_count_as_a_burst() {
        local(async {
            let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            let pool = MuxPool::default();
            let peer = server.local_addr().unwrap();
            let deadline = Instant::now() + std::time::Duration::from_secs(5);
            let mut buf = [0u8; 64];
            SENT.set(0);
            // More exchanges than a burst, each answered before the next.
            for id in 0..3 * BURST as u16 {
                let t = pool.register(peer, id).await.unwrap();
                t.send(&datagram(id, 0)).await.unwrap();
                let (_, client) = server.recv_from(&mut buf).unwrap();
                server.send_to(&datagram(id, 1), client).unwrap();
                t.recv_matching(deadline, accept_all, |_| {}).await.unwrap();
                assert!(SENT.get() <= 1, "exchange {id}: {} unanswered", SENT.get());
            }
        });
    }

    #[test]
    fn shared_socket_times_out_and_keeps_the_id_out_of_use() {
        local(async {
            let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            let pool = MuxPool::default();
            let peer = server.local_addr().unwrap();
            let ticket = pool.register(peer, 7).await.unwrap();
            let deadline = Instant::now() + std::time::Duration::from_millis(50);
            let got = ticket.recv_matching(deadline, accept_all, |_| {}).await;
            assert!(matches!(got, Err(QueryError::Timeout)));
            drop(ticket);
            // A retry with the same ID needs a socket of its own.
            assert!(pool.register(peer, 7).await.is_none());
            assert!(pool.register(peer, 8).await.is_some());
        });
    }

    #[test]
    fn a_shared_socket_serves_a_limited_number_of_exchanges_then_closes() {
        local(async {
            let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            let pool = MuxPool::default();
            let peer = server.local_addr().unwrap();
            // One exchange after another, never two at once.
            let first = pool.register(peer, 0).await.unwrap();
            let port = first.local();
            drop(first);
            for id in 1..PER_SOCKET as u16 {
                let t = pool.register(peer, id).await.unwrap();
                assert_eq!(t.local(), port, "exchange {id} shares the socket");
            }
            let next = pool.register(peer, 1000).await.unwrap();
            assert_ne!(next.local(), port, "a fresh port after {PER_SOCKET}");
            assert_eq!(pool.sockets(), 1, "the spent socket is closed");
        });
    }

    #[test]
    fn full_shared_sockets_make_room_on_another() {
        local(async {
            let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            let pool = MuxPool::default();
            let peer = server.local_addr().unwrap();
            let tickets: Vec<Ticket> = {
                let mut v = Vec::new();
                for id in 0..=PER_SOCKET as u16 {
                    v.push(pool.register(peer, id).await.unwrap());
                }
                v
            };
            assert_ne!(tickets[0].local(), tickets[PER_SOCKET].local());
            assert_eq!(tickets[0].local(), tickets[PER_SOCKET - 1].local());
        });
    }

    #[test]
    fn refused_datagrams_fail_every_waiting_exchange() {
        local(async {
            // A port nobody listens on: the kernel answers with ICMP.
            let gone = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            let peer = gone.local_addr().unwrap();
            drop(gone);
            let pool = MuxPool::default();
            let a = pool.register(peer, 1).await.unwrap();
            let b = pool.register(peer, 2).await.unwrap();
            a.send(&datagram(1, 0)).await.unwrap();
            let deadline = Instant::now() + std::time::Duration::from_secs(5);
            for t in [&a, &b] {
                match t.recv_matching(deadline, accept_all, |_| {}).await {
                    Err(QueryError::ConnectionRefused) => {}
                    other => panic!("{other:?}"),
                }
            }
        });
    }

    #[test]
    fn own_socket_reports_every_reply_it_skips() {
        local(async {
            let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            let mut conn = UdpConn::connect(server.local_addr().unwrap())
                .await
                .unwrap();
            conn.send(&datagram(5, 0)).await.unwrap();
            let mut buf = [0u8; 64];
            let (_, client) = server.recv_from(&mut buf).unwrap();
            assert_eq!(client, conn.local);
            for d in [datagram(4, 40), datagram(6, 60), datagram(5, 50)] {
                server.send_to(&d, client).unwrap();
            }
            let mut skipped = Vec::new();
            let deadline = Instant::now() + std::time::Duration::from_secs(5);
            let got = conn
                .recv_matching(
                    deadline,
                    |d| match marker(d) {
                        40 => Err(skip("stale")),
                        60 => Err(skip("wrong")),
                        _ => Ok(()),
                    },
                    |why| skipped.push(why),
                )
                .await
                .unwrap();
            assert_eq!(marker(&got), 50);
            assert_eq!(skipped, [skip("stale"), skip("wrong")]);
        });
    }

    #[test]
    fn a_fast_server_is_polled_and_every_reply_still_checked() {
        local(async {
            let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            let mut conn = UdpConn::connect(server.local_addr().unwrap())
                .await
                .unwrap();
            let deadline = Instant::now() + std::time::Duration::from_secs(5);
            let mut buf = [0u8; 64];
            for round in 0..3u8 {
                conn.send(&datagram(1, round)).await.unwrap();
                let (_, client) = server.recv_from(&mut buf).unwrap();
                for d in [datagram(4, 40), datagram(6, 60), datagram(5, 50 + round)] {
                    server.send_to(&d, client).unwrap();
                }
                let mut skipped = Vec::new();
                let got = conn
                    .recv_matching(
                        deadline,
                        |d| match marker(d) {
                            40 => Err(skip("stale")),
                            60 => Err(skip("wrong")),
                            _ => Ok(()),
                        },
                        |why| skipped.push(why),
                    )
                    .await
                    .unwrap();
                assert_eq!(marker(&got), 50 + round);
                assert_eq!(skipped, [skip("stale"), skip("wrong")]);
            }
            assert!(conn.last_rtt.is_some());
        });
    }

    #[test]
    fn the_next_socket_reuses_the_receive_buffer_and_sees_only_its_datagram() {
        local(async {
            let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            let peer = server.local_addr().unwrap();
            let deadline = Instant::now() + std::time::Duration::from_secs(5);
            let mut buf = [0u8; 2048];
            // A long reply on the first socket, then a short one on the
            // next: the buffer is the same, and only the new bytes count.
            let long = [datagram(1, 10), vec![0xAA; 1000]].concat();
            let mut used = None;
            for reply in [long, datagram(1, 20)] {
                let mut conn = UdpConn::connect(peer).await.unwrap();
                if let Some(ptr) = used {
                    assert_eq!(conn.buf.len(), MAX_DATAGRAM, "taken over, not made");
                    assert_eq!(conn.buf.as_ptr(), ptr);
                }
                conn.send(&datagram(1, 0)).await.unwrap();
                let (_, client) = server.recv_from(&mut buf).unwrap();
                server.send_to(&reply, client).unwrap();
                let got = conn
                    .recv_matching(deadline, accept_all, |_| {})
                    .await
                    .unwrap();
                assert_eq!(got, reply);
                used = Some(conn.buf.as_ptr());
            }
        });
    }
}
