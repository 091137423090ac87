//! dnstap recording and reading: the protobuf schema (`pb`), Frame Streams
//! framing (`frame`), streaming file I/O (`reader`, `writer`) and the
//! conversion of records into typed events for rendering (`event`).

pub mod decode;
pub mod event;
pub mod frame;
pub mod pb;
pub mod reader;
pub mod writer;
