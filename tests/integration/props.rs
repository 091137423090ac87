//! Property tests (proptest) for the decoders that see untrusted bytes: the
//! Frame Streams codec, the dnstap ⇄ `Event` conversion and `TapReader`.
//!
//! Owns only properties: round trips are the identity, and truncated,
//! mutated or random input never panics and never makes the reader allocate
//! more than its frame limit. Exact messages and exit codes of damaged files
//! are checked through the binary in `damaged.rs`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use qtap::tap::event::{Event, MessageType, Protocol, Timestamp};
use qtap::tap::frame::{
    encode, Control, ControlType, Decoded, Decoder, Frame, CONTENT_TYPE_DNSTAP,
    CONTENT_TYPE_LENGTH_MAX,
};
use qtap::tap::reader::{Item, ReaderOptions, TapReader};

// ---------------------------------------------------------------------------
// Allocation watch: the largest single allocation made by the current thread
// since the last reset. Per thread, so tests running in parallel do not see
// each other's allocations.

/// The system allocator, noting the largest request of each thread.
struct Watch;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    // `try_with`: the slot may be gone while a thread is being torn down.
    let _ = LARGEST.try_with(|c| c.set(c.get().max(size)));
}

// SAFETY: every call is forwarded unchanged to `System`; the bookkeeping
// touches only a const-initialised thread-local `Cell` (no allocation).
unsafe impl GlobalAlloc for Watch {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Watch = Watch;

/// Runs `f` and returns its result with the largest single allocation it
/// made on this thread.
fn largest_allocation<T>(f: impl FnOnce() -> T) -> (T, usize) {
    LARGEST.with(|c| c.set(0));
    let out = f();
    (out, LARGEST.with(Cell::get))
}

// ---------------------------------------------------------------------------
// Strategies.

fn control_type() -> impl Strategy<Value = ControlType> {
    prop_oneof![
        Just(ControlType::Accept),
        Just(ControlType::Start),
        Just(ControlType::Stop),
        Just(ControlType::Ready),
        Just(ControlType::Finish),
        any::<u32>().prop_map(ControlType::from_u32),
    ]
}

fn frame() -> impl Strategy<Value = Frame> {
    let data = prop::collection::vec(any::<u8>(), 1..600).prop_map(|p| Frame::Data(Bytes::from(p)));
    let content_type = prop_oneof![
        Just(Bytes::from_static(CONTENT_TYPE_DNSTAP)),
        prop::collection::vec(any::<u8>(), 0..=CONTENT_TYPE_LENGTH_MAX / 2).prop_map(Bytes::from),
    ];
    // At most 3 content types of at most 128 bytes: always under the
    // 512-byte control frame limit.
    let control = (control_type(), prop::collection::vec(content_type, 0..=3)).prop_map(
        |(kind, content_types)| {
            Frame::Control(Control {
                kind,
                content_types,
            })
        },
    );
    prop_oneof![3 => data, 2 => control]
}

fn encode_all(frames: &[Frame]) -> Vec<u8> {
    let mut out = BytesMut::new();
    for f in frames {
        encode(f, &mut out).expect("strategy makes encodable frames");
    }
    out.to_vec()
}

/// Decodes everything in `bytes` the way a reader would (skipping oversize
/// payloads, stopping at an error or when more input is needed).
fn decode_all(bytes: &[u8], max_data: usize) -> (Vec<Decoded>, usize) {
    let mut decoder = Decoder::new(max_data);
    let mut buf = BytesMut::from(bytes);
    let mut out = Vec::new();
    loop {
        let before = buf.len();
        match decoder.decode(&mut buf) {
            Ok(Some(d)) => {
                if let Decoded::Oversize { len } = d {
                    let skip = usize::try_from(len).unwrap_or(usize::MAX).min(buf.len());
                    let _ = buf.split_to(skip);
                }
                assert!(buf.len() < before, "a decoded frame consumes bytes");
                out.push(d);
            }
            Ok(None) | Err(_) => return (out, buf.len()),
        }
    }
}

fn protocol() -> impl Strategy<Value = Protocol> {
    prop_oneof![
        Just(Protocol::Udp),
        Just(Protocol::Tcp),
        Just(Protocol::Dot),
        Just(Protocol::Doh),
        Just(Protocol::DnsCryptUdp),
        Just(Protocol::DnsCryptTcp),
        Just(Protocol::Doq),
        // Only values the schema does not define stay `Other` on the way back.
        any::<i32>()
            .prop_filter("unknown to the schema", |v| Protocol::from_pb(*v)
                == Protocol::Other(*v))
            .prop_map(Protocol::Other),
    ]
}

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|b| IpAddr::V4(Ipv4Addr::from(b))),
        any::<[u8; 16]>().prop_map(|b| IpAddr::V6(Ipv6Addr::from(b))),
    ]
}

