//! The UDP window's sockets: up to `+parallel` queries to one server in
//! flight on a few shared sockets, sent and received in batches
//! (sendmmsg/recvmmsg, [`crate::sys`]) by whoever polls the window, with
//! no task, future or buffer per query. What goes on which socket, which
//! datagram answers which query, the deadlines and the tries are the
//! book's ([`super::window::Book`]); this side only does the system calls
//! and the waiting. `--replay` sends its UDP queries through it: the lookup
//! driver's task per query cost it half its speed (BENCHMARKS.md).

use std::future::Future;
use std::os::fd::AsFd;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::error::QueryError;
use super::lookup::now as wall_now;
use super::udp::{is_icmp, Socket};
use super::window::{Assign, Book, Done, Settings};
use crate::sys::{recv_datagrams, send_datagrams, BATCH_MAX};

/// Room for one datagram in the receive buffer: the largest there is.
const SLOT: usize = 1 << 16;

/// Datagrams one receive call takes at most.
const RECV_BATCH: usize = 32;

/// Receive calls per socket in one turn at most: a server flooding a
/// socket cannot keep the window reading it, past its deadlines.
const RECVS_PER_TURN: usize = 4;

/// Turns of [`UdpWindow::poll_done`] before it lets the runtime run the
/// rest of the program (the run's loop, signals) even when there is more
/// to do at once.
const TURNS: usize = 16;

/// How long to wait before sending again when the kernel took only part
/// of a batch (its queue for the socket was full).
const SEND_RETRY: Duration = Duration::from_millis(1);

/// Queries to one server, many at once: see the module's documentation.
/// Needs a tokio runtime with I/O and time enabled.
pub struct UdpWindow {
    book: Book,
    socks: Vec<(u64, Socket)>,
    next_serial: u64,
    buf: Vec<u8>,
    lens: [usize; RECV_BATCH],
    keys: Vec<usize>,
    sleep: Pin<Box<tokio::time::Sleep>>,
    armed: Option<Instant>,
    /// The kernel took part of a batch only: the rest goes at this time.
    send_again: Option<Instant>,
}

impl UdpWindow {
    pub fn new(settings: Settings) -> UdpWindow {
        UdpWindow {
            book: Book::new(settings),
            socks: Vec::new(),
            next_serial: 0,
            buf: Vec::new(),
            lens: [0; RECV_BATCH],
            keys: Vec::with_capacity(BATCH_MAX),
            sleep: Box::pin(tokio::time::sleep(Duration::ZERO)),
            armed: None,
            send_again: None,
        }
    }

    /// Queries not done yet.
    pub fn live(&self) -> usize {
        self.book.live()
    }

    /// Adds a query; it goes out at the next poll. Its ID is the window's.
    pub fn start(&mut self, tag: u64, query: Vec<u8>) {
        self.book.push(tag, query);
    }

    /// The next query done.
    pub async fn next_done(&mut self) -> Done {
        std::future::poll_fn(|cx| self.poll_done(cx)).await
    }

