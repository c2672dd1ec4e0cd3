//! Automatic transcript steps: every ceremony command that writes into a ceremony directory
//! appends what it did to that directory's hash-chained transcript.
//!
//! A ceremony directory is one holding `transcript.jsonl`; a file belongs to the nearest
//! ceremony directory above it, however deep. A command is recorded
//!
//! - in the ceremony directory of every file it writes: the transcript of a directory is the
//!   record of what was done to it, so naming another directory with `--ceremony-dir` (or
//!   writing ten levels down) does not keep a write out of it;
//! - in the directory the global `--ceremony-dir DIR` option names, too;
//! - when neither applies, in the ceremony directory of the first file it reads that has one
//!   (a signature written to a USB stick is recorded where its draft lives).
//!
//! `conclave ceremony genesis` and `conclave ceremony rehearse` create a transcript. The
//! chains are checked before the command does its work, so a step is never chained onto a
//! tampered transcript, and nothing is written when one is broken. As a last guard, after every
//! command each file it wrote through the command line's writers is looked at again: a ceremony
//! directory that received a file but no step of this command gets one (its command line and
//! the files).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use conclave::ceremony::transcript::{self, Entry, Line, Transcript, TranscriptError};
use conclave::display::escape;

use crate::cli::{Failure, chain, shown};

static EXPLICIT: OnceLock<PathBuf> = OnceLock::new();
/// Files this command wrote (through `write_output`, `write_metadata`, `write_new_dir` or
/// [`wrote`]).
static WRITTEN: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
/// Ceremony directories (canonical) this command appended a step to.
static RECORDED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Note a file this command wrote.
pub fn wrote(path: &Path) {
    if let Ok(mut w) = WRITTEN.lock() {
        w.push(path.to_path_buf());
    }
}

fn canonical(dir: &Path) -> PathBuf {
    std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())
}

/// Append `entry` to the transcript in `dir` and note that this command recorded itself there.
/// Every step the command line appends goes through here.
pub fn append(dir: &Path, entry: Entry) -> Result<Line, TranscriptError> {
    let line = Transcript::append(dir, entry)?;
    if let Ok(mut r) = RECORDED.lock() {
        r.push(canonical(dir));
    }
    Ok(line)
}

fn recorded(dir: &Path) -> bool {
    let dir = canonical(dir);
    RECORDED.lock().is_ok_and(|r| r.contains(&dir))
}

/// The command line, as recorded (escaped: it may name files from elsewhere).
fn command_line() -> String {
    let line: Vec<String> = std::env::args()
        .skip(1)
        .map(|a| escape(&a).into_owned())
        .collect();
    format!("conclave {}", line.join(" "))
}

/// After every command that succeeded: each ceremony directory that received a file this
/// command wrote, but no step of it, gets one (the command line and the files written there).
/// With `explicit_too` (commands that do not record themselves) the `--ceremony-dir` directory
/// gets one as well, with every file written. The outputs are already written, so a broken
/// transcript is reported (exit 1) but cannot undo them.
pub fn after_command(explicit_too: bool) -> Result<(), Failure> {
    let written: Vec<PathBuf> = WRITTEN.lock().map(|w| w.clone()).unwrap_or_default();
    if written.is_empty() {
        return Ok(());
    }
    let mut groups: Vec<(PathBuf, Vec<&Path>)> = Vec::new();
    for w in &written {
        if let Some(dir) = discover(w) {
            add_to_group(&mut groups, dir, w);
        }
    }
    if explicit_too && let Some(x) = EXPLICIT.get() {
        for w in &written {
            add_to_group(&mut groups, x.clone(), w);
        }
    }
    for (dir, files) in groups {
        if recorded(&dir) {
            continue;
        }
        let recorder = Recorder::checked(vec![dir])?;
        recorder.record(command_line(), &[], &files, vec![], None)?;
    }
    Ok(())
}

fn add_to_group<'a>(groups: &mut Vec<(PathBuf, Vec<&'a Path>)>, dir: PathBuf, file: &'a Path) {
    let key = canonical(&dir);
    match groups.iter_mut().find(|(d, _)| canonical(d) == key) {
        Some((_, files)) => files.push(file),
        None => groups.push((dir, vec![file])),
    }
}

/// Set from the global `--ceremony-dir DIR` option.
pub fn set_explicit(dir: PathBuf) {
    let _ = EXPLICIT.set(dir);
}

/// The ceremony directories whose transcripts record this command.
pub struct Recorder {
    dirs: Vec<PathBuf>,
}

fn has_transcript(dir: &Path) -> bool {
    dir.join(transcript::FILE_NAME).is_file()
}

/// The ceremony directory `path` belongs to: the nearest directory at or above it (above its
/// parent, for a file) holding a transcript. A path that does not exist yet (an output about to
/// be written, in directories about to be made) belongs where its nearest existing ancestor
/// does; links are followed, so a write through a link is found where it lands.
pub fn discover(path: &Path) -> Option<PathBuf> {
    let mut start = if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent()?.to_path_buf()
    };
    if start.as_os_str().is_empty() {
        start = PathBuf::from(".");
    }
    let existing = start
        .ancestors()
        .find(|a| a.exists())
        .map(Path::to_path_buf)?;
    let existing = if existing.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        existing
    };
    let start = std::fs::canonicalize(&existing).ok()?;
    start
        .ancestors()
        .find(|d| has_transcript(d))
        .map(Path::to_path_buf)
}