fn timestamp() -> impl Strategy<Value = Timestamp> {
    (any::<u64>(), 0..=999_999_999u32).prop_map(|(sec, nsec)| Timestamp { sec, nsec })
}

fn bytes_field(max: usize) -> impl Strategy<Value = Option<Bytes>> {
    prop::option::of(prop::collection::vec(any::<u8>(), 0..max).prop_map(Bytes::from))
}

prop_compose! {
    fn event()(
        offset in any::<u64>(),
        identity in bytes_field(40),
        version in bytes_field(40),
        mtype in any::<i32>(),
        family in prop::option::of(any::<i32>()),
        protocol in prop::option::of(protocol()),
        http_protocol in prop::option::of(any::<i32>()),
        query_addr in prop::option::of(ip()),
        query_port in prop::option::of(any::<u16>()),
        response_addr in prop::option::of(ip()),
        response_port in prop::option::of(any::<u16>()),
        query_time in prop::option::of(timestamp()),
        response_time in prop::option::of(timestamp()),
        query_message in bytes_field(300),
        response_message in bytes_field(300),
    ) -> Event {
        Event {
            offset: Some(offset),
            identity,
            version,
            mtype: MessageType(mtype),
            family,
            protocol,
            http_protocol,
            query_addr,
            query_port,
            response_addr,
            response_port,
            query_time,
            response_time,
            query_message,
            query_zone: None,
            response_message,
            connection: None,
        }
    }
}

/// A small valid dnstap stream: START, `n` data frames, STOP.
fn stream_of(payloads: &[Vec<u8>]) -> Vec<u8> {
    let mut frames = vec![Frame::Control(Control::start(CONTENT_TYPE_DNSTAP))];
    frames.extend(payloads.iter().map(|p| Frame::Data(Bytes::from(p.clone()))));
    frames.push(Frame::Control(Control::stop()));
    encode_all(&frames)
}

/// Reads a whole stream; returns (data frames, warnings, ended in error).
/// Panics if the reader does not end.
fn read_stream<R: Read>(inner: R, max_data: usize, input_len: usize) -> (usize, usize, bool) {
    let mut reader = TapReader::new(inner, ReaderOptions { max_data });
    let (mut data, mut warnings) = (0, 0);
    loop {
        match reader.next_item() {
            Ok(Some(Item::Data { payload, .. })) => {
                assert!(payload.len() <= max_data);
                data += 1;
            }
            Ok(Some(Item::Warning(_))) => warnings += 1,
            Ok(None) => return (data, warnings, false),
            Err(_) => {
                assert!(
                    matches!(reader.next_item(), Ok(None)),
                    "fused after an error"
                );
                return (data, warnings, true);
            }
        }
        assert!(data + warnings <= input_len + 4, "reader does not end");
    }
}

