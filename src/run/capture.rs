//! `--write FILE` of the collector: the frames received, verbatim, in a
//! Frame Streams file (START first, STOP last), with rotation by size, by
//! time (on the wall clock: a file per interval, cut at multiples of it)
//! and on demand (SIGUSR1), strftime-style names (`cap-%Y%m%d-%H%M%S.fstrm`)
//! and keeping only the last N files. Each file is written through
//! [`TraceFile`]: a temporary file renamed into place only once complete
//! with its STOP frame, so a reader never sees half a file.
//!
//! It owns the file names and the file work of a capture; it must not
//! decode frames or know about sockets.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::Error;
use crate::tap::file::TraceFile;
use crate::tap::writer::TapWriter;

/// Bytes written out at a time.
const CHUNK: usize = 64 * 1024;

/// When to start a new file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rotation {
    /// Once a file holds this many bytes.
    pub size: Option<u64>,
    /// At every multiple of this interval on the wall clock.
    pub interval: Option<Duration>,
    /// Keep only the last N files this run wrote (older ones are removed).
    pub keep: Option<usize>,
}

impl Rotation {
    /// Whether any rotation was asked for.
    pub fn is_on(&self) -> bool {
        self.size.is_some() || self.interval.is_some()
    }
}

/// A writer that buffers and writes out only when told ([`Lazy::release`]):
/// `TapWriter` flushes after every frame, which would cost a system call
/// per frame here.
struct Lazy {
    inner: std::io::BufWriter<std::fs::File>,
}

impl Write for Lazy {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.inner.write(data)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Lazy {
    fn release(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// One capture file being written.
struct File {
    path: PathBuf,
    writer: TapWriter<Lazy>,
    trace: TraceFile,
    /// The file itself, to cut back to [`File::durable`] after a failed
    /// write ([`File::salvage`]).
    raw: std::fs::File,
    /// Bytes known to be in the file whole (as of the last release).
    durable: u64,
}

impl File {
    fn create(path: &Path) -> Result<File, Error> {
        let tap_err = |source| Error::Tap {
            path: path.to_owned(),
            source,
        };
        let (trace, file) = TraceFile::create(path).map_err(tap_err)?;
        let raw = file.try_clone().map_err(tap_err)?;
        let lazy = Lazy {
            inner: std::io::BufWriter::with_capacity(CHUNK, file),
        };
        let writer = TapWriter::new(lazy).map_err(tap_err)?;
        let mut file = File {
            path: path.to_owned(),
            writer,
            trace,
            raw,
            durable: 0,
        };
        // START goes out now: whatever fails later, the file kept opens
        // as a stream should.
        file.release().map_err(tap_err)?;
        Ok(file)
    }

    /// Writes out what is buffered; what is out is then whole in the file.
    fn release(&mut self) -> std::io::Result<()> {
        if let Some(w) = self.writer.get_mut() {
            w.release()?;
        }
        self.durable = self.writer.offset();
        Ok(())
    }

    /// After a failed write (a full disk): keeps what was written whole
    /// ([`keep_whole`]). The bytes kept.
    fn salvage(self) -> std::io::Result<u64> {
        let File {
            writer,
            trace,
            raw,
            durable,
            ..
        } = self;
        // Whatever the buffer still writes on the way out is cut off.
        drop(writer);
        keep_whole(trace, raw, durable)
    }

    /// STOP, everything out, and the file in place (even when it holds no
    /// frame: a capture that got nothing is still a valid file). If that
    /// fails, what was written whole is kept ([`keep_whole`]).
    fn finish(self) -> Result<PathBuf, Error> {
        let File {
            path,
            writer,
            trace,
            raw,
            durable,
        } = self;
        let tap = |source| Error::Tap {
            path: path.clone(),
            source,
        };
        match writer.finish().and_then(|mut l| l.release()) {
            Ok(()) => trace.commit(true).map_err(tap)?,
            Err(source) => return Err(tap(kept_note(source, keep_whole(trace, raw, durable)))),
        }
        Ok(path)
    }
}

/// Cuts a capture file back to `durable` bytes (what was written whole),
/// closes it with STOP (if even that cannot be written, a reader still
/// takes every frame and warns of the missing STOP) and puts it in place.
/// The bytes kept.
fn keep_whole(trace: TraceFile, mut raw: std::fs::File, durable: u64) -> std::io::Result<u64> {
    use std::io::{Seek, SeekFrom};
    raw.set_len(durable)?;
    raw.seek(SeekFrom::Start(durable))?;
    let mut stop = bytes::BytesMut::new();
    if crate::tap::frame::encode_control(&crate::tap::frame::Control::stop(), &mut stop).is_ok()
        && raw.write_all(&stop).is_err()
    {
        let _ = raw.set_len(durable);
    }
    trace.commit(true)?;
    Ok(durable)
}

/// The write error, saying what was kept of the file.
fn kept_note(source: std::io::Error, kept: std::io::Result<u64>) -> std::io::Error {
    match kept {
        Ok(kept) => std::io::Error::new(
            source.kind(),
            format!(
                "{source}; the {kept} bytes written whole before it are kept there, closed with STOP"
            ),
        ),
        Err(_) => source,
    }
}

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Expands a strftime-style template in local time (the C library's
/// strftime, as `;; WHEN:` uses); the path as it is when it has no `%`.
pub fn expand(template: &Path, t: i64) -> Result<PathBuf, String> {
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    let bytes = template.as_os_str().as_bytes();
    if !bytes.contains(&b'%') {
        return Ok(template.to_owned());
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| "a --write name with % must be UTF-8 text".to_owned())?;
    let c = std::ffi::CString::new(text)
        .map_err(|_| "a --write name cannot contain a NUL byte".to_owned())?;
    let out = crate::sys::strftime_local(t, &c)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            format!(
                "cannot expand the --write pattern {}",
                crate::render::escaped(text.as_bytes())
            )
        })?;
    // A specifier that makes a '/' (%D, %x, %c in some locales) would put
    // the file in a directory of the date's name.
    if out.matches('/').count() != text.matches('/').count() {
        return Err(format!(
            "the --write pattern {} makes a '/' from a % specifier (such as %D); use %Y-%m-%d",
            crate::render::escaped(text.as_bytes())
        ));
    }
    Ok(PathBuf::from(std::ffi::OsString::from_vec(
        out.into_bytes(),
    )))
}

/// The `--write` capture: the current file, and what rotation needs.
pub struct Capture {
    template: PathBuf,
    rotation: Rotation,
    current: Option<File>,
    /// Files this run completed, oldest first (for `keep`).
    done: std::collections::VecDeque<PathBuf>,
    /// The last file reached the size limit and was closed: the next
    /// frame opens the next one (a file is not made before a frame needs
    /// it, so the run does not end on an empty one).
    full: bool,
}

impl Capture {
    /// Opens the first file (its name expanded now). A bad template or an
    /// unwritable place fails here, before anything is received.
    pub fn create(template: &Path, rotation: Rotation) -> Result<Capture, Error> {
        let mut c = Capture {
            template: template.to_owned(),
            rotation,
            current: None,
            done: std::collections::VecDeque::new(),
            full: false,
        };
        c.open(true)?;
        Ok(c)
    }

