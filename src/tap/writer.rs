//! [`TapWriter`]: writes dnstap records as a unidirectional Frame Streams
//! file to any `std::io::Write`.
//!
//! This module owns the file's shape on output: START (content type
//! `protobuf:dnstap.Dnstap`) when opened, one data frame per record, STOP on
//! [`TapWriter::finish`] or, as a backstop, on drop. Each frame goes out in a
//! single `write_all` followed by a flush, so a trace survives a crash with
//! at most a missing STOP (which every reader tolerates). It must not build
//! records (that is the query side's job) nor decide where the file lives.

use std::io::{self, Write};

use bytes::BytesMut;
use prost::Message as _;

use super::frame::{
    encode_control, encode_data, Control, FrameError, CONTENT_TYPE_DNSTAP, DEFAULT_MAX_DATA_FRAME,
};
use super::pb;

/// Writes a dnstap Frame Streams file; see the module documentation.
#[derive(Debug)]
pub struct TapWriter<W: Write> {
    /// `None` only once `finish` has taken it (so `Drop` does nothing).
    inner: Option<W>,
    /// Scratch space holding one encoded frame.
    buf: BytesMut,
    frames: u64,
    /// Bytes written so far (the offset of the next frame).
    offset: u64,
}

fn invalid(e: FrameError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, e)
}

impl<W: Write> TapWriter<W> {
    /// Wraps `inner` and writes the START frame (content type
    /// `protobuf:dnstap.Dnstap`) immediately.
    pub fn new(inner: W) -> io::Result<Self> {
        let mut writer = TapWriter {
            inner: Some(inner),
            buf: BytesMut::with_capacity(1024),
            frames: 0,
            offset: 0,
        };
        encode_control(&Control::start(CONTENT_TYPE_DNSTAP), &mut writer.buf).map_err(invalid)?;
        writer.send()?;
        Ok(writer)
    }

    /// Encodes `record` with prost and writes it as one data frame.
    pub fn write(&mut self, record: &pb::Dnstap) -> io::Result<()> {
        self.write_payload(&record.encode_to_vec())
    }

    /// Writes an already encoded record as one data frame: a single
    /// `write_all` of the whole frame, then a flush.
    ///
    /// Fails with `InvalidInput` for an empty payload or one over
    /// [`DEFAULT_MAX_DATA_FRAME`] bytes (which fstrm-based readers would
    /// refuse); nothing is written then.
    pub fn write_payload(&mut self, payload: &[u8]) -> io::Result<()> {
        if payload.len() > DEFAULT_MAX_DATA_FRAME {
            return Err(invalid(FrameError::TooLargeToEncode {
                what: "data frame",
                len: payload.len(),
                max: DEFAULT_MAX_DATA_FRAME,
            }));
        }
        self.buf.clear();
        encode_data(payload, &mut self.buf).map_err(invalid)?;
        self.send()?;
        self.frames += 1;
        Ok(())
    }

    /// How many data frames have been written.
    pub fn frames_written(&self) -> u64 {
        self.frames
    }

    /// Byte offset in the stream where the next frame will start (what a
    /// reader reports as that frame's offset).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The inner writer, for an owner that buffers below the frames and
    /// decides itself when to write them out (None once finished).
    pub fn get_mut(&mut self) -> Option<&mut W> {
        self.inner.as_mut()
    }

    /// Writes STOP, flushes, and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.write_stop()?;
        match self.inner.take() {
            Some(inner) => Ok(inner),
            None => Err(io::Error::other("dnstap writer already finished")),
        }
    }

    fn write_stop(&mut self) -> io::Result<()> {
        self.buf.clear();
        encode_control(&Control::stop(), &mut self.buf).map_err(invalid)?;
        self.send()
    }

    /// Writes the frame in `buf` in one `write_all`, then flushes.
    fn send(&mut self) -> io::Result<()> {
        let Some(inner) = self.inner.as_mut() else {
            return Err(io::Error::other("dnstap writer already finished"));
        };
        let result = inner.write_all(&self.buf).and_then(|()| inner.flush());
        if result.is_ok() {
            self.offset += self.buf.len() as u64;
        }
        self.buf.clear();
        result
    }
}