// ---------------------------------------------------------------------------
// Properties.

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn frame_encode_then_decode_is_the_identity(frames in prop::collection::vec(frame(), 0..12)) {
        let bytes = encode_all(&frames);
        let (decoded, left) = decode_all(&bytes, 1 << 20);
        let want: Vec<Decoded> = frames.into_iter().map(Decoded::Frame).collect();
        prop_assert_eq!(decoded, want);
        prop_assert_eq!(left, 0);
    }

    #[test]
    fn decoding_a_truncated_stream_yields_a_prefix_then_waits(
        frames in prop::collection::vec(frame(), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let bytes = encode_all(&frames);
        let cut = cut.index(bytes.len());
        let (decoded, left) = decode_all(&bytes[..cut], 1 << 20);
        prop_assert!(decoded.len() < frames.len());
        for (d, f) in decoded.iter().zip(&frames) {
            prop_assert_eq!(d, &Decoded::Frame(f.clone()));
        }
        // What is left is exactly the partial frame.
        let whole: usize = decoded.len();
        let consumed = encode_all(&frames[..whole]).len();
        prop_assert_eq!(consumed + left, cut);
    }

    #[test]
    fn decoding_a_mutated_stream_never_panics(
        frames in prop::collection::vec(frame(), 1..8),
        at in any::<prop::sample::Index>(),
        value in any::<u8>(),
        max_data in 1usize..2048,
    ) {
        let mut bytes = encode_all(&frames);
        let at = at.index(bytes.len());
        bytes[at] = value;
        let (decoded, left) = decode_all(&bytes, max_data);
        prop_assert!(left <= bytes.len());
        prop_assert!(decoded.len() <= bytes.len() / 4);
    }

    #[test]
    fn reading_a_truncated_or_mutated_stream_never_panics(
        payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..200), 0..6),
        cut in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        value in any::<u8>(),
    ) {
        let full = stream_of(&payloads);
        let cut_len = cut.index(full.len() + 1);
        let (data, _, failed) = read_stream(&full[..cut_len], 1 << 20, cut_len);
        prop_assert!(data <= payloads.len());
        // A cut anywhere but the very end loses the STOP: an error or a warning.
        if cut_len == full.len() {
            prop_assert_eq!((data, failed), (payloads.len(), false));
        }
        let mut mutated = full.clone();
        let at = at.index(mutated.len());
        mutated[at] = value;
        let _ = read_stream(mutated.as_slice(), 1 << 20, mutated.len());
    }

    #[test]
    fn reading_random_bytes_never_panics_or_allocates_past_the_limit(
        bytes in prop::collection::vec(any::<u8>(), 0..4096),
        max_data in 1usize..70_000,
    ) {
        let (_, largest) = largest_allocation(|| read_stream(bytes.as_slice(), max_data, bytes.len()));
        // The 64 KiB read chunk is the largest thing a small input may cost.
        prop_assert!(largest <= 128 * 1024, "largest allocation {largest}");
    }

    #[test]
    fn huge_frame_lengths_are_skipped_without_allocating(
        len in (1u32 << 20) + 1..=u32::MAX,
        tail in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut bytes = stream_of(&[b"before".to_vec()]);
        // Remove STOP, append the huge frame's header and a little of it.
        bytes.truncate(bytes.len() - 12);
        bytes.extend_from_slice(&len.to_be_bytes());
        bytes.extend_from_slice(&tail);
        let ((data, _, failed), largest) =
            largest_allocation(|| read_stream(bytes.as_slice(), 1 << 20, bytes.len()));
        prop_assert_eq!(data, 1);
        prop_assert!(failed, "a frame cut short is an error");
        prop_assert!(largest <= 128 * 1024, "largest allocation {largest}");
    }

    #[test]
    fn event_to_pb_then_from_payload_is_the_identity(event in event()) {
        let payload = prost::Message::encode_to_vec(&event.to_pb());
        let back = Event::from_payload(event.offset, Bytes::from(payload)).expect("decodes");
        prop_assert_eq!(back, event);
    }

    #[test]
    fn direct_decoder_agrees_with_prost_on_mutated_records(
        event in event(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        cut in any::<prop::sample::Index>(),
        cut_it in any::<bool>(),
    ) {
        let mut payload = prost::Message::encode_to_vec(&event.to_pb());
        for (at, byte) in &edits {
            if !payload.is_empty() {
                let i = at.index(payload.len());
                payload[i] = *byte;
            }
        }
        if cut_it && !payload.is_empty() {
            payload.truncate(cut.index(payload.len()));
        }
        same_as_prost(&payload)?;
    }

    #[test]
    fn direct_decoder_agrees_with_prost_on_random_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..256),
    ) {
        same_as_prost(&bytes)?;
    }

    #[test]
    fn from_payload_never_panics_on_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = Event::from_payload(None, Bytes::from(bytes));
    }
}

