//! Progress on stderr for slow steps (reading a 300 MB claimed role, building, signing,
//! writing, verifying).
//!
//! A [`Step`] draws nothing for its first second, and nothing at all unless stderr is a
//! terminal: piped or redirected stderr (tests, logs, transcripts) stays exactly as it was.
//! On a terminal, after a second it draws one line, redrawn in place — a bar when the step
//! knows how much work there is, else a spinner — with the time so far; when the step ends
//! the line is replaced by "LABEL: done in N s".

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Steps shorter than this draw nothing.
const QUIET_FOR: Duration = Duration::from_secs(1);
const REDRAW: Duration = Duration::from_millis(125);
const WIDTH: usize = 30;

/// Steps now running. A step started inside another (reading one of many files) stays
/// silent: the outer step's line is the one on screen.
static ACTIVE: AtomicUsize = AtomicUsize::new(0);

struct Shared {
    label: String,
    total: u64,
    done: AtomicU64,
    stop: AtomicBool,
    drawn: AtomicBool,
}

/// One slow step. Dropping it ends the step.
pub struct Step {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    started: Instant,
}

impl Step {
    /// A step of unknown length (a spinner).
    pub fn start(label: impl Into<String>) -> Step {
        Step::counted(label, 0)
    }

    /// A step of `total` units (a bar); report progress with [`Step::inc`].
    pub fn counted(label: impl Into<String>, total: u64) -> Step {
        let shared = Arc::new(Shared {
            label: label.into(),
            total,
            done: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            drawn: AtomicBool::new(false),
        });
        let started = Instant::now();
        let outermost = ACTIVE.fetch_add(1, Ordering::AcqRel) == 0;
        let thread = (outermost && std::io::stderr().is_terminal()).then(|| {
            let s = Arc::clone(&shared);
            std::thread::spawn(move || draw_loop(&s, started))
        });
        Step {
            shared,
            thread,
            started,
        }
    }

    pub fn inc(&self, n: u64) {
        self.shared.done.fetch_add(n, Ordering::Relaxed);
    }
}

fn draw_loop(s: &Shared, started: Instant) {
    let mut frame = 0usize;
    loop {
        std::thread::park_timeout(REDRAW);
        if s.stop.load(Ordering::Acquire) {
            return;
        }
        let elapsed = started.elapsed();
        if elapsed < QUIET_FOR {
            continue;
        }
        let line = render(
            &s.label,
            s.done.load(Ordering::Relaxed),
            s.total,
            elapsed,
            frame,
        );
        frame += 1;
        let mut err = std::io::stderr().lock();
        // \r and clear-to-end-of-line: one line, redrawn in place.
        let _ = write!(err, "\r{line}\x1b[K");
        let _ = err.flush();
        s.drawn.store(true, Ordering::Release);
    }
}

/// The progress line: `LABEL [=====>     ]  45% 3.1 s, 14.5/s, 3.8 s left`, or
/// `LABEL | 3.1 s` without a total. The rate and time left come from the units done so far
/// (signatures, for a signing round on a token), and appear once there is one.
pub fn render(label: &str, done: u64, total: u64, elapsed: Duration, frame: usize) -> String {
    let secs = elapsed.as_secs_f64();
    if total == 0 {
        let spin = ['|', '/', '-', '\\'][frame % 4];
        return format!("{label} {spin} {secs:.1} s");
    }
    let done = done.min(total);
    let filled = (done as u128 * WIDTH as u128 / total as u128) as usize;
    let mut bar = "=".repeat(filled);
    if filled < WIDTH {
        bar.push('>');
        bar.push_str(&" ".repeat(WIDTH - filled - 1));
    }
    let pct = done as u128 * 100 / total as u128;
    if done == 0 || done == total || secs <= 0.0 {
        return format!("{label} [{bar}] {pct:>3}% {secs:.1} s");
    }
    let rate = done as f64 / secs;
    let left = (total - done) as f64 / rate;
    format!(
        "{label} [{bar}] {pct:>3}% {secs:.1} s, {rate:.1}/s, {} left",
        duration_words(left)
    )
}

/// Seconds as `42 s`, `7 min 5 s` or `2 h 3 min`.
pub fn duration_words(secs: f64) -> String {
    let s = secs.round().max(0.0) as u64;
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

impl Drop for Step {
    fn drop(&mut self) {
        ACTIVE.fetch_sub(1, Ordering::AcqRel);
        self.shared.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
            if self.shared.drawn.load(Ordering::Acquire) {
                eprintln!(
                    "\r{}: done in {:.1} s\x1b[K",
                    self.shared.label,
                    self.started.elapsed().as_secs_f64()
                );
            }
        }
    }
}

/// Run `f` as one step labelled `label`.
pub fn step<T>(label: impl Into<String>, f: impl FnOnce() -> T) -> T {
    let _s = Step::start(label);
    f()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_show_a_bar_or_a_spinner_and_the_time() {
        let t = Duration::from_millis(3140);
        assert_eq!(
            render("Reading", 45, 100, t, 0),
            "Reading [=============>                ]  45% 3.1 s, 14.3/s, 4 s left"
        );
        assert_eq!(duration_words(4095.0 / 2.5), "27 min 18 s");
        assert_eq!(duration_words(7300.0), "2 h 1 min");
        assert_eq!(
            render("Reading", 100, 100, t, 0),
            "Reading [==============================] 100% 3.1 s"
        );
        assert_eq!(
            render("Reading", 0, 100, t, 0),
            "Reading [>                             ]   0% 3.1 s"
        );
        // More than the total (a miscount) never overflows the bar.
        assert_eq!(render("x", 7, 5, t, 0), render("x", 5, 5, t, 0));
        assert_eq!(render("Signing", 0, 0, t, 1), "Signing / 3.1 s");
    }
}
