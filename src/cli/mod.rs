//! Command-line interface: clap types, one file per subcommand, terminal output.

mod inspect;
mod verify;

use std::path::Path;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit codes (also listed in `--help` and the README).
pub mod exit {
    /// Everything checked holds.
    pub const OK: u8 = 0;
    /// Verification failed or metadata is malformed.
    pub const FAILED: u8 = 1;
    /// Usage or I/O error.
    pub const USAGE: u8 = 2;
}

const EXIT_CODES: &str = "\
Exit codes:
  0  success: everything checked holds
  1  verification failed, or metadata is malformed
  2  usage error (unknown flag, missing path) or I/O error
  3  device error (hardware tokens)
  4  cancelled";

/// Offline key ceremonies for The Update Framework (TUF), built for PyPI.
///
/// conclave runs on an air-gapped machine. It builds, signs and verifies TUF metadata
/// with the same rules pip's client (python-tuf) applies.
#[derive(Parser)]
#[command(name = "conclave", version, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Verify(verify::Args),
    Inspect(inspect::Args),
}

pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            });
        }
    };
    let result = match cli.command {
        Command::Verify(args) => verify::run(args),
        Command::Inspect(args) => inspect::run(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {}", e.message);
            if let Some(hint) = e.hint {
                eprintln!("hint: {hint}");
            }
            ExitCode::from(e.code)
        }
    }
}

/// An error that ends a command: a message, an optional hint, and the exit code.
pub struct Failure {
    pub message: String,
    pub hint: Option<String>,
    pub code: u8,
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            hint: None,
            code: exit::USAGE,
        }
    }

    pub fn failed(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            hint: None,
            code: exit::FAILED,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// Read a file for a command, turning I/O errors into a usage failure that names the file.
pub fn read_file(path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| {
        Failure::usage(format!(
            "{}: cannot read: {}",
            conclave::display::escape(&path.display().to_string()),
            io_reason(&e)
        ))
    })
}

pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// Parse a `--at` time: `YYYY-MM-DD` (midnight UTC) or `YYYY-MM-DDTHH:MM:SSZ`.
pub fn parse_time(s: &str) -> Result<conclave::metadata::Expires, String> {
    let full = if s.len() == 10 {
        format!("{s}T00:00:00Z")
    } else {
        s.to_owned()
    };
    conclave::metadata::Expires::parse(&full).map_err(|_| {
        format!("\"{s}\" is not a date (YYYY-MM-DD) or UTC time (YYYY-MM-DDTHH:MM:SSZ)")
    })
}

/// "in 364 days" / "3 days ago", for expiry dates.
pub fn relative(expires: conclave::metadata::Expires, now: conclave::metadata::Expires) -> String {
    let secs = expires.unix() - now.unix();
    let (amount, past) = (secs.unsigned_abs(), secs <= 0);
    let text = if amount >= 2 * 86_400 {
        format!("{} days", amount / 86_400)
    } else if amount >= 2 * 3600 {
        format!("{} hours", amount / 3600)
    } else {
        format!("{} minutes", amount / 60)
    };
    if past {
        format!("EXPIRED {text} ago")
    } else {
        format!("in {text}")
    }
}