    /// A name for the next file: the template expanded now. The first
    /// file replaces what is there, as `--tap` does; a later one (a
    /// rotation) never takes a name that exists or that this run wrote (a
    /// `.1`, `.2`, … is added).
    fn next_name(&self, first: bool) -> Result<PathBuf, Error> {
        let name = expand(&self.template, unix_now()).map_err(Error::Config)?;
        if first {
            return Ok(name);
        }
        let taken = |p: &Path| self.done.iter().any(|d| d == p) || p.exists();
        if !taken(&name) {
            return Ok(name);
        }
        for n in 1u32.. {
            let mut s = name.clone().into_os_string();
            s.push(format!(".{n}"));
            let p = PathBuf::from(s);
            if !taken(&p) {
                return Ok(p);
            }
        }
        Ok(name)
    }

    fn open(&mut self, first: bool) -> Result<(), Error> {
        let name = self.next_name(first)?;
        self.current = Some(File::create(&name)?);
        Ok(())
    }

    /// Writes one frame; its offset in the current file.
    pub fn write(&mut self, payload: &[u8]) -> Result<Option<u64>, Error> {
        if self.full {
            self.full = false;
            self.open(false)?;
        }
        let Some(f) = self.current.as_mut() else {
            return Ok(None);
        };
        let at = f.writer.offset();
        if let Err(source) = f.writer.write_payload(payload) {
            return Err(self.salvaged(source));
        }
        if self
            .rotation
            .size
            .is_some_and(|max| f.writer.offset() >= max)
        {
            self.close_current()?;
            self.full = true;
        }
        Ok(Some(at))
    }

    /// Writes out what is buffered.
    pub fn release(&mut self) -> Result<(), Error> {
        if let Some(f) = self.current.as_mut() {
            if let Err(source) = f.release() {
                return Err(self.salvaged(source));
            }
        }
        Ok(())
    }

    /// The error of a failed write to the current file, after keeping what
    /// was written whole (see [`File::salvage`]); the capture writes no
    /// more.
    fn salvaged(&mut self, source: std::io::Error) -> Error {
        let Some(f) = self.current.take() else {
            return Error::Internal(source.to_string());
        };
        let path = f.path.clone();
        Error::Tap {
            path,
            source: kept_note(source, f.salvage()),
        }
    }

    /// Closes the current file (STOP, renamed into place) and starts the
    /// next; the oldest files beyond `keep` go.
    pub fn rotate(&mut self) -> Result<(), Error> {
        self.full = false;
        self.close_current()?;
        self.open(false)
    }

