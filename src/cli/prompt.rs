//! Asking for passphrases and PINs: from the terminal without echo, or one line per prompt
//! from `--passphrase-fd N` (for scripted ceremonies and tests). Never from argv or the
//! environment.

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
                match rpassword::prompt_password(format!("{prompt}: ")) {
                    Ok(s) => Passphrase::new(s),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {
                        return Err(cancelled());
                    }
                    Err(e) => {
                        return Err(Failure::usage(format!(
                            "cannot read from the terminal: {e}"
                        )));
                    }
                }
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

pub fn cancelled() -> Failure {
    Failure {
        message: "cancelled".into(),
        hint: None,
        code: exit::CANCELLED,
    }
}