impl<W: Write> Drop for TapWriter<W> {
    /// Writes STOP if [`TapWriter::finish`] was not called; errors are
    /// ignored (there is no one left to report them to).
    fn drop(&mut self) {
        if self.inner.is_some() {
            let _ = self.write_stop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tap::frame::{encode, Frame};
    use crate::tap::reader::{Item, ReaderOptions, TapReader, TapWarning};
    use bytes::Bytes;

    fn start_bytes() -> Vec<u8> {
        let mut b = BytesMut::new();
        encode(&Frame::Control(Control::start(CONTENT_TYPE_DNSTAP)), &mut b).unwrap();
        b.to_vec()
    }

    fn stop_bytes() -> Vec<u8> {
        let mut b = BytesMut::new();
        encode(&Frame::Control(Control::stop()), &mut b).unwrap();
        b.to_vec()
    }

    /// A minimal DNS query for `example.com. IN A`, id 0x1234, RD set.
    fn query_wire() -> Vec<u8> {
        let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        q.extend_from_slice(b"\x07example\x03com\x00\x00\x01\x00\x01");
        q
    }

    fn record(n: u32) -> pb::Dnstap {
        pb::Dnstap {
            identity: None,
            version: Some(Bytes::from_static(b"qtap test")),
            extra: None,
            r#type: pb::dnstap::Type::Message as i32,
            message: Some(pb::Message {
                r#type: pb::message::Type::StubQuery as i32,
                socket_family: Some(pb::SocketFamily::Inet as i32),
                socket_protocol: Some(pb::SocketProtocol::Udp as i32),
                query_address: Some(Bytes::from_static(&[127, 0, 0, 1])),
                response_address: Some(Bytes::from_static(&[127, 0, 0, 1])),
                query_port: Some(40000 + n),
                response_port: Some(53),
                query_time_sec: Some(1_700_000_000 + u64::from(n)),
                query_time_nsec: Some(n),
                query_message: Some(query_wire().into()),
                ..Default::default()
            }),
        }
    }

    /// Records each `write` call and whether a flush followed.
    #[derive(Default)]
    struct Recorder {
        writes: Vec<Vec<u8>>,
        unflushed: usize,
        flushes: usize,
    }

    impl Write for Recorder {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.writes.push(buf.to_vec());
            self.unflushed += 1;
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            self.unflushed = 0;
            self.flushes += 1;
            Ok(())
        }
    }

    #[test]
    fn new_writes_start_and_finish_writes_stop() {
        let writer = TapWriter::new(Vec::new()).unwrap();
        let out = writer.finish().unwrap();
        assert_eq!(out, [start_bytes(), stop_bytes()].concat());
    }

    #[test]
    fn each_frame_is_one_write_followed_by_a_flush() {
        let mut writer = TapWriter::new(Recorder::default()).unwrap();
        writer.write_payload(b"first").unwrap();
        writer.write(&record(1)).unwrap();
        assert_eq!(writer.frames_written(), 2);
        let rec = writer.finish().unwrap();
        assert_eq!(rec.unflushed, 0);
        assert_eq!(rec.flushes, 4);
        let mut second = BytesMut::new();
        encode_data(&record(1).encode_to_vec(), &mut second).unwrap();
        assert_eq!(
            rec.writes,
            vec![
                start_bytes(),
                b"\0\0\0\x05first".to_vec(),
                second.to_vec(),
                stop_bytes()
            ]
        );
    }

    #[test]
    fn drop_writes_stop_when_finish_was_not_called() {
        let mut out = Vec::new();
        {
            let mut writer = TapWriter::new(&mut out).unwrap();
            writer.write_payload(b"x").unwrap();
        }
        assert_eq!(
            out,
            [start_bytes(), b"\0\0\0\x01x".to_vec(), stop_bytes()].concat()
        );
    }

    #[test]
    fn finish_then_drop_writes_one_stop() {
        let mut out = Vec::new();
        let writer = TapWriter::new(&mut out).unwrap();
        writer.finish().unwrap();
        assert_eq!(out, [start_bytes(), stop_bytes()].concat());
    }

    #[test]
    fn empty_and_oversize_payloads_are_refused_without_writing() {
        let mut writer = TapWriter::new(Vec::new()).unwrap();
        let e = writer.write_payload(b"").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        let e = writer
            .write_payload(&vec![0; DEFAULT_MAX_DATA_FRAME + 1])
            .unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        writer
            .write_payload(&vec![1; DEFAULT_MAX_DATA_FRAME])
            .unwrap();
        assert_eq!(writer.frames_written(), 1);
        assert_eq!(writer.offset(), 42 + 4 + DEFAULT_MAX_DATA_FRAME as u64);
        let out = writer.finish().unwrap();
        assert_eq!(out.len(), 42 + 4 + DEFAULT_MAX_DATA_FRAME + 12);
    }

    #[test]
    fn write_errors_are_reported() {
        #[derive(Debug)]
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let e = TapWriter::new(Full).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::StorageFull);
    }

