//! Automatic transcript steps: every ceremony command that runs inside a ceremony directory
//! appends what it did to that directory's hash-chained transcript.
//!
//! The ceremony directory is the one given with the global `--transcript DIR` option, or
//! else the nearest directory holding `transcript.jsonl` above a file the command writes (or
//! verifies), at most three levels up. `conclave ceremony genesis` and `conclave ceremony
//! rehearse` create one. The chain is checked before the command does its work, so a step is
//! never chained onto a tampered transcript, and nothing is written when it is broken.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use conclave::ceremony::transcript::{self, Entry, Transcript};
use conclave::display::escape;

use crate::cli::{Failure, chain, shown};

static EXPLICIT: OnceLock<PathBuf> = OnceLock::new();
/// Files written through `write_output` by this command.
static WRITTEN: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

/// Note a file this command wrote.
pub fn wrote(path: &Path) {
    if let Ok(mut w) = WRITTEN.lock() {
        w.push(path.to_path_buf());
    }
}

/// After a command that does not record itself: record its command line and the files it
/// wrote, when it ran in a ceremony directory. Its outputs are already written, so a broken
/// transcript is reported (exit 1) but cannot undo them.
pub fn after_command() -> Result<(), Failure> {
    let written: Vec<PathBuf> = WRITTEN.lock().map(|w| w.clone()).unwrap_or_default();
    if written.is_empty() {
        return Ok(());
    }
    let anchors: Vec<&Path> = written.iter().map(PathBuf::as_path).collect();
    let Some(recorder) = Recorder::find(&anchors)? else {
        return Ok(());
    };
    let line: Vec<String> = std::env::args()
        .skip(1)
        .map(|a| escape(&a).into_owned())
        .collect();
    recorder.record(
        format!("conclave {}", line.join(" ")),
        &[],
        &anchors,
        vec![],
        None,
    )
}

/// Set from the global `--transcript DIR` option.
pub fn set_explicit(dir: PathBuf) {
    let _ = EXPLICIT.set(dir);
}

/// A ceremony directory whose transcript records this command.
pub struct Recorder {
    dir: PathBuf,
}

fn has_transcript(dir: &Path) -> bool {
    dir.join(transcript::FILE_NAME).is_file()
}

/// The nearest directory with a transcript at or above `path`'s directory (three levels).
fn discover(path: &Path) -> Option<PathBuf> {
    let start = if path.is_dir() {
        path.to_path_buf()
    } else {
        let parent = path.parent()?;
        if parent.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            parent.to_path_buf()
        }
    };
    let start = std::fs::canonicalize(&start).ok()?;
    start
        .ancestors()
        .take(3)
        .find(|d| has_transcript(d))
        .map(Path::to_path_buf)
}

impl Recorder {
    /// The recorder for a command writing or checking `anchors`, if it runs in a ceremony
    /// directory. A broken transcript stops the command here (exit 1), before any work.
    pub fn find(anchors: &[&Path]) -> Result<Option<Recorder>, Failure> {
        let dir = match EXPLICIT.get() {
            Some(d) => {
                if !d.is_dir() {
                    return Err(Failure::usage(format!(
                        "--transcript {}: not a directory",
                        shown(d)
                    ))
                    .hint("give the ceremony directory (transcript.jsonl is created in it)"));
                }
                Some(d.clone())
            }
            None => anchors.iter().find_map(|a| discover(a)),
        };
        let Some(dir) = dir else { return Ok(None) };
        let path = dir.join(transcript::FILE_NAME);
        if path.exists() {
            transcript::read(&path).map_err(|e| match e {
                transcript::TranscriptError::Broken { .. } => Failure::failed(format!(
                    "{}: the ceremony transcript is broken, so this step cannot be recorded; \
                     nothing was done",
                    shown(&path)
                ))
                .hint("run `conclave transcript verify` on the ceremony directory"),
                other => Failure::usage(escape(&chain(&other))),
            })?;
        }
        Ok(Some(Recorder { dir }))
    }

    /// A path as recorded: relative to the ceremony directory when inside it.
    fn name(&self, p: &Path) -> String {
        let abs = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        let base = std::fs::canonicalize(&self.dir).unwrap_or_else(|_| self.dir.clone());
        abs.strip_prefix(&base)
            .map(|r| r.display().to_string())
            .unwrap_or_else(|_| p.display().to_string())
    }

    fn files(&self, paths: &[&Path]) -> Result<Vec<(String, String)>, Failure> {
        paths
            .iter()
            .filter(|p| p.is_file())
            .map(|p| {
                let digest =
                    transcript::file_sha256(p).map_err(|e| Failure::usage(escape(&chain(&e))))?;
                Ok((self.name(p), digest))
            })
            .collect()
    }

    /// Append the step. Inputs and outputs are recorded with their SHA-256.
    pub fn record(
        &self,
        step: impl Into<String>,
        inputs: &[&Path],
        outputs: &[&Path],
        keyids: Vec<String>,
        note: Option<String>,
    ) -> Result<(), Failure> {
        let entry = Entry {
            step: step.into(),
            officer: None,
            inputs: self.files(inputs)?,
            outputs: self.files(outputs)?,
            keyids,
            note,
        };
        let line = Transcript::append(&self.dir, entry).map_err(|e| {
            Failure::failed(format!(
                "the step was done, but could not be recorded: {}",
                escape(&chain(&e))
            ))
            .hint("record it by hand with `conclave transcript note`")
        })?;
        eprintln!(
            "Recorded as step {} of {}.",
            line.seq,
            shown(&self.dir.join(transcript::FILE_NAME))
        );
        Ok(())
    }
}

/// Record a step if the command runs in a ceremony directory (see the module docs).
pub fn step(
    recorder: &Option<Recorder>,
    step: impl Into<String>,
    inputs: &[&Path],
    outputs: &[&Path],
    keyids: Vec<String>,
) -> Result<(), Failure> {
    match recorder {
        Some(r) => r.record(step, inputs, outputs, keyids, None),
        None => Ok(()),
    }
}
