//! One lookup of a live run, with others possibly running beside it
//! (`+parallel`). Each lookup owns what it produced: while an earlier
//! lookup is still running, its records and lines wait in its own
//! [`Hold`]; once its turn comes (it is the oldest lookup still running:
//! [`Turns::head`]) it hands them to the run through a channel as they
//! come, so the run shows the head-of-line lookup live and every lookup's
//! output in input order. When it ends, the lookup returns its hold with
//! its outcome ([`Finished`]); when the run stops it ([`Turns::stop`], a
//! signal or an error), it returns at once with what it has.

use tokio::sync::{mpsc, watch};

use crate::error::Error;
use crate::query::spec::QuerySpec;
use crate::query::{self, Outcome, RecordMeta, Session, Sink, Target};
use crate::tap::event::Event;

use super::hold::{Hold, Produced};

/// What a lookup hands to the run once its turn has come (an error:
/// its hold's temporary file failed).
pub type Item = std::io::Result<Produced>;

/// What the run tells its lookups.
#[derive(Debug, Clone, Copy, Default)]
pub struct Turns {
    /// The number of the lookup whose output is shown as it comes.
    pub head: u64,
    /// Every lookup is to return at once.
    pub stop: bool,
}

/// How a lookup ended.
pub struct Finished {
    /// What it produced and did not hand over yet.
    pub hold: Hold,
    /// Its outcome; None when it was stopped.
    pub result: Option<Result<Outcome, Error>>,
    /// Its session, when the run asked to keep it or it was stopped.
    pub session: Option<Session>,
}

/// The [`Sink`] of one lookup; see the module documentation.
pub struct LaneSink {
    /// The lookup's number in the run.
    seq: u64,
    hold: Hold,
    turns: watch::Receiver<Turns>,
    to_run: mpsc::UnboundedSender<Item>,
    /// Its turn has come: everything goes to the run as it comes.
    direct: bool,
}

impl LaneSink {
    /// The sink of lookup number `seq`.
    pub fn new(
        seq: u64,
        hold: Hold,
        turns: watch::Receiver<Turns>,
        to_run: mpsc::UnboundedSender<Item>,
    ) -> LaneSink {
        LaneSink {
            seq,
            hold,
            turns,
            to_run,
            direct: false,
        }
    }

    /// Whether its turn has come; when it just has, what the hold kept
    /// goes first.
    fn streaming(&mut self) -> bool {
        if !self.direct && self.turns.borrow().head == self.seq {
            self.direct = true;
            while let Some(item) = self.hold.pop() {
                // The run keeps its receiver while lookups run.
                let _ = self.to_run.send(item);
            }
        }
        self.direct
    }

    fn put(&mut self, item: Produced) -> std::io::Result<()> {
        if self.streaming() {
            let _ = self.to_run.send(Ok(item));
            Ok(())
        } else {
            self.hold.push(item)
        }
    }
}

/// The error for a hold whose temporary file failed.
pub fn hold_error(e: &std::io::Error) -> Error {
    Error::Internal(format!(
        "cannot keep a +parallel lookup's output in a temporary file: {e}"
    ))
}

impl Sink for LaneSink {
    fn record(&mut self, record: Event) -> Result<(), Error> {
        self.put(Produced::Record(record))
            .map_err(|e| hold_error(&e))
    }

    fn diag(&mut self, line: &str) {
        // Should the file fail, the next record says so.
        let _ = self.put(Produced::Diag(line.to_owned()));
    }
}

/// Runs one lookup on `session`. `keep`: return the session for the next
/// lookup (`+keepopen` and friends, one lookup at a time) instead of
/// closing it.
pub async fn lookup(
    spec: &QuerySpec,
    target: Target,
    meta: &RecordMeta,
    mut session: Session,
    mut sink: LaneSink,
    keep: bool,
) -> Finished {
    let mut turns = sink.turns.clone();
    let result = tokio::select! {
        biased;
        r = async {
            match spec.opts.chase {
                Some(_) => query::iterate::chase(spec, &target, meta, &mut session, &mut sink).await,
                None => query::lookup(spec, &target, meta, &mut session, &mut sink).await,
            }
        } => Some(r),
        _ = turns.wait_for(|t| t.stop) => None,
    };
    let session = if keep || result.is_none() {
        Some(session)
    } else {
        session.close().await;
        None
    };
    Finished {
        hold: sink.hold,
        result,
        session,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::hold::Spill;

    fn lines(rx: &mut mpsc::UnboundedReceiver<Item>) -> Vec<String> {
        let mut got = Vec::new();
        while let Ok(item) = rx.try_recv() {
            match item.unwrap() {
                Produced::Diag(l) => got.push(l),
                Produced::Record(_) => got.push("record".into()),
            }
        }
        got
    }

    #[test]
    fn a_lane_holds_its_output_until_its_turn_then_hands_it_over_in_order() {
        let (turns, _) = watch::channel(Turns::default());
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut sink = LaneSink::new(1, Hold::new(Spill::new(1 << 20)), turns.subscribe(), tx);
        sink.diag("a");
        sink.diag("b");
        assert!(lines(&mut rx).is_empty(), "not its turn yet");
        turns.send_modify(|t| t.head = 1);
        sink.diag("c");
        assert_eq!(lines(&mut rx), ["a", "b", "c"]);
        assert!(sink.hold.is_empty());
        sink.diag("d");
        assert_eq!(lines(&mut rx), ["d"]);
    }

    #[test]
    fn a_stopped_lookup_returns_what_it_recorded_and_its_session() {
        let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let target = Target {
            addr: silent.local_addr().unwrap(),
            host: None,
        };
        let args = crate::cli::parse(["qtap", "x.example", "+timeout=30", "+tries=1"]).unwrap();
        let spec = &args.queries[0];
        let meta = RecordMeta {
            kind: Default::default(),
            identity: None,
            version: bytes::Bytes::from_static(b"qtap test"),
        };
        // Stopped already: the lookup sends its query, then returns at once.
        let (turns, _) = watch::channel(Turns {
            head: 0,
            stop: true,
        });
        let (tx, mut rx) = mpsc::unbounded_channel();
        let sink = LaneSink::new(1, Hold::new(Spill::new(1 << 20)), turns.subscribe(), tx);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let mut done =
            runtime.block_on(lookup(spec, target, &meta, Session::default(), sink, false));
        assert!(done.result.is_none(), "stopped");
        assert!(
            done.session.is_some(),
            "a stopped lookup's session comes back"
        );
        assert!(
            lines(&mut rx).is_empty(),
            "not its turn: nothing handed over"
        );
        assert!(matches!(done.hold.pop(), Some(Ok(Produced::Record(_)))));
        assert!(done.hold.pop().is_none());
    }
}
