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

use bytes::Bytes;

use crate::error::{exits, Error};
use crate::scrub::Scrubber;
use crate::select::{Filter, Selector};
use crate::tap::event::Event;
use crate::tap::file::TraceFile;
use crate::tap::reader::{Item as TapItem, ReaderOptions, TapReader, TapWarning};
use crate::tap::writer::TapWriter;

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
    /// True when some input could not be read or decoded.
    pub lost: bool,
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

/// The selection stage and the writer, for one output stream.
struct Stage<'a, W: Write> {
    selector: Selector<(Event, Bytes)>,
    scrub: Option<&'a mut Scrubber>,
    writer: TapWriter<W>,
    selected: Vec<(Event, Bytes)>,
    report: WriteReport,
}

impl<W: Write> Stage<'_, W> {
    fn push(&mut self, event: Event, payload: Bytes, err: &mut dyn Write) -> std::io::Result<()> {
        self.selector.push((event, payload), &mut self.selected);
        for (event, payload) in self.selected.drain(..) {
            match self.scrub.as_deref_mut() {
                None => self.writer.write_payload(&payload)?,
                Some(s) => match s.scrub_payload(&payload) {
                    Ok(clean) => self.writer.write_payload(&clean)?,
                    Err(e) => {
                        let at = event.offset.unwrap_or(0);
                        let _ = writeln!(err, ";; WARNING: frame at byte {at} left out: {e}");
                        self.report.lost = true;
                        continue;
                    }
                },
            }
            self.report.written += 1;
        }
        Ok(())
    }
}

/// Reads `files` (`-` is stdin) and writes the selected frames to `out`
/// as a Frame Streams file. Warnings go to `err`.
pub fn write_frames<W: Write>(
    files: &[PathBuf],
    max_frame: usize,
    filter: Filter,
    scrub: Option<&mut Scrubber>,
    out: W,
    err: &mut dyn Write,
) -> Result<(WriteReport, W), Error> {
    let mut stage = Stage {
        selector: Selector::new(filter),
        scrub,
        writer: TapWriter::new(out)?,
        selected: Vec::new(),
        report: WriteReport::default(),
    };
    for path in files {
        let name = crate::render::escaped(path.as_os_str().as_bytes());
        let (input, len) = match super::open_input(path) {
            Ok(opened) => opened,
            Err(e) => {
                let _ = writeln!(err, "qtap: cannot open {name}: {e}");
                stage.report.lost = true;
                continue;
            }
        };
        let mut reader = TapReader::new(
            input,
            ReaderOptions {
                max_data: max_frame,
            },
        );
        let mut progress = super::progress::Progress::new(len, &name);
        loop {
            match reader.next_item() {
                Ok(None) => break,
                Ok(Some(TapItem::Data { offset, payload })) => {
                    progress.frame(reader.position());
                    stage.report.read += 1;
                    // Its own copy: a waiting query must not pin the
                    // reader's buffer.
                    let payload = Bytes::copy_from_slice(&payload);
                    match Event::from_payload(Some(offset), payload.clone()) {
                        Ok(event) => stage.push(event, payload, err)?,
                        Err(e) => {
                            let _ = writeln!(
                                err,
                                ";; WARNING: {name}: frame at byte {offset} left out: {e}"
                            );
                            stage.report.lost = true;
                        }
                    }
                }
                Ok(Some(TapItem::Warning(w))) => {
                    let _ = writeln!(err, ";; WARNING: {name}: {w}");
                    if matches!(
                        w,
                        TapWarning::Oversize { .. } | TapWarning::TrailingBytes { .. }
                    ) {
                        stage.report.lost = true;
                    }
                }
                Err(e) => {
                    let _ = writeln!(err, "qtap: {name}: {e}");
                    stage.report.lost = true;
                    break;
                }
            }
        }
    }
    let Stage { writer, report, .. } = stage;
    let out = writer.finish()?;
    Ok((report, out))
}

/// `--write DEST`: [`write_frames`] into DEST (`-`: `stdout`), with the
/// scrub summary on `err`. Exit code 8 when data was lost.
pub fn write_files(
    files: &[PathBuf],
    max_frame: usize,
    filter: Filter,
    mut scrub: Option<Scrubber>,
    dest: &Path,
    stdout: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, Error> {
    check_not_an_input(dest, files)?;
    let report = if dest.as_os_str() == "-" {
        let (report, _) = write_frames(files, max_frame, filter, scrub.as_mut(), stdout, err)?;
        report
    } else {
        let tap_error = |source| Error::Tap {
            path: dest.to_path_buf(),
            source,
        };
        let (trace, file) = TraceFile::create(dest).map_err(tap_error)?;
        let buffered = NoFlush(BufWriter::with_capacity(256 * 1024, file));
        let (report, out) = write_frames(files, max_frame, filter, scrub.as_mut(), buffered, err)
            .map_err(|e| match e {
            Error::Output(source) => tap_error(source),
            e => e,
        })?;
        let mut file = out.0.into_inner().map_err(|e| tap_error(e.into_error()))?;
        file.flush().map_err(tap_error)?;
        trace.commit(true).map_err(tap_error)?;
        report
    };
    if let Some(s) = &scrub {
        let _ = writeln!(err, "{}", s.summary());
    }
    Ok(if report.lost {
        exits::DATA_LOST
    } else {
        exits::OK
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{corpus_files, events_of};

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
            let (report, out) = write_frames(
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
        let (report, out) = write_frames(
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