    fn close_current(&mut self) -> Result<(), Error> {
        if let Some(f) = self.current.take() {
            let path = f.finish()?;
            self.done.push_back(path);
        }
        if let Some(keep) = self.rotation.keep {
            while self.done.len() > keep {
                if let Some(old) = self.done.pop_front() {
                    let _ = std::fs::remove_file(old);
                }
            }
        }
        Ok(())
    }

    /// Closes the last file.
    pub fn finish(&mut self) -> Result<(), Error> {
        self.close_current()
    }

    /// The files completed so far, oldest first.
    pub fn completed(&self) -> impl Iterator<Item = &Path> {
        self.done.iter().map(PathBuf::as_path)
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        // A backstop for early returns: the file is still completed.
        let _ = self.close_current();
    }
}

/// How long from `now` (seconds and nanoseconds since the epoch) to the
/// next multiple of `interval` on the wall clock.
pub fn until_boundary(now: Duration, interval: Duration) -> Duration {
    let step = interval.as_nanos().max(1);
    let now = now.as_nanos();
    let next = (now / step + 1) * step;
    Duration::from_nanos(u64::try_from(next - now).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tap::reader::{Item, ReaderOptions, TapReader, TapWarning};

    fn frames_of(path: &Path) -> (usize, bool) {
        let bytes = std::fs::read(path).unwrap();
        let mut r = TapReader::new(&bytes[..], ReaderOptions::default());
        let mut n = 0;
        let mut stop = true;
        while let Some(item) = r.next_item().unwrap() {
            match item {
                Item::Data { .. } => n += 1,
                Item::Warning(TapWarning::MissingStop { .. }) => stop = false,
                Item::Warning(w) => panic!("{w}"),
            }
        }
        (n, stop)
    }

    #[test]
    fn size_rotation_makes_complete_files_and_keeps_the_last_n() {
        let dir = tempfile::tempdir().unwrap();
        let template = dir.path().join("cap.fstrm");
        let rotation = Rotation {
            size: Some(500),
            keep: Some(3),
            ..Rotation::default()
        };
        let mut c = Capture::create(&template, rotation).unwrap();
        for _ in 0..40 {
            c.write(&[7u8; 100]).unwrap();
        }
        c.finish().unwrap();
        let kept: Vec<PathBuf> = c.completed().map(Path::to_owned).collect();
        assert_eq!(kept.len(), 3, "{kept:?}");
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        let mut want = kept.clone();
        want.sort();
        assert_eq!(names, want, "older files removed, no temporary left");
        // 40 frames, 5 a file: the last file is full, and no empty one
        // follows it.
        for p in &kept {
            // 4 frames of 104 bytes reach 500 bytes after START's 42.
            assert_eq!(frames_of(p), (5, true), "{}", p.display());
        }
    }

    #[test]
    fn rotated_names_come_from_the_template_and_never_clash() {
        let dir = tempfile::tempdir().unwrap();
        let template = dir.path().join("cap-%Y.fstrm");
        let mut c = Capture::create(
            &template,
            Rotation {
                size: Some(1),
                ..Rotation::default()
            },
        )
        .unwrap();
        for _ in 0..3 {
            c.write(b"x").unwrap();
        }
        c.finish().unwrap();
        let year = crate::sys::strftime_local(unix_now(), c"%Y").unwrap();
        let names: Vec<String> = c
            .completed()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names[0], format!("cap-{year}.fstrm"));
        assert_eq!(names[1], format!("cap-{year}.fstrm.1"));
        assert_eq!(names[2], format!("cap-{year}.fstrm.2"));
        assert_eq!(names.len(), 3, "no empty file after the last frame");
    }

    #[test]
    fn expand_refuses_a_specifier_that_makes_a_slash() {
        let e = expand(Path::new("dir/cap-%D.fstrm"), 0).unwrap_err();
        assert!(e.contains("makes a '/'"), "{e}");
        assert!(expand(Path::new("dir/cap-%Y-%m-%d.fstrm"), 0).is_ok());
    }

    #[test]
    fn expand_fills_in_the_time_and_refuses_nul() {
        assert_eq!(
            expand(Path::new("plain.fstrm"), 0).unwrap(),
            PathBuf::from("plain.fstrm")
        );
        // 2001-09-09 01:46:40 UTC: the date depends on TZ, the year not.
        let got = expand(Path::new("/d/cap-%Y.fstrm"), 1_000_000_000).unwrap();
        assert_eq!(got, PathBuf::from("/d/cap-2001.fstrm"));
        use std::os::unix::ffi::OsStrExt;
        let nul = std::ffi::OsStr::from_bytes(b"a%Y\0b");
        assert!(expand(Path::new(nul), 0).is_err());
    }

    #[test]
    fn boundaries_are_multiples_of_the_interval() {
        let h = Duration::from_secs(3600);
        assert_eq!(until_boundary(Duration::from_secs(7200), h), h);
        assert_eq!(
            until_boundary(Duration::from_secs(7201), h),
            Duration::from_secs(3599)
        );
        assert_eq!(
            until_boundary(Duration::new(10, 500_000_000), Duration::from_secs(1)),
            Duration::from_millis(500)
        );
    }
}
