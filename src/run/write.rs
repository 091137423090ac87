//! `--write OUT`: reads dnstap inputs, keeps the exchanges the selection
//! options choose (see [`crate::select`]), optionally scrubs them (see
//! [`crate::scrub`]), and writes them as a new Frame Streams file: START
//! with the dnstap content type, the selected data frames (byte for byte
//! unless scrubbed, so identity, version and every field stay), STOP.
//! OUT is `-` for standard output, else a safe trace file
//! ([`crate::tap::file::TraceFile`]); OUT may not be one of the inputs.

use std::io::{BufWriter, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::error::{exits, Error};
use crate::scrub::Scrubber;
use crate::select::Filter;
use crate::tap::file::TraceFile;
use crate::tap::writer::TapWriter;

use super::source::{FileFrames, Frames, Piece, Save, Scrub, Selected};

/// Passes writes through but makes `flush` a no-op: the trace writer
/// flushes after every frame (right for live recording), which for a file
/// being rewritten would be one system call per frame. The buffer is
/// flushed once at the end.
struct NoFlush<W: Write>(W);

impl<W: Write> Write for NoFlush<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.0.write_all(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What a write run did, for the caller's summary.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WriteReport {
    /// Data frames read.
    pub read: u64,
    /// Data frames written.
    pub written: u64,
    /// Frames or inputs that could not be read, decoded or scrubbed.
    pub lost: u64,
}

/// Refuses an output that is one of the inputs (same file, by device and
/// inode when it exists, else by path).
pub fn check_not_an_input(dest: &Path, files: &[PathBuf]) -> Result<(), Error> {
    if dest.as_os_str() == "-" {
        return Ok(());
    }
    let Ok(out) = std::fs::metadata(dest) else {
        return Ok(());
    };
    for f in files {
        if f.as_os_str() == "-" {
            continue;
        }
        if let Ok(m) = std::fs::metadata(f) {
            if m.dev() == out.dev() && m.ino() == out.ino() {
                return Err(Error::Config(format!(
                    "--write {}: is also an input; write to another file",
                    crate::render::escaped(dest.as_os_str().as_bytes())
                )));
            }
        }
    }
    Ok(())
}

/// Saves every frame `selected` yields with `save`; notes go to `err`.
/// The frames read and written, and whether data was lost.
pub fn save_all<F: Frames>(
    selected: &mut Selected<F>,
    save: &mut dyn Save,
    err: &mut dyn Write,
) -> Result<WriteReport, Error> {
    let mut report = WriteReport::default();
    let mut pieces = Vec::new();
    while selected.next(&mut pieces) {
        for piece in pieces.drain(..) {
            match piece {
                Piece::Frame(_, payload) | Piece::Undecoded(payload) => {
                    save.save(&payload)?;
                    report.written += 1;
                }
                Piece::Note(n) => {
                    let _ = writeln!(err, "{}", n.line);
                    report.lost += u64::from(n.lost);
                }
                Piece::Lost(n) => report.lost += n,
                Piece::Idle => save.release()?,
                Piece::Rotate => save.rotate()?,
            }
        }
    }
    report.read = selected.read;
    Ok(report)
}

/// Reads `files` (`-` is stdin) and writes the selected frames to `out`
/// as a Frame Streams file, scrubbed by `scrub`. Warnings go to `err`;
/// the scrub summary is returned.
pub fn write_frames<W: Write>(
    files: &[PathBuf],
    max_frame: usize,
    filter: Filter,
    scrub: Option<Scrubber>,
    out: W,
    err: &mut dyn Write,
) -> Result<(WriteReport, W, Option<String>), Error> {
    let scrub = scrub.map(|scrubber| Scrub {
        scrubber,
        payload: true,
    });
    let mut selected = Selected::new(FileFrames::new(files, max_frame), filter, scrub);
    let mut writer = TapWriter::new(out)?;
    let report = save_all(&mut selected, &mut writer, err)?;
    let out = writer.finish()?;
    Ok((report, out, selected.scrub_summary()))
}

/// `--write DEST`: [`write_frames`] into DEST (`-`: `stdout`), with the
/// scrub summary on `err`. Exit code 8 when data was lost.
pub fn write_files(
    files: &[PathBuf],
    max_frame: usize,
    filter: Filter,
    scrub: Option<Scrubber>,
    dest: &Path,
    stdout: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, Error> {
    check_not_an_input(dest, files)?;
    let tap_error = |source| Error::Tap {
        path: dest.to_path_buf(),
        source,
    };
    let report = if dest.as_os_str() == "-" {
        // A trace cut short (its reader went away) is an error, as for
        // `--tap -`: unlike text, a cut trace is not what was asked for.
        let (report, out, summary) = write_frames(files, max_frame, filter, scrub, stdout, err)
            .map_err(|e| match e {
                Error::Output(source) => tap_error(source),
                e => e,
            })?;
        out.flush().map_err(tap_error)?;
        (report, summary)
    } else {
        let (trace, file) = TraceFile::create(dest).map_err(tap_error)?;
        let buffered = NoFlush(BufWriter::with_capacity(256 * 1024, file));
        let (report, out, summary) = write_frames(files, max_frame, filter, scrub, buffered, err)
            .map_err(|e| match e {
            Error::Output(source) => tap_error(source),
            e => e,
        })?;
        let mut file = out.0.into_inner().map_err(|e| tap_error(e.into_error()))?;
        file.flush().map_err(tap_error)?;
        trace.commit(true).map_err(tap_error)?;
        (report, summary)
    };
    let (report, summary) = report;
    if let Some(s) = summary {
        let _ = writeln!(err, "{s}");
    }
    Ok(exits::lost_or_ok(report.lost))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tap::reader::{Item as TapItem, ReaderOptions, TapReader};
    use crate::testutil::{corpus_files, events_of};
    use bytes::Bytes;

    fn frames(bytes: &[u8]) -> Vec<Bytes> {
        TapReader::new(bytes, ReaderOptions::default())
            .map_while(Result::ok)
            .filter_map(|i| match i {
                TapItem::Data { payload, .. } => Some(payload),
                TapItem::Warning(_) => None,
            })
            .collect()
    }

    #[test]
    fn an_empty_selection_copies_every_frame_verbatim() {
        for path in corpus_files() {
            let original = std::fs::read(&path).unwrap();
            let mut err = Vec::new();
            let (report, out, _) = write_frames(
                std::slice::from_ref(&path),
                1 << 20,
                Filter::default(),
                None,
                Vec::new(),
                &mut err,
            )
            .unwrap();
            assert_eq!(frames(&out), frames(&original), "{}", path.display());
            assert_eq!(report.read, report.written);
        }
    }

    #[test]
    fn a_selection_keeps_exchanges_whole_and_frames_verbatim() {
        let path = corpus_files()
            .into_iter()
            .max_by_key(|p| events_of(p).len())
            .unwrap();
        let all = frames(&std::fs::read(&path).unwrap());
        let filter =
            Filter::from_pairs([("qtype", "A")], crate::tap::event::Timestamp::default()).unwrap();
        let mut err = Vec::new();
        let (report, out, _) = write_frames(
            std::slice::from_ref(&path),
            1 << 20,
            filter,
            None,
            Vec::new(),
            &mut err,
        )
        .unwrap();
        let kept = frames(&out);
        assert_eq!(kept.len() as u64, report.written);
        assert!(
            !kept.is_empty() && kept.len() < all.len(),
            "{} of {}",
            kept.len(),
            all.len()
        );
        for f in &kept {
            assert!(all.contains(f), "a frame was changed");
        }
    }

    #[test]
    fn the_output_may_not_be_an_input() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.fstrm");
        std::fs::write(&input, b"x").unwrap();
        let link = dir.path().join("link.fstrm");
        std::fs::hard_link(&input, &link).unwrap();
        assert!(check_not_an_input(&link, std::slice::from_ref(&input)).is_err());
        assert!(check_not_an_input(&input, std::slice::from_ref(&input)).is_err());
        assert!(check_not_an_input(&dir.path().join("new"), std::slice::from_ref(&input)).is_ok());
        assert!(check_not_an_input(Path::new("-"), &[input]).is_ok());
    }
}
