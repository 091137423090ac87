//! Progress on stderr for long reads (rendering, `--write`, `--stats`,
//! `--rrsets`), through indicatif: shown only when stderr is a terminal and
//! stdout is not (the user is waiting on a file or a pipe, and the bar
//! cannot mix with the output), and only for inputs whose size is known.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Whether to show progress, from where stdout and stderr go.
pub fn wanted(stderr_is_terminal: bool, stdout_is_terminal: bool) -> bool {
    stderr_is_terminal && !stdout_is_terminal
}

/// How many frames pass between two updates (updates are cheap, but not
/// free at a million frames a second).
const EVERY: u64 = 4096;

/// A progress bar over the bytes of one input, or nothing.
pub struct Progress {
    bar: Option<ProgressBar>,
    frames: u64,
}

impl Progress {
    /// A bar for an input of `len` bytes (None: unknown, no bar), shown
    /// when [`wanted`] says so for this process.
    pub fn new(len: Option<u64>, name: &str) -> Progress {
        let show = wanted(
            std::io::stderr().is_terminal(),
            std::io::stdout().is_terminal(),
        );
        let bar = match len {
            Some(len) if show && len > 0 => {
                let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
                if let Ok(style) = ProgressStyle::with_template(
                    "{msg} {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
                ) {
                    bar.set_style(style);
                }
                // The name was escaped by the caller.
                bar.set_message(name.to_string());
                Some(bar)
            }
            _ => None,
        };
        Progress { bar, frames: 0 }
    }

    /// Called once a frame; `position` is the bytes read so far.
    pub fn frame(&mut self, position: u64) {
        self.frames += 1;
        if self.frames.is_multiple_of(EVERY) {
            if let Some(bar) = &self.bar {
                bar.set_position(position);
            }
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_only_for_a_terminal_stderr_and_a_redirected_stdout() {
        assert!(wanted(true, false));
        assert!(!wanted(true, true));
        assert!(!wanted(false, false));
        assert!(!wanted(false, true));
    }
}
