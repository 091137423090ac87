//! Criterion micro-benchmarks of the `--read` hot path, stage by stage:
//! Frame Streams decoding (`frame::Decoder`, then `TapReader` with its
//! buffering), protobuf decoding into events (`Event::from_payload`),
//! pairing and dig-text rendering (`run::View` into `io::sink()`), and the
//! three together as `qtap --read` runs them.
//!
//! The input is synthetic and in memory: a stream of [`FRAMES`] frames
//! written with `TapWriter`, cycling through a few hundred realistic records
//! made from Knot's mod-dnstap sample (`tests/fixtures/corpus/knotd-auth.fstrm`)
//! with their DNS message IDs varied. Run with `cargo bench --bench read`.
//!
//! This file measures; it must not assert timings. Its only checks are
//! that the setup produced what a benchmark claims to process.

use std::hint::black_box;
use std::io;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use prost::Message as _;

use qtap::render::DisplayOpts;
use qtap::run::View;
use qtap::tap::event::Event;
use qtap::tap::frame::{Decoded, Decoder, Frame, DEFAULT_MAX_DATA_FRAME};
use qtap::tap::pb;
use qtap::tap::reader::{Item, ReaderOptions, TapReader};
use qtap::tap::writer::TapWriter;

/// The sample every synthetic record is derived from: 50 AUTH_QUERY and 50
/// AUTH_RESPONSE frames over UDP and TCP, IPv4 and IPv6.
const CORPUS: &[u8] = include_bytes!("../tests/fixtures/corpus/knotd-auth.fstrm");

/// Data frames in the synthetic stream.
const FRAMES: usize = 20_000;

/// Copies of the sample, each with its own message IDs: the distinct
/// records the stream cycles through (4 × 100 = 400).
const COPIES: u16 = 4;

/// The records of the sample, in file order.
fn sample_records() -> Vec<pb::Dnstap> {
    let mut reader = TapReader::new(CORPUS, ReaderOptions::default());
    let mut records = Vec::new();
    while let Some(item) = reader.next_item().expect("the sample is a valid stream") {
        if let Item::Data { payload, .. } = item {
            records.push(pb::Dnstap::decode(payload).expect("the sample holds dnstap records"));
        }
    }
    assert!(
        records.len() >= 50,
        "the sample has {} records",
        records.len()
    );
    records
}

/// `msg` with its DNS ID xor-ed with `salt` (a copy; short messages as is).
fn salted(msg: &Bytes, salt: u16) -> Bytes {
    let mut out = msg.to_vec();
    if let Some(id) = out.get_mut(0..2) {
        let value = u16::from_be_bytes([id[0], id[1]]) ^ salt;
        id.copy_from_slice(&value.to_be_bytes());
    }
    Bytes::from(out)
}

/// The distinct encoded records: each sample record once per copy, the
/// query and response of a pair salted alike so that they still pair.
fn distinct_payloads() -> Vec<Bytes> {
    let records = sample_records();
    let mut payloads = Vec::new();
    for copy in 0..COPIES {
        for record in &records {
            let mut record = record.clone();
            if let Some(m) = record.message.as_mut() {
                m.query_message = m.query_message.as_ref().map(|q| salted(q, copy));
                m.response_message = m.response_message.as_ref().map(|r| salted(r, copy));
            }
            payloads.push(Bytes::from(record.encode_to_vec()));
        }
    }
    payloads
}

/// Everything the benchmarks share, built once.
struct Input {
    /// The whole Frame Streams file: START, [`FRAMES`] data frames, STOP.
    stream: Vec<u8>,
    /// The payloads of those frames, sliced out of one buffer as the reader
    /// would hand them over.
    payloads: Vec<Bytes>,
    /// The same, decoded.
    events: Vec<Event>,
}

fn input() -> Input {
    let distinct = distinct_payloads();
    let mut writer = TapWriter::new(Vec::new()).expect("writing to a Vec");
    for payload in distinct.iter().cycle().take(FRAMES) {
        writer.write_payload(payload).expect("writing to a Vec");
    }
    let stream = writer.finish().expect("writing to a Vec");

    let mut reader = TapReader::new(stream.as_slice(), ReaderOptions::default());
    let mut payloads = Vec::with_capacity(FRAMES);
    while let Some(item) = reader.next_item().expect("the stream just written") {
        if let Item::Data { payload, .. } = item {
            payloads.push(payload);
        }
    }
    assert_eq!(payloads.len(), FRAMES, "frames read back");
    let events: Vec<Event> = payloads
        .iter()
        .map(|p| Event::from_payload(Some(0), p.clone()).expect("a valid record"))
        .collect();
    Input {
        stream,
        payloads,
        events,
    }
}

