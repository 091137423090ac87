//! [`Chunked`]: a writer that gathers output and writes it in large pieces
//! (every [`CHUNK`] bytes and whenever its owner calls
//! [`Chunked::release`]), or writes straight through when `eager`. It owns
//! no policy about *when* to release: the text output and the trace writer
//! decide that (at lookup boundaries, when the run waits, on signals, at
//! the end).
//!
//! `flush`, which the printer and the frame writer call after every piece,
//! does nothing while gathering, so those callers need not know.

use std::io::{self, Write};

use crate::error::copy_io_error;

/// How many bytes are gathered at most before they are written out.
pub const CHUNK: usize = 64 * 1024;

/// See the module documentation. A write error is kept and returned again
/// by every later write, so it surfaces on the path that would have met it
/// without the gathering. Dropping it writes out what is left.
#[derive(Debug)]
pub struct Chunked<W: Write> {
    inner: W,
    buf: Vec<u8>,
    eager: bool,
    failed: Option<io::Error>,
}

impl<W: Write> Chunked<W> {
    /// Gathers output for `inner`; `eager`: writes straight through.
    pub fn new(inner: W, eager: bool) -> Chunked<W> {
        Chunked {
            inner,
            buf: Vec::new(),
            eager,
            failed: None,
        }
    }

    /// Whether something is gathered and not yet written.
    pub fn holds(&self) -> bool {
        !self.buf.is_empty()
    }

    /// Writes out what is gathered, and flushes `inner`.
    pub fn release(&mut self) -> io::Result<()> {
        if let Some(e) = &self.failed {
            return Err(copy_io_error(e));
        }
        let written = if self.buf.is_empty() {
            Ok(())
        } else {
            let r = self.inner.write_all(&self.buf);
            self.buf.clear();
            r
        };
        let result = written.and_then(|()| self.inner.flush());
        if let Err(e) = &result {
            self.failed = Some(copy_io_error(e));
        }
        result
    }
}

impl<W: Write> Drop for Chunked<W> {
    /// A backstop for early returns: what is gathered still goes out.
    fn drop(&mut self) {
        let _ = self.release();
    }
}

impl<W: Write> Write for Chunked<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if let Some(e) = &self.failed {
            return Err(copy_io_error(e));
        }
        if self.eager {
            return self.inner.write(data);
        }
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.release()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.eager {
            self.inner.flush()
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that counts its writes and flushes, and can be made to fail.
    #[derive(Default)]
    struct Probe {
        data: Vec<u8>,
        writes: usize,
        flushes: usize,
        fail: bool,
    }

    impl Write for &mut Probe {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.fail {
                return Err(io::Error::from_raw_os_error(libc::EPIPE));
            }
            self.writes += 1;
            self.data.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            self.flushes += 1;
            Ok(())
        }
    }

    #[test]
    fn gathered_output_goes_out_in_pieces_and_keeps_its_error() {
        let mut probe = Probe::default();
        {
            let mut held = Chunked::new(&mut probe, false);
            for _ in 0..10 {
                held.write_all(b"line\n").unwrap();
                held.flush().unwrap();
            }
            assert!(held.holds());
            held.release().unwrap();
            assert!(!held.holds());
            held.write_all(b"last\n").unwrap();
        }
        assert_eq!(probe.writes, 2, "one write per release");
        assert_eq!(probe.data.len(), 55);
        // A big piece goes out at once.
        let mut held = Chunked::new(&mut probe, false);
        held.write_all(&vec![b'x'; CHUNK]).unwrap();
        assert!(!held.holds());
        drop(held);
        assert_eq!(probe.writes, 3);
        // An error stays: every later write and release reports it.
        probe.fail = true;
        let mut held = Chunked::new(&mut probe, false);
        held.write_all(b"x").unwrap();
        assert!(held.release().is_err());
        held.inner.fail = false;
        let e = held.write_all(b"y").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::BrokenPipe);
        assert!(held.release().is_err());
    }

    #[test]
    fn eager_output_is_the_plain_writer() {
        let mut probe = Probe::default();
        let mut held = Chunked::new(&mut probe, true);
        held.write_all(b"a").unwrap();
        held.flush().unwrap();
        drop(held);
        assert_eq!(probe.writes, 1);
        assert!(probe.flushes >= 1);
    }
}
