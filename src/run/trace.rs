//! [`Trace`]: the `--tap` output of a live run, a file ([`TraceFile`]
//! decides where its bytes go and how they reach the path) or stdout
//! (`--tap -`). It owns the trace's flush policy: frames are gathered
//! ([`Chunked`]) and written out when [`Trace::release`] is called (the
//! run calls it when a lookup ends and whenever it waits on the network,
//! on signals and at the end), and whenever [`CHUNK`](super::chunked::CHUNK)
//! bytes have gathered; always before the trace is committed.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::tap::event::Event;
use crate::tap::file::TraceFile;
use crate::tap::writer::TapWriter;

use super::chunked::Chunked;

/// The trace being written; see the module documentation. Dropping it
/// without [`Trace::finish`] still finishes it (a backstop for early
/// returns: whatever was recorded is kept).
pub struct Trace<'a> {
    writer: Option<TapWriter<Chunked<Box<dyn Write + 'a>>>>,
    /// None for stdout, and once committed.
    file: Option<TraceFile>,
    /// `-` for stdout.
    path: PathBuf,
}

impl<'a> Trace<'a> {
    /// The trace file at `path`, opened before anything is sent so that a
    /// bad path fails early. Warns on `err` about temporary files that
    /// killed runs left beside it.
    pub fn create(path: &Path, err: &mut dyn Write) -> Result<Trace<'a>, Error> {
        for line in crate::tap::file::stale_leftovers(path) {
            let _ = writeln!(err, "{line}");
        }
        let (trace, file) = TraceFile::create(path).map_err(|source| Error::Tap {
            path: path.to_owned(),
            source,
        })?;
        let boxed: Box<dyn Write + 'a> = Box::<File>::new(file);
        Trace::start(boxed, Some(trace), path.to_owned())
    }

    /// The trace on stdout (`--tap -`).
    pub fn stdout(out: &'a mut dyn Write) -> Result<Trace<'a>, Error> {
        Trace::start(Box::new(out), None, PathBuf::from("-"))
    }

    fn start(
        inner: Box<dyn Write + 'a>,
        file: Option<TraceFile>,
        path: PathBuf,
    ) -> Result<Trace<'a>, Error> {
        let writer = TapWriter::new(Chunked::new(inner, false)).map_err(|source| Error::Tap {
            path: path.clone(),
            source,
        })?;
        Ok(Trace {
            writer: Some(writer),
            file,
            path,
        })
    }

    fn error(&self, source: std::io::Error) -> Error {
        Error::Tap {
            path: self.path.clone(),
            source,
        }
    }

    /// Records `event`; returns where its frame starts in the trace (what
    /// `--read` will report as its offset).
    pub fn record(&mut self, event: &Event) -> Result<Option<u64>, Error> {
        let Some(writer) = self.writer.as_mut() else {
            return Ok(None);
        };
        let at = writer.offset();
        match writer.write(&event.to_pb()) {
            Ok(()) => Ok(Some(at)),
            Err(e) => Err(self.error(e)),
        }
    }

    /// Writes out the frames gathered so far. An error is kept and
    /// reported by the next record or by [`Trace::finish`].
    pub fn release(&mut self) {
        if let Some(chunked) = self.writer.as_mut().and_then(TapWriter::get_mut) {
            if chunked.holds() {
                let _ = chunked.release();
            }
        }
    }

    /// Writes STOP and what is gathered, and commits the trace (a run that
    /// recorded nothing leaves the path as it was).
    pub fn finish(&mut self) -> Result<(), Error> {
        let Some(writer) = self.writer.take() else {
            return Ok(());
        };
        let recorded = writer.frames_written() > 0;
        // No fsync: the promise is a complete file after errors and signals,
        // not after a power cut, and a sync would cost more than the query.
        // Should the file not be completed (disk full, size limit), the
        // temporary file goes and any earlier trace stays untouched.
        let file = self.file.take();
        let done = writer
            .finish()
            .and_then(|mut chunked| chunked.release())
            .and_then(|()| file.map_or(Ok(()), |t| t.commit(recorded)));
        done.map_err(|e| self.error(e))
    }
}

impl Drop for Trace<'_> {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}
