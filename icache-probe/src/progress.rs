//! A progress bar on stderr: drawn only when stderr is a terminal, and only
//! once the run has lasted a second.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Counts work units; shows a bar after the first second, on a terminal.
pub struct Progress {
    bar: ProgressBar,
    started: Instant,
    shown: bool,
    enabled: bool,
}

impl Progress {
    /// A hidden bar for `total` units. `enabled: false` never draws.
    pub fn new(total: u64, enabled: bool) -> Progress {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
        if let Ok(style) =
            ProgressStyle::with_template("{msg:28} [{bar:30}] {percent:>3}% {elapsed}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        Progress {
            bar,
            started: Instant::now(),
            shown: false,
            enabled,
        }
    }

    /// Names the phase now running.
    pub fn phase(&mut self, msg: &'static str) {
        self.bar.set_message(msg);
        self.tick(0);
    }

    /// `n` more units done.
    pub fn tick(&mut self, n: u64) {
        self.bar.inc(n);
        if self.enabled && !self.shown && self.started.elapsed() > Duration::from_secs(1) {
            // `stderr()` draws nothing when stderr is not a terminal.
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.shown = true;
        }
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