impl Recorder {
    /// The recorder for a command that writes `writes` and reads `reads` (see the module docs
    /// for which transcripts that is). A broken transcript stops the command here (exit 1),
    /// before any work.
    pub fn find(writes: &[&Path], reads: &[&Path]) -> Result<Option<Recorder>, Failure> {
        let mut dirs: Vec<PathBuf> = writes.iter().filter_map(|w| discover(w)).collect();
        if let Some(d) = EXPLICIT.get() {
            if !d.is_dir() {
                return Err(Failure::usage(format!(
                    "--ceremony-dir {}: not a directory",
                    shown(d)
                ))
                .hint("give the ceremony directory (transcript.jsonl is created in it)"));
            }
            dirs.push(d.clone());
        }
        if dirs.is_empty() {
            dirs.extend(reads.iter().find_map(|r| discover(r)));
        }
        if dirs.is_empty() {
            return Ok(None);
        }
        Recorder::checked(dirs).map(Some)
    }

    /// A recorder for `dirs` (duplicates dropped), each transcript's chain checked.
    fn checked(dirs: Vec<PathBuf>) -> Result<Recorder, Failure> {
        let mut unique: Vec<PathBuf> = Vec::new();
        for d in dirs {
            if !unique.iter().any(|u| canonical(u) == canonical(&d)) {
                unique.push(d);
            }
        }
        for dir in &unique {
            let path = dir.join(transcript::FILE_NAME);
            if path.exists() {
                transcript::read(&path).map_err(|e| match e {
                    TranscriptError::Broken { .. } => Failure::failed(format!(
                        "{}: the ceremony transcript is broken, so this step cannot be recorded; \
                         nothing was done",
                        shown(&path)
                    ))
                    .hint("run `conclave transcript verify` on the ceremony directory"),
                    other => Failure::usage(escape(&chain(&other))),
                })?;
            }
        }
        Ok(Recorder { dirs: unique })
    }

    /// A path as recorded: relative to the ceremony directory when inside it.
    fn name(dir: &Path, p: &Path) -> String {
        let abs = canonical(p);
        abs.strip_prefix(canonical(dir))
            .map(|r| r.display().to_string())
            .unwrap_or_else(|_| p.display().to_string())
    }

    fn files(dir: &Path, paths: &[&Path]) -> Result<Vec<(String, String)>, Failure> {
        paths
            .iter()
            .filter(|p| p.is_file())
            .map(|p| {
                let digest =
                    transcript::file_sha256(p).map_err(|e| Failure::usage(escape(&chain(&e))))?;
                Ok((Self::name(dir, p), digest))
            })
            .collect()
    }

    /// Append the step to each transcript. Inputs and outputs are recorded with their SHA-256.
    pub fn record(
        &self,
        step: impl Into<String>,
        inputs: &[&Path],
        outputs: &[&Path],
        keyids: Vec<String>,
        note: Option<String>,
    ) -> Result<(), Failure> {
        self.record_by(step.into(), inputs, outputs, keyids, note, None)
    }

    /// [`Recorder::record`], naming the officer who did it (the holder of the key that
    /// signed, as the plan says).
    fn record_by(
        &self,
        step: String,
        inputs: &[&Path],
        outputs: &[&Path],
        keyids: Vec<String>,
        note: Option<String>,
        officer: Option<String>,
    ) -> Result<(), Failure> {
        for dir in &self.dirs {
            let entry = Entry {
                step: step.clone(),
                officer: officer.clone(),
                inputs: Self::files(dir, inputs)?,
                outputs: Self::files(dir, outputs)?,
                keyids: keyids.clone(),
                note: note.clone(),
            };
            let line = append(dir, entry).map_err(|e| {
                Failure::failed(format!(
                    "the step was done, but could not be recorded in {}: {}",
                    shown(&dir.join(transcript::FILE_NAME)),
                    escape(&chain(&e))
                ))
                .hint("record it by hand with `conclave transcript note`")
            })?;
            eprintln!(
                "Recorded as step {} of {}.",
                line.seq,
                shown(&dir.join(transcript::FILE_NAME))
            );
        }
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

/// [`step`] for a step an officer did with their key: the transcript names them (`officer`,
/// the plan's id for the holder of the key that signed), when the plan says who it is.
pub fn step_by(
    recorder: &Option<Recorder>,
    step: impl Into<String>,
    inputs: &[&Path],
    outputs: &[&Path],
    keyids: Vec<String>,
    officer: Option<String>,
) -> Result<(), Failure> {
    match recorder {
        Some(r) => r.record_by(step.into(), inputs, outputs, keyids, None, officer),
        None => Ok(()),
    }
}
