//! The Frame Streams socket handshake, sans-IO, for both roles.
//!
//! A [`ReaderHandshake`] is the collector's side of one connection: it takes
//! the frames the sender wrote ([`super::frame::Decoder`] output) and says
//! what to do with each (reply ACCEPT, take the data, reply FINISH). It
//! speaks the bidirectional handshake (READY with content types → ACCEPT
//! with the matching one → START, data frames, STOP → FINISH) and also
//! takes unidirectional senders that begin with START. A [`WriterHandshake`]
//! is the sender's side (READY → wait ACCEPT → START ... STOP → wait
//! FINISH).
//!
//! This module owns the order of control frames on a socket; it does no
//! I/O, reads no clock and knows nothing of dnstap records. Deadlines and
//! size limits belong to the driver and the frame decoder.

use bytes::Bytes;

use super::frame::{Control, ControlType, Frame};

/// What a reader does with one frame it received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReaderStep {
    /// Send this frame back (ACCEPT, answering READY).
    Reply(Control),
    /// The stream started (START); `bidirectional` when READY came first.
    Started {
        /// Whether the sender did the READY/ACCEPT handshake.
        bidirectional: bool,
    },
    /// A data frame's payload.
    Data(Bytes),
    /// A control frame of an unknown type in the stream, ignored as the
    /// Frame Streams specification says.
    Ignored(ControlType),
    /// The stream ended (STOP). `reply` is the FINISH to send back on a
    /// bidirectional stream; the connection is done after it.
    Stopped {
        /// FINISH, for a bidirectional stream.
        reply: Option<Control>,
    },
}

/// Why a handshake cannot go on; the connection should be closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    /// READY or ACCEPT without the content type wanted.
    #[error(
        "content types offered ({}) do not include {}",
        shown_list(offered),
        shown(wanted)
    )]
    ContentTypeRefused {
        /// What the peer offered.
        offered: Vec<Bytes>,
        /// What this side wants.
        wanted: Bytes,
    },
    /// START announces another content type.
    #[error("START announces content type {}, not {}", shown(got), shown(wanted))]
    ContentTypeMismatch {
        /// The START frame's content type.
        got: Bytes,
        /// What this side wants.
        wanted: Bytes,
    },
    /// A frame that does not belong at this point of the handshake.
    #[error("unexpected {got} while {state}")]
    Unexpected {
        /// What came (a control type's name, or "data frame").
        got: String,
        /// What was awaited.
        state: &'static str,
    },
}

/// A content type as text for a message: printable ASCII, the rest `\DDD`.
fn shown(ct: &[u8]) -> String {
    crate::render::escaped(ct)
}

fn shown_list(cts: &[Bytes]) -> String {
    if cts.is_empty() {
        return "none".to_owned();
    }
    cts.iter().map(|c| shown(c)).collect::<Vec<_>>().join(", ")
}

