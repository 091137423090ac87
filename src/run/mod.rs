//! Orchestration: what a run does with a validated configuration. `read`
//! renders dnstap inputs; `collect` listens on sockets for live dnstap
//! senders; live queries are still in `crate::app` while it is being moved
//! here.

pub mod capture;
pub mod collect;
pub mod read;
