//! dnstap recording and reading: the protobuf schema (`pb`), Frame Streams
//! framing (`frame`), streaming file I/O (`reader`, `writer`) and the
//! conversion of records into typed events for rendering (`event`), and
//! the safe trace file behind `--tap PATH` (`file`), and the socket
//! handshake of Frame Streams (`handshake`).

pub mod decode;
pub mod endpoint;
pub mod event;
pub mod file;
pub mod frame;
pub mod handshake;
pub mod pb;
pub mod reader;
pub mod sender;
pub mod writer;