/// `--read FILE +qr`'s display options.
fn display() -> DisplayOpts {
    DisplayOpts {
        qr: true,
        ..DisplayOpts::default()
    }
}

/// Counts the data frames of `buf` with the sans-IO decoder alone.
fn decode_frames(mut buf: BytesMut) -> usize {
    let mut decoder = Decoder::new(DEFAULT_MAX_DATA_FRAME);
    let mut frames = 0;
    while let Ok(Some(decoded)) = decoder.decode(&mut buf) {
        if let Decoded::Frame(Frame::Data(payload)) = decoded {
            black_box(&payload);
            frames += 1;
        }
    }
    frames
}

/// Counts the data frames of `stream` through `TapReader` (64 KiB reads).
fn read_frames(stream: &[u8]) -> usize {
    let mut reader = TapReader::new(stream, ReaderOptions::default());
    let mut frames = 0;
    while let Ok(Some(item)) = reader.next_item() {
        if let Item::Data { payload, .. } = item {
            black_box(&payload);
            frames += 1;
        }
    }
    frames
}

/// Pairs and renders `events` the way `--read` does, into a sink.
fn render(events: Vec<Event>) -> io::Result<()> {
    let mut view = View::new(display(), false);
    let mut out = io::sink();
    for event in events {
        view.push(event, &mut out)?;
    }
    view.finish(&mut out)
}

/// The whole of `qtap --read` minus the files: read, decode, pair, render.
fn read_decode_render(stream: &[u8], out: &mut dyn io::Write) -> io::Result<usize> {
    let mut reader = TapReader::new(stream, ReaderOptions::default());
    let mut view = View::new(display(), false);
    let mut events = 0;
    while let Ok(Some(item)) = reader.next_item() {
        if let Item::Data { offset, payload } = item {
            if let Ok(event) = Event::from_payload(Some(offset), payload) {
                view.push(event, out)?;
                events += 1;
            }
        }
    }
    view.finish(out)?;
    Ok(events)
}

fn benches(c: &mut Criterion) {
    let input = input();
    // The checks that make these numbers mean something.
    assert_eq!(decode_frames(BytesMut::from(&input.stream[..])), FRAMES);
    assert_eq!(read_frames(&input.stream), FRAMES);
    let mut text = Vec::new();
    let rendered = read_decode_render(&input.stream, &mut text).expect("rendering into a Vec");
    assert_eq!(rendered, FRAMES);
    let text = String::from_utf8_lossy(&text);
    let answers = text.matches(";; ANSWER SECTION:").count();
    assert!(
        answers > FRAMES / 4,
        "only {answers} answer sections rendered"
    );
    eprintln!(
        "input: {FRAMES} frames, {} bytes ({} B per frame); --read +qr renders {} bytes of text",
        input.stream.len(),
        input.stream.len() / FRAMES,
        text.len()
    );

    let mut group = c.benchmark_group("read");
    group.throughput(Throughput::Elements(FRAMES as u64));

    group.bench_function("frame_decoder", |b| {
        b.iter_batched(
            || BytesMut::from(&input.stream[..]),
            decode_frames,
            BatchSize::LargeInput,
        );
    });
    group.bench_function("frame_reader", |b| {
        b.iter(|| read_frames(black_box(&input.stream)));
    });
    group.bench_function("event_from_payload", |b| {
        b.iter(|| {
            for payload in &input.payloads {
                let _ = black_box(Event::from_payload(Some(0), payload.clone()));
            }
        });
    });
    group.bench_function("view_render_dig_qr", |b| {
        b.iter_batched(
            || input.events.clone(),
            |events| render(events).map_err(|e| e.kind()),
            BatchSize::LargeInput,
        );
    });
    group.bench_function("end_to_end_sink", |b| {
        b.iter(|| read_decode_render(black_box(&input.stream), &mut io::sink()).ok());
    });
    group.finish();
}

criterion_group! {
    name = read;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = benches
}
criterion_main!(read);