fn what(frame: &Frame) -> String {
    match frame {
        Frame::Data(_) => "data frame".to_owned(),
        Frame::Control(c) => c.kind.to_string(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReaderState {
    /// Nothing yet: READY (bidirectional) or START (unidirectional).
    Opening,
    /// ACCEPT sent; waiting for START.
    Accepted,
    /// Data frames until STOP.
    Streaming { bidirectional: bool },
    /// STOP seen.
    Stopped,
}

/// The collector's side of one connection; see the module documentation.
#[derive(Debug, Clone)]
pub struct ReaderHandshake {
    wanted: Bytes,
    state: ReaderState,
}

impl ReaderHandshake {
    /// A reader that accepts `content_type` only.
    pub fn new(content_type: &[u8]) -> ReaderHandshake {
        ReaderHandshake {
            wanted: Bytes::copy_from_slice(content_type),
            state: ReaderState::Opening,
        }
    }

    /// Whether START has been seen (data may flow).
    pub fn is_streaming(&self) -> bool {
        matches!(self.state, ReaderState::Streaming { .. })
    }

    /// Whether STOP has been seen.
    pub fn is_stopped(&self) -> bool {
        self.state == ReaderState::Stopped
    }

    /// Whether the sender did the READY/ACCEPT handshake.
    pub fn is_bidirectional(&self) -> bool {
        matches!(
            self.state,
            ReaderState::Accepted
                | ReaderState::Streaming {
                    bidirectional: true
                }
        )
    }

    fn unexpected(&self, frame: &Frame) -> HandshakeError {
        let state = match self.state {
            ReaderState::Opening => "waiting for READY or START",
            ReaderState::Accepted => "waiting for START after ACCEPT",
            ReaderState::Streaming { .. } => "reading data frames",
            ReaderState::Stopped => "the stream was already stopped",
        };
        HandshakeError::Unexpected {
            got: what(frame),
            state,
        }
    }

    /// Checks START's content type: absent (as some writers send) or ours.
    fn check_start(&self, control: &Control) -> Result<(), HandshakeError> {
        match control.content_types.first() {
            Some(ct) if ct != &self.wanted => Err(HandshakeError::ContentTypeMismatch {
                got: ct.clone(),
                wanted: self.wanted.clone(),
            }),
            _ => Ok(()),
        }
    }

    /// Takes the next frame from the sender.
    pub fn on_frame(&mut self, frame: Frame) -> Result<ReaderStep, HandshakeError> {
        let control = match (&self.state, frame) {
            (ReaderState::Streaming { .. }, Frame::Data(payload)) => {
                return Ok(ReaderStep::Data(payload))
            }
            (_, Frame::Control(c)) => c,
            (_, frame) => return Err(self.unexpected(&frame)),
        };
        match (self.state, control.kind) {
            (ReaderState::Opening, ControlType::Ready) => {
                if !control.content_types.contains(&self.wanted) {
                    return Err(HandshakeError::ContentTypeRefused {
                        offered: control.content_types,
                        wanted: self.wanted.clone(),
                    });
                }
                self.state = ReaderState::Accepted;
                Ok(ReaderStep::Reply(Control {
                    kind: ControlType::Accept,
                    content_types: vec![self.wanted.clone()],
                }))
            }
            (ReaderState::Opening, ControlType::Start) => {
                self.check_start(&control)?;
                self.state = ReaderState::Streaming {
                    bidirectional: false,
                };
                Ok(ReaderStep::Started {
                    bidirectional: false,
                })
            }
            (ReaderState::Accepted, ControlType::Start) => {
                self.check_start(&control)?;
                self.state = ReaderState::Streaming {
                    bidirectional: true,
                };
                Ok(ReaderStep::Started {
                    bidirectional: true,
                })
            }
            (ReaderState::Streaming { bidirectional }, ControlType::Stop) => {
                self.state = ReaderState::Stopped;
                Ok(ReaderStep::Stopped {
                    reply: bidirectional.then(|| Control {
                        kind: ControlType::Finish,
                        content_types: Vec::new(),
                    }),
                })
            }
            (ReaderState::Streaming { .. }, ControlType::Unknown(v)) => {
                Ok(ReaderStep::Ignored(ControlType::Unknown(v)))
            }
            _ => Err(self.unexpected(&Frame::Control(control))),
        }
    }
}

/// What a writer does with one frame the reader sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriterStep {
    /// The reader accepted: send this START, then data frames.
    Start(Control),
    /// The reader acknowledged STOP: close the connection.
    Finished,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WriterState {
    /// READY sent; waiting for ACCEPT.
    AwaitAccept,
    /// START sent; data frames may go.
    Streaming,
    /// STOP sent; waiting for FINISH.
    AwaitFinish,
    /// FINISH received.
    Finished,
}

/// The sender's side of a bidirectional connection; see the module
/// documentation.
#[derive(Debug, Clone)]
pub struct WriterHandshake {
    content_type: Bytes,
    state: WriterState,
}

impl WriterHandshake {
    /// A writer of `content_type`, and the READY frame to send first.
    pub fn new(content_type: &[u8]) -> (WriterHandshake, Control) {
        let content_type = Bytes::copy_from_slice(content_type);
        let ready = Control {
            kind: ControlType::Ready,
            content_types: vec![content_type.clone()],
        };
        (
            WriterHandshake {
                content_type,
                state: WriterState::AwaitAccept,
            },
            ready,
        )
    }

    /// Whether data frames may be sent.
    pub fn is_streaming(&self) -> bool {
        self.state == WriterState::Streaming
    }

    /// Whether the reader acknowledged STOP.
    pub fn is_finished(&self) -> bool {
        self.state == WriterState::Finished
    }

    /// Ends the stream: the STOP frame to send; FINISH is awaited next.
    pub fn stop(&mut self) -> Control {
        self.state = WriterState::AwaitFinish;
        Control::stop()
    }

    /// Takes the next frame from the reader.
    pub fn on_frame(&mut self, frame: Frame) -> Result<WriterStep, HandshakeError> {
        let state = match self.state {
            WriterState::AwaitAccept => "waiting for ACCEPT",
            WriterState::Streaming => "sending data frames",
            WriterState::AwaitFinish => "waiting for FINISH",
            WriterState::Finished => "the stream was already finished",
        };
        let control = match frame {
            Frame::Control(c) => c,
            frame => {
                return Err(HandshakeError::Unexpected {
                    got: what(&frame),
                    state,
                })
            }
        };
        match (self.state, control.kind) {
            (WriterState::AwaitAccept, ControlType::Accept) => {
                if !control.content_types.contains(&self.content_type) {
                    return Err(HandshakeError::ContentTypeRefused {
                        offered: control.content_types,
                        wanted: self.content_type.clone(),
                    });
                }
                self.state = WriterState::Streaming;
                Ok(WriterStep::Start(Control::start(&self.content_type)))
            }
            (WriterState::AwaitFinish, ControlType::Finish) => {
                self.state = WriterState::Finished;
                Ok(WriterStep::Finished)
            }
            (_, kind) => Err(HandshakeError::Unexpected {
                got: kind.to_string(),
                state,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tap::frame::CONTENT_TYPE_DNSTAP;

    fn ctl(kind: ControlType, cts: &[&[u8]]) -> Frame {
        Frame::Control(Control {
            kind,
            content_types: cts.iter().map(|c| Bytes::copy_from_slice(c)).collect(),
        })
    }

    fn data(b: &'static [u8]) -> Frame {
        Frame::Data(Bytes::from_static(b))
    }

    #[test]
    fn bidirectional_reader_goes_ready_accept_start_data_stop_finish() {
        let mut r = ReaderHandshake::new(CONTENT_TYPE_DNSTAP);
        let step = r
            .on_frame(ctl(ControlType::Ready, &[b"other", CONTENT_TYPE_DNSTAP]))
            .unwrap();
        assert_eq!(
            step,
            ReaderStep::Reply(Control {
                kind: ControlType::Accept,
                content_types: vec![Bytes::from_static(CONTENT_TYPE_DNSTAP)],
            }),
            "ACCEPT carries only the matching content type"
        );
        assert!(r.is_bidirectional() && !r.is_streaming());
        assert_eq!(
            r.on_frame(ctl(ControlType::Start, &[CONTENT_TYPE_DNSTAP]))
                .unwrap(),
            ReaderStep::Started {
                bidirectional: true
            }
        );
        assert!(r.is_streaming());
        assert_eq!(
            r.on_frame(data(b"abc")).unwrap(),
            ReaderStep::Data(Bytes::from_static(b"abc"))
        );
        assert_eq!(
            r.on_frame(ctl(ControlType::Unknown(9), &[])).unwrap(),
            ReaderStep::Ignored(ControlType::Unknown(9))
        );
        assert_eq!(
            r.on_frame(ctl(ControlType::Stop, &[])).unwrap(),
            ReaderStep::Stopped {
                reply: Some(Control {
                    kind: ControlType::Finish,
                    content_types: vec![]
                })
            }
        );
        assert!(r.is_stopped());
        assert!(r.on_frame(data(b"late")).is_err(), "nothing after STOP");
    }

    #[test]
    fn unidirectional_reader_takes_start_first_and_sends_no_finish() {
        let mut r = ReaderHandshake::new(CONTENT_TYPE_DNSTAP);
        assert_eq!(
            r.on_frame(ctl(ControlType::Start, &[CONTENT_TYPE_DNSTAP]))
                .unwrap(),
            ReaderStep::Started {
                bidirectional: false
            }
        );
        assert!(!r.is_bidirectional());
        assert_eq!(
            r.on_frame(data(b"x")).unwrap(),
            ReaderStep::Data(Bytes::from_static(b"x"))
        );
        assert_eq!(
            r.on_frame(ctl(ControlType::Stop, &[])).unwrap(),
            ReaderStep::Stopped { reply: None }
        );
        // START without a content type is taken as dnstap (kdig, Go tool).
        let mut r = ReaderHandshake::new(CONTENT_TYPE_DNSTAP);
        assert!(r.on_frame(ctl(ControlType::Start, &[])).is_ok());
    }

    #[test]
    fn ready_without_dnstap_is_refused() {
        for offered in [vec![], vec![&b"protobuf:other"[..]], vec![&b"x\x1b[2J"[..]]] {
            let mut r = ReaderHandshake::new(CONTENT_TYPE_DNSTAP);
            let e = r.on_frame(ctl(ControlType::Ready, &offered)).unwrap_err();
            assert!(
                matches!(e, HandshakeError::ContentTypeRefused { .. }),
                "{e:?}"
            );
            let text = e.to_string();
            assert!(!text.contains('\x1b'), "escaped: {text}");
            assert!(text.contains("protobuf:dnstap.Dnstap"), "{text}");
        }
    }

    #[test]
    fn start_with_another_content_type_is_refused_in_both_modes() {
        let mut r = ReaderHandshake::new(CONTENT_TYPE_DNSTAP);
        assert!(matches!(
            r.on_frame(ctl(ControlType::Start, &[b"text/plain"])),
            Err(HandshakeError::ContentTypeMismatch { .. })
        ));
        let mut r = ReaderHandshake::new(CONTENT_TYPE_DNSTAP);
        r.on_frame(ctl(ControlType::Ready, &[CONTENT_TYPE_DNSTAP]))
            .unwrap();
        assert!(matches!(
            r.on_frame(ctl(ControlType::Start, &[b"text/plain"])),
            Err(HandshakeError::ContentTypeMismatch { .. })
        ));
    }

    #[test]
    fn every_out_of_place_frame_is_an_error_for_the_reader() {
        let all = || {
            vec![
                data(b"d"),
                ctl(ControlType::Accept, &[CONTENT_TYPE_DNSTAP]),
                ctl(ControlType::Start, &[CONTENT_TYPE_DNSTAP]),
                ctl(ControlType::Stop, &[]),
                ctl(ControlType::Ready, &[CONTENT_TYPE_DNSTAP]),
                ctl(ControlType::Finish, &[]),
                ctl(ControlType::Unknown(77), &[]),
            ]
        };
        // What each state accepts; everything else must fail.
        let opening_ok = |f: &Frame| matches!(f, Frame::Control(c) if matches!(c.kind, ControlType::Ready | ControlType::Start));
        for f in all() {
            let mut r = ReaderHandshake::new(CONTENT_TYPE_DNSTAP);
            assert_eq!(
                r.on_frame(f.clone()).is_ok(),
                opening_ok(&f),
                "opening {f:?}"
            );
        }
        for f in all() {
            let mut r = ReaderHandshake::new(CONTENT_TYPE_DNSTAP);
            r.on_frame(ctl(ControlType::Ready, &[CONTENT_TYPE_DNSTAP]))
                .unwrap();
            let ok = matches!(&f, Frame::Control(c) if c.kind == ControlType::Start);
            assert_eq!(r.on_frame(f.clone()).is_ok(), ok, "accepted {f:?}");
        }
        for f in all() {
            let mut r = ReaderHandshake::new(CONTENT_TYPE_DNSTAP);
            r.on_frame(ctl(ControlType::Start, &[])).unwrap();
            let ok = match &f {
                Frame::Data(_) => true,
                Frame::Control(c) => {
                    matches!(c.kind, ControlType::Stop | ControlType::Unknown(_))
                }
            };
            assert_eq!(r.on_frame(f.clone()).is_ok(), ok, "streaming {f:?}");
        }
        for f in all() {
            let mut r = ReaderHandshake::new(CONTENT_TYPE_DNSTAP);
            r.on_frame(ctl(ControlType::Start, &[])).unwrap();
            r.on_frame(ctl(ControlType::Stop, &[])).unwrap();
            assert!(r.on_frame(f.clone()).is_err(), "stopped {f:?}");
        }
    }

    #[test]
    fn writer_goes_ready_accept_start_stop_finish() {
        let (mut w, ready) = WriterHandshake::new(CONTENT_TYPE_DNSTAP);
        assert_eq!(ready.kind, ControlType::Ready);
        assert_eq!(
            ready.content_types,
            vec![Bytes::from_static(CONTENT_TYPE_DNSTAP)]
        );
        assert!(!w.is_streaming());
        let step = w
            .on_frame(ctl(ControlType::Accept, &[CONTENT_TYPE_DNSTAP]))
            .unwrap();
        assert_eq!(step, WriterStep::Start(Control::start(CONTENT_TYPE_DNSTAP)));
        assert!(w.is_streaming());
        assert_eq!(w.stop(), Control::stop());
        assert_eq!(
            w.on_frame(ctl(ControlType::Finish, &[])).unwrap(),
            WriterStep::Finished
        );
        assert!(w.is_finished());
    }

    #[test]
    fn writer_refuses_an_accept_without_its_content_type_and_stray_frames() {
        for offered in [vec![], vec![&b"protobuf:other"[..]]] {
            let (mut w, _) = WriterHandshake::new(CONTENT_TYPE_DNSTAP);
            assert!(matches!(
                w.on_frame(ctl(ControlType::Accept, &offered)),
                Err(HandshakeError::ContentTypeRefused { .. })
            ));
        }
        for f in [
            data(b"d"),
            ctl(ControlType::Finish, &[]),
            ctl(ControlType::Ready, &[CONTENT_TYPE_DNSTAP]),
            ctl(ControlType::Start, &[CONTENT_TYPE_DNSTAP]),
            ctl(ControlType::Stop, &[]),
            ctl(ControlType::Unknown(5000), &[]),
        ] {
            let (mut w, _) = WriterHandshake::new(CONTENT_TYPE_DNSTAP);
            assert!(w.on_frame(f.clone()).is_err(), "await accept {f:?}");
            let (mut w, _) = WriterHandshake::new(CONTENT_TYPE_DNSTAP);
            w.on_frame(ctl(ControlType::Accept, &[CONTENT_TYPE_DNSTAP]))
                .unwrap();
            assert!(w.on_frame(f.clone()).is_err(), "streaming {f:?}");
            w.stop();
            let ok = matches!(&f, Frame::Control(c) if c.kind == ControlType::Finish);
            assert_eq!(w.on_frame(f.clone()).is_ok(), ok, "await finish {f:?}");
        }
    }
}
