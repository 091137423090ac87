//! Helpers for the unit tests of every module: the sample traces in
//! tests/fixtures/corpus, read as events or as paired items. Compiled for
//! tests only.

use std::path::{Path, PathBuf};

use crate::pair::{Item, Pairer};
use crate::tap::event::Event;
use crate::tap::reader::{Item as TapItem, ReaderOptions, TapReader};

/// The corpus files (every `.fstrm` under tests/fixtures/corpus).
pub fn corpus_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "fstrm"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "corpus missing in {}", dir.display());
    files
}

/// Every event of a file (up to a fatal error, as `--read` does).
pub fn events_of(path: &Path) -> Vec<Event> {
    let bytes = std::fs::read(path).unwrap();
    let mut reader = TapReader::new(&bytes[..], ReaderOptions::default());
    let mut events = Vec::new();
    while let Ok(Some(item)) = reader.next_item() {
        if let TapItem::Data { offset, payload } = item {
            if let Ok(e) = Event::from_payload(Some(offset), payload) {
                events.push(e);
            }
        }
    }
    events
}

/// The paired items of a file.
pub fn items_of(path: &Path) -> Vec<Item> {
    let mut pairer = Pairer::default();
    let mut items = Vec::new();
    for e in events_of(path) {
        pairer.push(e, &mut items);
    }
    pairer.finish(&mut items);
    items
}

/// The bytes of a hex string (test data; panics on bad hex).
pub fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// `--read` of `files` as the unit tests run it (frames up to 1 MiB, no
/// colour): the exit code, stdout and stderr.
pub fn read_files_plain(
    files: &[PathBuf],
    display: crate::render::DisplayOpts,
) -> (u8, Vec<u8>, Vec<u8>) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code =
        crate::run::read::read_files(files, 1 << 20, display, false, &mut out, &mut err).unwrap();
    (code, out, err)
}

/// A plain query message (RD set, no EDNS) for `name` of type `qtype`
/// (class IN), with message ID `id`.
pub fn query_message(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    crate::dns::build::encode_query(&crate::dns::build::QueryParams {
        id,
        name: &crate::dns::name::Name::from_text(name).unwrap(),
        qtype,
        qclass: 1,
        rd: true,
        ad: false,
        cd: false,
        aa: false,
        edns: None,
        ixfr_serial: None,
        zflag: false,
    })
}
