//! Standard output and standard error that never panic.
//!
//! std's `print!` and `println!` panic when a write fails, so `conclave verify DIR | head -1`
//! ended in a panic (exit 101) once `head` had gone. Every `print!`, `println!`, `eprint!` and
//! `eprintln!` in the binary is one of the macros at the top of `main.rs`, which shadow std's
//! and come here:
//!
//! - stdout: the first failed write is remembered and later output is dropped, but the command
//!   runs to its end, so that what it writes to files (and the transcript) is whole. Then
//!   [`finish`] turns a closed pipe into [`exit::STDOUT_CLOSED`], quietly, and any other
//!   failure (a full disk under `> file`) into an I/O error.
//! - stderr: a failed write is ignored; there is nowhere left to say anything.
//!
//! [`exit::STDOUT_CLOSED`]: crate::cli::exit::STDOUT_CLOSED

use std::io::{ErrorKind, Write};
use std::sync::Mutex;

/// The first write to stdout that failed, if any: its kind and its text.
static STDOUT_FAILED: Mutex<Option<(ErrorKind, String)>> = Mutex::new(None);

fn failed() -> Option<(ErrorKind, String)> {
    STDOUT_FAILED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
}

fn remember(e: &std::io::Error) {
    let mut failed = STDOUT_FAILED.lock().unwrap_or_else(|e| e.into_inner());
    failed.get_or_insert_with(|| (e.kind(), e.to_string()));
}

/// Write to stdout (`print!`); `newline` adds a line end (`println!`).
pub fn stdout(args: std::fmt::Arguments<'_>, newline: bool) {
    if failed().is_some() {
        return;
    }
    let mut out = std::io::stdout().lock();
    let written = out.write_fmt(args).and_then(|()| {
        if newline {
            out.write_all(b"\n")
        } else {
            Ok(())
        }
    });
    if let Err(e) = written {
        remember(&e);
    }
}

/// Write to stderr (`eprint!`, `eprintln!`), ignoring failure.
pub fn stderr(args: std::fmt::Arguments<'_>, newline: bool) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_fmt(args).and_then(|()| {
        if newline {
            err.write_all(b"\n")
        } else {
            Ok(())
        }
    });
}

/// How stdout fared, once the command is done: flush it, then `None` if every write reached
/// it, or the exit code and message (none for a closed pipe) to end with.
pub fn finish() -> Option<(u8, Option<String>)> {
    if failed().is_none()
        && let Err(e) = std::io::stdout().lock().flush()
    {
        remember(&e);
    }
    match failed()? {
        (ErrorKind::BrokenPipe, _) => Some((crate::cli::exit::STDOUT_CLOSED, None)),
        (_, why) => Some((
            crate::cli::exit::USAGE,
            Some(format!("cannot write to standard output: {why}")),
        )),
    }
}