    /// Sends what is queued, takes what came, ends the tries that are out
    /// of time; ready with the next query done.
    pub fn poll_done(&mut self, cx: &mut Context<'_>) -> Poll<Done> {
        for _ in 0..TURNS {
            if let Some(done) = self.book.take_done() {
                return Poll::Ready(done);
            }
            let now = Instant::now();
            if self.send_again.is_none_or(|t| now >= t) {
                self.send_again = None;
                self.send(now);
            }
            let unread = self.receive(cx);
            self.book.expire(now);
            while let Some(serial) = self.book.spent_socket() {
                self.socks.retain(|(s, _)| *s != serial);
            }
            if unread || self.book.has_done() || (self.book.queued() && self.send_again.is_none()) {
                continue;
            }
            let next = match (self.book.next_deadline(), self.send_again) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if let Some(t) = next {
                if self.armed != Some(t) {
                    self.sleep.as_mut().reset(t.into());
                    self.armed = Some(t);
                }
                if self.sleep.as_mut().poll(cx).is_ready() {
                    self.armed = None;
                    continue;
                }
            }
            return Poll::Pending;
        }
        // Busy all along: the rest of the program gets a turn, and this
        // one comes back at once.
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// Sends the queries queued, a batch per socket.
    fn send(&mut self, now: Instant) {
        let mut rng = rand::random::<u16>;
        loop {
            match self.book.assign(BATCH_MAX, &mut self.keys, &mut rng) {
                Assign::Idle => return,
                Assign::NeedSocket => match Socket::bind_connected(self.book.server()) {
                    Ok((sock, local)) => {
                        let serial = self.next_serial;
                        self.next_serial += 1;
                        self.book.opened(serial, local);
                        self.socks.push((serial, sock));
                    }
                    Err(e) => {
                        // A try failed; the next waits a little (a
                        // lasting error, such as no descriptors left,
                        // must not be tried again in a loop).
                        self.book.cannot_open(&QueryError::from(e));
                        self.send_again = Some(now + SEND_RETRY);
                        return;
                    }
                },
                Assign::Ready(serial) => {
                    let Some((_, sock)) = self.socks.iter().find(|(s, _)| *s == serial) else {
                        let keys = std::mem::take(&mut self.keys);
                        let gone = QueryError::from(std::io::Error::from(
                            std::io::ErrorKind::NotConnected,
                        ));
                        self.book.not_sent(&keys, Some(&gone), now);
                        self.book.socket_failed(serial, &gone);
                        self.keys = keys;
                        continue;
                    };
                    let msgs: Vec<&[u8]> =
                        self.keys.iter().map(|k| self.book.message(*k)).collect();
                    let wall = wall_now();
                    let got = send_datagrams(sock.fd().as_fd(), &msgs);
                    drop(msgs);
                    let keys = std::mem::take(&mut self.keys);
                    match got {
                        Ok(n) => {
                            self.book.sent(&keys[..n], now, wall);
                            if n < keys.len() {
                                self.book.not_sent(&keys[n..], None, now);
                                self.send_again = Some(now + SEND_RETRY);
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                            self.book.not_sent(&keys, None, now);
                            self.send_again = Some(now + SEND_RETRY);
                        }
                        // An ICMP error the socket had pending (from an
                        // earlier datagram): the tries waiting there end,
                        // as on a receive, nothing more goes out on it,
                        // and this batch, which did not go, goes again on
                        // a fresh socket.
                        Err(e) if is_icmp(&e) => {
                            self.book.not_sent(&keys, None, now);
                            self.book.socket_failed(serial, &QueryError::from(e));
                            self.send_again = Some(now + SEND_RETRY);
                        }
                        // Any other error is the first query's own (too
                        // big, refused by a firewall): its try fails, the
                        // others go again, and the socket is kept. The
                        // turn ends: a lasting error fails one try a turn.
                        Err(e) => {
                            self.book.not_sent(&keys, Some(&QueryError::from(e)), now);
                            self.send_again = Some(now + SEND_RETRY);
                        }
                    }
                    self.keys = keys;
                    if self.send_again.is_some() {
                        return;
                    }
                }
            }
        }
    }

    /// Takes the datagrams (and errors) waiting on every socket, and asks
    /// the runtime to wake `cx` when more come. True when a socket may
    /// hold more already: it was not read to the end (a part batch, whose
    /// rest is read at the next turn, after the sends; or
    /// [`RECVS_PER_TURN`] full ones), and the runtime will not say so.
    fn receive(&mut self, cx: &mut Context<'_>) -> bool {
        if self.buf.is_empty() {
            self.buf = vec![0; SLOT * RECV_BATCH];
        }
        let Self {
            book,
            socks,
            buf,
            lens,
            ..
        } = self;
        let mut unread = false;
        for (serial, sock) in socks.iter() {
            let fd = sock.fd();
            // An ICMP error makes the socket report EPOLLERR alone, which
            // the runtime gives as write readiness (closed), never as read
            // readiness: the error is read from there, and the socket takes
            // no more queries.
            let retired = book.retired(*serial);
            if let (false, Poll::Ready(Ok(_))) = (retired, fd.poll_write_ready(cx)) {
                match recv_datagrams(fd.get_ref().as_fd(), buf, SLOT, lens) {
                    Ok(n) => feed(book, *serial, buf, &lens[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(e) => book.socket_failed(*serial, &QueryError::from(e)),
                }
                book.retire(*serial);
            }
            let mut reads = 0;
            loop {
                if reads == RECVS_PER_TURN {
                    unread = true;
                    break;
                }
                reads += 1;
                let mut ready = match fd.poll_read_ready(cx) {
                    Poll::Pending => break,
                    Poll::Ready(Ok(r)) => r,
                    Poll::Ready(Err(e)) => {
                        book.socket_failed(*serial, &QueryError::from(e));
                        break;
                    }
                };
                match recv_datagrams(fd.get_ref().as_fd(), buf, SLOT, lens) {
                    Ok(n) => {
                        feed(book, *serial, buf, &lens[..n]);
                        // A part batch: the rest is read at the next turn
                        // (readiness stays set), after the sends.
                        if n < RECV_BATCH {
                            unread = true;
                            break;
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => ready.clear_ready(),
                    Err(e) => {
                        book.socket_failed(*serial, &QueryError::from(e));
                        break;
                    }
                }
            }
        }
        unread
    }
}

/// Hands the datagrams received on socket `serial` to the book.
fn feed(book: &mut Book, serial: u64, buf: &[u8], lens: &[usize]) {
    if lens.is_empty() {
        return;
    }
    let wall = wall_now();
    for (i, len) in lens.iter().enumerate() {
        if let Some(d) = buf.get(i * SLOT..i * SLOT + len) {
            book.datagram(serial, d, wall);
        }
    }
}