/// `Event::from_payload` (qtap's own decoder) takes what prost's generated
/// decoder takes, and finds the same fields in it.
fn same_as_prost(payload: &[u8]) -> Result<(), TestCaseError> {
    let ours = Event::from_payload(None, Bytes::copy_from_slice(payload));
    let theirs = <qtap::tap::pb::Dnstap as prost::Message>::decode(payload)
        .map_err(|e| e.to_string())
        .and_then(|r| Event::from_pb(r).map_err(|e| e.to_string()));
    match (ours, theirs) {
        (Ok(a), Ok(b)) => prop_assert_eq!(a, b, "{:02x?}", payload),
        (Err(_), Err(_)) => {}
        (a, b) => prop_assert!(false, "{payload:02x?}: ours {a:?}, prost {b:?}"),
    }
    Ok(())
}

/// A reader producing an endless run of one byte value.
struct Endless(u8);

impl Read for Endless {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        out.fill(self.0);
        Ok(out.len())
    }
}

#[test]
fn an_oversize_frame_present_in_full_is_skipped_in_bounded_memory() {
    // START, a 3 MiB frame (limit 1 MiB), a good frame, STOP.
    let mut bytes = stream_of(&[]);
    bytes.truncate(bytes.len() - 12);
    let big = 3usize << 20;
    bytes.extend_from_slice(&u32::try_from(big).unwrap().to_be_bytes());
    bytes.resize(bytes.len() + big, 0xa5);
    let after = stream_of(&[b"after".to_vec()]);
    bytes.extend_from_slice(&after[42..]);
    let ((data, warnings, failed), largest) =
        largest_allocation(|| read_stream(bytes.as_slice(), 1 << 20, bytes.len()));
    assert_eq!((data, warnings, failed), (1, 1, false));
    assert!(largest <= 256 * 1024, "largest allocation {largest}");
}

#[test]
fn a_4_gib_frame_from_an_endless_reader_is_skipped_in_bounded_memory() {
    // The length 0xFFFFFFFF, then more bytes than any buffer: the reader
    // must discard them as they come. 64 MiB of them are read, then the
    // input is cut: an error, not an allocation of 4 GiB.
    let header = stream_of(&[]);
    let input = header[..42]
        .chain(&[0xff, 0xff, 0xff, 0xff][..])
        .chain(Endless(7).take(64 << 20));
    let ((data, _, failed), largest) =
        largest_allocation(|| read_stream(input, 1 << 20, usize::MAX / 2));
    assert_eq!((data, failed), (0, true));
    assert!(largest <= 256 * 1024, "largest allocation {largest}");
}

// ---------------------------------------------------------------------------
// Regressions: exact inputs that crashed a fuzz target (fuzz/README.md).

/// Splits a fuzz input into dig words the way the `cli_parse` target does.
fn fuzz_words(data: &[u8]) -> Vec<String> {
    std::iter::once("qtap".to_owned())
        .chain(
            data.split(|&b| b == 0)
                .map(|w| String::from_utf8_lossy(w).into_owned()),
        )
        .collect()
}

#[test]
fn cli_parse_fuzz_crash_on_a_non_ascii_flag_letter() {
    // cli_parse crash-66d0dc66: the word "-\u{fffd}.te" was sliced at byte 2,
    // inside the multi-byte letter.
    let input = b"\x98#\x98\x98\x98\x00\x98--tap\x00ta\x98\x98\x98\x98\x98\x98p\x98ap\x00-\x98.te";
    let result = qtap::cli::parse(fuzz_words(input));
    assert!(result.is_err(), "{result:?}");
    for word in ["-é", "-ü1", "-\u{1F600}x", "-é.example"] {
        let err = qtap::cli::parse(["qtap", word]).expect_err(word);
        assert!(err.to_string().contains(word), "{word}: {err}");
    }
}

#[test]
fn a_non_ascii_flag_letter_is_a_usage_error_not_a_panic() {
    let out = crate::qtap().args(["-é", "example.com"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("-é"), "{stderr}");
}