    #[test]
    fn writer_output_reads_back_identically() {
        let mut writer = TapWriter::new(Vec::new()).unwrap();
        let records: Vec<_> = (0..20).map(record).collect();
        for r in &records {
            writer.write(r).unwrap();
        }
        let out = writer.finish().unwrap();
        let reader = TapReader::new(&out[..], ReaderOptions::default());
        let items: Vec<Item> = reader.collect::<Result<_, _>>().unwrap();
        let back: Vec<pb::Dnstap> = items
            .into_iter()
            .map(|item| match item {
                Item::Data { payload, .. } => pb::Dnstap::decode(payload).unwrap(),
                Item::Warning(w) => panic!("unexpected warning {w}"),
            })
            .collect();
        assert_eq!(back, records);
    }

    #[test]
    fn interrupted_writer_output_reads_with_only_a_missing_stop_warning() {
        // Simulate a crash: everything written so far, but no STOP.
        let mut out = Vec::new();
        let mut writer = TapWriter::new(&mut out).unwrap();
        writer.write(&record(1)).unwrap();
        writer.write(&record(2)).unwrap();
        std::mem::forget(writer);
        let len = out.len() as u64;
        let items: Vec<Item> = TapReader::new(&out[..], ReaderOptions::default())
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(
            items[2],
            Item::Warning(TapWarning::MissingStop { offset: len })
        );
        assert!(
            matches!(&items[0], Item::Data { payload, .. } if payload[..] == record(1).encode_to_vec()[..])
        );
    }

    /// Runs `program args… file` if the program is installed; `None` if not.
    fn run_peer(
        program: &str,
        args: &[&str],
        file: &std::path::Path,
    ) -> Option<std::process::Output> {
        std::process::Command::new(program)
            .args(args)
            .arg(file)
            .output()
            .ok()
    }

    #[test]
    fn peer_tools_accept_writer_output() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("qtap.fstrm");
        let file = std::fs::File::create(&path).unwrap();
        let mut writer = TapWriter::new(file).unwrap();
        for n in 0..3 {
            writer.write(&record(n)).unwrap();
        }
        writer.finish().unwrap();

        // Each check runs only where the tool is installed.
        if let Some(out) = run_peer("fstrm_dump", &[], &path) {
            assert!(out.status.success(), "fstrm_dump: {out:?}");
            // fstrm_dump prints frame labels on stderr and payloads on stdout.
            let text = String::from_utf8_lossy(&out.stderr);
            assert!(text.starts_with("FSTRM_CONTROL_START."), "{text}");
            assert!(text.contains("\"protobuf:dnstap.Dnstap\""), "{text}");
            assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 3);
            assert_eq!(text.matches("Data frame (").count(), 3, "{text}");
            assert!(text.trim_end().ends_with("FSTRM_CONTROL_STOP."), "{text}");
        }
        if let Some(out) = run_peer("dnstap", &["-y", "-r"], &path) {
            assert!(out.status.success(), "dnstap -y: {out:?}");
            let text = String::from_utf8_lossy(&out.stdout);
            assert_eq!(text.matches("type: STUB_QUERY").count(), 3, "{text}");
            assert!(text.contains("example.com"), "{text}");
            let errors = String::from_utf8_lossy(&out.stderr).to_lowercase();
            assert!(!errors.contains("error"), "{out:?}");
        }
    }
}
