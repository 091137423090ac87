//! Orchestration: what a run does with a validated configuration. `read`
//! renders dnstap inputs; live queries are still in `crate::app` while it
//! is being moved here.

pub mod hex;
pub mod progress;
pub mod read;
pub mod stats;
pub mod write;
