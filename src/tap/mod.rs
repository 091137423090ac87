//! dnstap recording and reading: the protobuf schema (`pb`), Frame Streams
//! framing (`frame`), streaming file I/O (`reader`, `writer`) and the
//! conversion of records into typed events for rendering (`event`), and
//! the safe trace file behind `--tap PATH` (`file`).

pub mod decode;
pub mod event;
pub mod file;
pub mod frame;
pub mod pb;
pub mod reader;
pub mod writer;
