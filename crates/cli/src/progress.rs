//! A progress bar on standard error for runs that take a while.
//!
//! It stays hidden for the first second of wall time, so that short runs
//! print nothing but their data, and altogether unless both standard output
//! and standard error are terminals: a run whose output goes to a file or a
//! pipe is part of a script, and a script's log is no place for a bar.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long a run goes before its bar appears.
const DELAY: Duration = Duration::from_secs(1);

/// Progress in simulated seconds, shared by the threads of a sweep.
pub struct Progress {
    bar: ProgressBar,
    started: Instant,
    /// Whether the bar may ever be drawn.
    enabled: bool,
    shown: AtomicBool,
}

/// Whether a bar may be drawn, given which of standard output and standard
/// error are terminals.
fn shown_on_terminals(stdout: bool, stderr: bool) -> bool {
    stdout && stderr
}

impl Progress {
    /// A bar for `total` simulated seconds, labelled with `what`.
    pub fn new(total: u64, what: &str) -> Progress {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
        let template =
            "{prefix} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} simulated s, {eta} left";
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        bar.set_prefix(what.to_string());
        Progress {
            bar,
            started: Instant::now(),
            enabled: shown_on_terminals(
                std::io::stdout().is_terminal(),
                std::io::stderr().is_terminal(),
            ),
            shown: AtomicBool::new(false),
        }
    }

    /// Counts `seconds` more simulated seconds done.
    pub fn advance(&self, seconds: u64) {
        self.bar.inc(seconds);
        if self.enabled
            && !self.shown.load(Ordering::Relaxed)
            && self.started.elapsed() >= DELAY
            && !self.shown.swap(true, Ordering::Relaxed)
        {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }
}

impl Drop for Progress {
    /// Removes the bar, leaving standard error as it was, however the run
    /// ended: an error message must not follow a half-drawn bar.
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::shown_on_terminals;

    #[test]
    fn the_bar_needs_both_streams_on_a_terminal() {
        assert!(shown_on_terminals(true, true));
        assert!(!shown_on_terminals(false, true), "output to a file or pipe: quiet");
        assert!(!shown_on_terminals(true, false), "messages to a log: quiet");
    }
}
