//! Asking for passphrases and PINs: from the terminal without echo, or one line per prompt
//! from `--passphrase-fd N` (for scripted ceremonies and tests). Never from argv or the
//! environment.
//!
//! At the terminal the line is read with echo off *and* with the terminal's signal keys off
//! (ISIG), one key at a time: Ctrl-C then arrives as a key, not as SIGINT, so conclave puts the
//! terminal back as it was and exits "cancelled" (4). Killed by SIGINT at the prompt, as with
//! an ordinary echo-off read, it would leave the officer's shell without echo.

use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal};

use conclave::secret::Passphrase;

use crate::cli::{Failure, exit};

pub struct Prompter {
    fd: Option<(u32, BufReader<File>)>,
}

impl Prompter {
    /// `fd`: read answers from this file descriptor instead of the terminal.
    pub fn new(fd: Option<u32>) -> Result<Self, Failure> {
        let fd = match fd {
            None => None,
            Some(n) => {
                // Opening /dev/fd/N duplicates the descriptor without unsafe code.
                let f = File::open(format!("/dev/fd/{n}")).map_err(|e| {
                    Failure::usage(format!(
                        "--passphrase-fd {n}: cannot read file descriptor {n}: {e}"
                    ))
                    .hint("open it for reading in the calling shell, e.g. `3<passphrases.txt`")
                })?;
                Some((n, BufReader::new(f)))
            }
        };
        Ok(Prompter { fd })
    }

    /// Ask for a secret. `prompt` says what it is for, e.g. "Passphrase for alice.key".
    pub fn secret(&mut self, prompt: &str) -> Result<Passphrase, Failure> {
        let answer = match &mut self.fd {
            Some((n, reader)) => {
                let mut line = zeroize::Zeroizing::new(String::new());
                let read = reader.read_line(&mut line).map_err(|e| {
                    Failure::usage(format!("--passphrase-fd {n}: read failed: {e}"))
                })?;
                if read == 0 {
                    return Err(Failure::usage(format!(
                        "--passphrase-fd {n}: no line left for \"{prompt}\" (one line per prompt, in prompt order)"
                    )));
                }
                let trimmed = line.trim_end_matches(['\n', '\r']);
                Passphrase::new(trimmed.to_owned())
            }
            None => {
                if !std::io::stderr().is_terminal() && !std::io::stdin().is_terminal() {
                    return Err(Failure::usage(format!(
                        "no terminal to ask \"{prompt}\" on"
                    ))
                    .hint("run conclave in a terminal, or give --passphrase-fd N for a scripted ceremony"));
                }
                read_hidden(prompt)?
            }
        };
        if answer.is_empty() {
            return Err(Failure {
                message: format!("empty answer to \"{prompt}\": cancelled"),
                hint: None,
                code: exit::CANCELLED,
            });
        }
        Ok(answer)
    }

    /// Whether answers come from the terminal (an officer typing), not `--passphrase-fd`.
    pub fn interactive(&self) -> bool {
        self.fd.is_none()
    }

    /// Ask for a secret and try it with `attempt`. At the terminal a wrong one is said so and
    /// asked for again, [`TRIES`] times in all (fewer when `attempt` says not to ask again: a
    /// token on its last PIN try); from `--passphrase-fd` the first wrong one ends the
    /// command, as a script cannot type another. Each try is a new answer: a secret is never
    /// tried twice.
    pub fn secret_tries<T>(
        &mut self,
        prompt: &str,
        mut attempt: impl FnMut(&Passphrase) -> Result<Try<T>, Failure>,
    ) -> Result<T, Failure> {
        let tries = if self.interactive() { TRIES } else { 1 };
        let mut tried = 0;
        loop {
            let secret = self.secret(prompt)?;
            tried += 1;
            match attempt(&secret)? {
                Try::Done(t) => return Ok(t),
                Try::Wrong { failure, again } => {
                    let Some(why) = again.filter(|_| tried < tries) else {
                        return Err(failure);
                    };
                    let left = tries - tried;
                    eprintln!(
                        "{why}. Try again ({left} more tr{}; an empty answer cancels).",
                        if left == 1 { "y" } else { "ies" }
                    );
                }
            }
        }
    }

    /// Ask twice for a new secret and require both entries to match.
    pub fn new_secret(&mut self, what: &str) -> Result<Passphrase, Failure> {
        let first = self.secret(&format!("New passphrase for {what}"))?;
        let second = self.secret(&format!("Repeat the passphrase for {what}"))?;
        if !first.matches(&second) {
            return Err(
                Failure::usage("the two passphrases differ; nothing was written")
                    .hint("run the command again and type the same passphrase twice"),
            );
        }
        Ok(first)
    }
}

/// How many times a secret is asked for at the terminal before the command gives up.
pub const TRIES: u32 = 3;

