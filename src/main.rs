//! The `conclave` binary: parse arguments, dispatch, map errors to exit codes.

#![forbid(unsafe_code)]

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::run()
}
