//! The exit-code table: one documented constant per outcome, as dig's
//! codes (plus qtap's own for damaged traces and signals). A leaf module:
//! it imports nothing, so every layer may name a code.
//!
//! | Code | Meaning |
//! |------|---------|
//! | 0    | a response was received (NXDOMAIN and SERVFAIL included); `--read` rendered everything |
//! | 1    | usage error |
//! | 8    | a `--read` input (or the `-f` batch file) could not be opened or was damaged; the collector lost frames or refused connections (`--max-connections`) |
//! | 9    | no reply from the server |
//! | 10   | internal error (cannot write the trace, the output, listen on a socket, ...) |
//! | 11   | `--tap unix:`/`tcp:`: the collector is absent, refuses dnstap, or frames could not be delivered |
//! | 12   | `--replay`: a new response differs from the recorded one, or none came (as `diff`'s 1) |
//! | 129, 130, 131, 143 | interrupted by SIGHUP / SIGINT / SIGQUIT / SIGTERM (the trace is still closed properly) |

/// A response was received.
pub const OK: u8 = 0;
/// Usage error.
pub const USAGE: u8 = 1;
/// A `--read` input was unreadable or damaged.
pub const DATA_LOST: u8 = 8;
/// No reply from any server.
pub const NO_REPLY: u8 = 9;
/// Internal error.
pub const INTERNAL: u8 = 10;
/// `--tap unix:`/`tcp:`: the collector is absent or refuses dnstap (before
/// any query), or frames were not delivered to it.
pub const COLLECTOR: u8 = 11;
/// `--replay`: some response differs from the recorded one, or no new
/// response came for some query.
pub const REPLAY_DIFFERS: u8 = 12;
/// Interrupted by SIGHUP (128 + 1): closed terminal, dropped session.
pub const SIGHUP: u8 = 129;
/// Interrupted by SIGINT (128 + 2).
pub const SIGINT: u8 = 130;
/// Interrupted by SIGQUIT (128 + 3).
pub const SIGQUIT: u8 = 131;
/// Interrupted by SIGTERM (128 + 15).
pub const SIGTERM: u8 = 143;

/// The code of a `--read`-like run: [`DATA_LOST`] when `lost` frames or
/// inputs were lost, else [`OK`].
pub const fn lost_or_ok(lost: u64) -> u8 {
    if lost > 0 {
        DATA_LOST
    } else {
        OK
    }
}