/// What one try of a secret ([`Prompter::secret_tries`]) gave.
pub enum Try<T> {
    /// The secret worked.
    Done(T),
    /// The secret was wrong: the failure that ends the command if it is not asked for again,
    /// and, when it may be, what to say before asking (none: a token whose next wrong PIN
    /// locks it is not asked again).
    Wrong {
        failure: Failure,
        again: Option<String>,
    },
}

pub fn cancelled() -> Failure {
    Failure {
        message: "cancelled".into(),
        hint: None,
        code: exit::CANCELLED,
    }
}

/// The keys [`read_hidden`] acts on; any other byte is part of the answer.
mod keys {
    pub const CTRL_C: u8 = 0x03;
    pub const CTRL_D: u8 = 0x04;
    pub const BACKSPACE: u8 = 0x08;
    pub const CTRL_U: u8 = 0x15;
    pub const CTRL_BACKSLASH: u8 = 0x1c;
    pub const DELETE: u8 = 0x7f;
}

/// The longest answer read from the terminal (a passphrase of 64 words is under 700 bytes).
const MAX_ANSWER: usize = 4096;

/// Puts the terminal's modes back when dropped: on every return, error and panic path.
struct Restore<'a> {
    tty: &'a File,
    saved: rustix::termios::Termios,
}

impl Drop for Restore<'_> {
    fn drop(&mut self) {
        use rustix::termios::{OptionalActions, tcsetattr};
        let _ = tcsetattr(self.tty, OptionalActions::Now, &self.saved);
    }
}

/// Ask `prompt` on the controlling terminal and read one line without echo.
///
/// Canonical mode, echo and signal keys are off while reading, so conclave sees every key:
/// Enter ends the line; Ctrl-C, Ctrl-\\ and Ctrl-D on an empty line cancel; the terminal's
/// erase and kill keys (Backspace, Ctrl-U) edit the line.
fn read_hidden(prompt: &str) -> Result<Passphrase, Failure> {
    use rustix::termios::{
        LocalModes, OptionalActions, SpecialCodeIndex as Cc, tcgetattr, tcsetattr,
    };
    use std::io::{Read, Write};
    let no_tty = |e: std::io::Error| Failure::usage(format!("cannot use the terminal: {e}"));
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .map_err(no_tty)?;
    let saved = tcgetattr(&tty).map_err(|e| no_tty(e.into()))?;
    let (erase, kill) = (
        saved.special_codes[Cc::VERASE],
        saved.special_codes[Cc::VKILL],
    );
    let mut quiet = saved.clone();
    quiet
        .local_modes
        .remove(LocalModes::ECHO | LocalModes::ICANON | LocalModes::ISIG);
    quiet.special_codes[Cc::VMIN] = 1;
    quiet.special_codes[Cc::VTIME] = 0;
    // Type-ahead typed before the prompt, with echo on, is dropped rather than taken as part
    // of the passphrase (TCSAFLUSH). The modes change before the prompt shows, so that every
    // key pressed after it is read with them.
    tcsetattr(&tty, OptionalActions::Flush, &quiet).map_err(|e| no_tty(e.into()))?;
    let guard = Restore { tty: &tty, saved };
    let mut out = guard.tty;
    write!(out, "{prompt}: ")
        .and_then(|()| out.flush())
        .map_err(no_tty)?;
    let mut line = zeroize::Zeroizing::new(Vec::<u8>::new());
    let mut reader = guard.tty;
    let outcome = loop {
        let mut byte = [0u8; 1];
        match reader.read(&mut byte) {
            Ok(0) => break Err(cancelled()),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => break Err(no_tty(e)),
        }
        match byte[0] {
            b'\r' | b'\n' => break Ok(()),
            keys::CTRL_C | keys::CTRL_BACKSLASH => break Err(cancelled()),
            keys::CTRL_D if line.is_empty() => break Err(cancelled()),
            b if b == erase || b == keys::DELETE || b == keys::BACKSPACE => {
                // One character, however many UTF-8 bytes it took.
                while let Some(last) = line.pop() {
                    if last & 0xc0 != 0x80 {
                        break;
                    }
                }
            }
            b if b == kill || b == keys::CTRL_U => line.clear(),
            b => {
                if line.len() >= MAX_ANSWER {
                    break Err(Failure::usage(format!(
                        "the answer to \"{prompt}\" is longer than {MAX_ANSWER} bytes"
                    )));
                }
                line.push(b);
            }
        }
    };
    drop(guard);
    // The cursor is still after the prompt: end its line, as the Enter key would have.
    let _ = writeln!(&tty);
    outcome?;
    let text = String::from_utf8(std::mem::take(&mut *line)).map_err(|e| {
        // The bytes are in the error; zeroize them with it.
        let mut bytes = zeroize::Zeroizing::new(e.into_bytes());
        bytes.clear();
        Failure::usage(format!("the answer to \"{prompt}\" is not UTF-8 text"))
    })?;
    Ok(Passphrase::new(text))
}
