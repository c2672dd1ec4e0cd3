//! The `conclave` binary: parse arguments, dispatch, map errors to exit codes.

#![forbid(unsafe_code)]

// std's print!, println!, eprint! and eprintln! panic when the write fails (a reader that went
// away: `conclave verify DIR | head -1`). These shadow them in the whole binary (a macro_rules
// macro defined before use takes precedence over the prelude's), so every command, present
// and future, writes through `cli::out`, which never panics: see there.
macro_rules! print {
    ($($arg:tt)*) => { $crate::cli::out::stdout(format_args!($($arg)*), false) };
}
macro_rules! println {
    () => { $crate::cli::out::stdout(format_args!(""), true) };
    ($($arg:tt)*) => { $crate::cli::out::stdout(format_args!($($arg)*), true) };
}
macro_rules! eprint {
    ($($arg:tt)*) => { $crate::cli::out::stderr(format_args!($($arg)*), false) };
}
macro_rules! eprintln {
    () => { $crate::cli::out::stderr(format_args!(""), true) };
    ($($arg:tt)*) => { $crate::cli::out::stderr(format_args!($($arg)*), true) };
}

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::run()
}
