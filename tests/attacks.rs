//! The attack corpus (`tests/vectors/attacks/<area>/<attack>/`, made by `gen_attacks.py` there)
//! run through the real `conclave` binary.
//!
//! For every case: the exit code is the expected one, stderr names the specific error (the
//! rule or reason, not just "failed"), nothing panicked, and no file in the case directory was
//! created, changed or removed — a refused input must leave the ceremony's files as they were.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use conclave::cjson::{self, Value};

const CONCLAVE: &str = env!("CARGO_BIN_EXE_conclave");
/// No case should take more than a second or two; a hang is a finding.
const CASE_TIMEOUT: Duration = Duration::from_secs(60);

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/attacks")
}

struct Case {
    name: String,
    dir: PathBuf,
    command: Vec<String>,
    exit: i32,
    stdin: Option<String>,
    stderr_contains: Vec<String>,
    stderr_not_contains: Vec<String>,
    /// Strings stdout must hold (for commands whose report is data on stdout).
    stdout_contains: Vec<String>,
    /// Strings in neither stdout nor stderr (raw characters that must be shown escaped).
    output_not_contains: Vec<String>,
    /// Run with a stdout nobody reads (the reader already gone, as after `| head`).
    stdout_closed: bool,
}

fn strings(v: Option<&Value>, what: &str, case: &str) -> Vec<String> {
    match v {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|s| {
                s.as_str()
                    .unwrap_or_else(|| panic!("{case}: {what} must hold strings"))
                    .to_owned()
            })
            .collect(),
        Some(_) => panic!("{case}: {what} must be an array"),
    }
}

fn load_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let mut areas: Vec<PathBuf> = std::fs::read_dir(corpus())
        .expect("tests/vectors/attacks exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    areas.sort();
    for area in areas {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(&area)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        dirs.sort();
        for dir in dirs {
            let name = format!(
                "{}/{}",
                area.file_name().unwrap().to_string_lossy(),
                dir.file_name().unwrap().to_string_lossy()
            );
            let raw = std::fs::read(dir.join("expected.json"))
                .unwrap_or_else(|e| panic!("{name}: no expected.json: {e}"));
            let exp = cjson::parse(&raw).unwrap_or_else(|e| panic!("{name}: expected.json: {e}"));
            let command = strings(exp.get("command"), "command", &name);
            assert!(!command.is_empty(), "{name}: empty command");
            let exit = match exp.get("exit") {
                Some(Value::Int(i)) => *i as i32,
                _ => panic!("{name}: expected.json needs an integer \"exit\""),
            };
            let stderr_contains = strings(exp.get("stderr_contains"), "stderr_contains", &name);
            // A failing case must say which rule it broke; a passing one may say nothing, and
            // so may one whose stdout was closed (141: quietly, by design).
            let stdout_closed = matches!(exp.get("stdout_closed"), Some(Value::Bool(true)));
            assert!(
                exit == 0 || (stdout_closed && exit == 141) || !stderr_contains.is_empty(),
                "{name}: a failing case must name the error it expects"
            );
            cases.push(Case {
                command,
                exit,
                stdin: exp.get("stdin").and_then(Value::as_str).map(str::to_owned),
                stderr_contains,
                stderr_not_contains: strings(
                    exp.get("stderr_not_contains"),
                    "stderr_not_contains",
                    &name,
                ),
                stdout_contains: strings(exp.get("stdout_contains"), "stdout_contains", &name),
                output_not_contains: strings(
                    exp.get("output_not_contains"),
                    "output_not_contains",
                    &name,
                ),
                stdout_closed,
                name,
                dir,
            });
        }
    }
    cases
}

/// Every file under `dir` (recursively) with its bytes and permissions.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                stack.push(p.clone());
            }
            let bytes = if meta.is_file() {
                std::fs::read(&p).unwrap()
            } else {
                Vec::new()
            };
            out.insert(p, (bytes, meta.permissions().mode()));
        }
    }
    out
}

/// Run one case; `Err` describes every way it departed from expected.json.
fn run_case(case: &Case, scratch: &Path) -> Result<(), String> {
    let before = snapshot(&case.dir);
    let tmp = scratch.join(case.name.replace('/', "--"));
    std::fs::create_dir_all(&tmp).unwrap();
    let args: Vec<String> = case
        .command
        .iter()
        .map(|a| a.replace("{tmp}", &tmp.display().to_string()))
        .collect();
    let mut child = Command::new(CONCLAVE)
        .args(&args)
        .current_dir(&case.dir)
        .env_remove("RUST_BACKTRACE")
        .stdin(if case.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(if case.stdout_closed {
            let (reader, writer) = std::io::pipe().map_err(|e| format!("no pipe: {e}"))?;
            drop(reader);
            Stdio::from(writer)
        } else {
            Stdio::piped()
        })
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start conclave: {e}"))?;
    if let Some(input) = &case.stdin {
        let mut stdin = child.stdin.take().unwrap();
        // conclave may exit before reading (e.g. a header error); a broken pipe is fine.
        let _ = stdin.write_all(input.as_bytes());
    }
    // Read the pipes on threads so a chatty child cannot block on a full pipe.
    let mut out_pipe: Box<dyn std::io::Read + Send> = match child.stdout.take() {
        Some(p) => Box::new(p),
        None => Box::new(std::io::empty()),
    };
    let mut err_pipe = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut out_pipe, &mut v).ok();
        v
    });
    let err_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut err_pipe, &mut v).ok();
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > CASE_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("did not finish within {CASE_TIMEOUT:?}"));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stdout = String::from_utf8_lossy(&out_t.join().unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&err_t.join().unwrap()).into_owned();

    let mut problems = Vec::new();
    if status.code() != Some(case.exit) {
        problems.push(format!(
            "exit {:?}, expected {} ({status})",
            status.code(),
            case.exit
        ));
    }
    for want in &case.stderr_contains {
        if !stderr.contains(want.as_str()) {
            problems.push(format!("stderr lacks {want:?}"));
        }
    }
    for unwanted in &case.stderr_not_contains {
        if stderr.contains(unwanted.as_str()) {
            problems.push(format!("stderr contains {unwanted:?}"));
        }
    }
    for want in &case.stdout_contains {
        if !stdout.contains(want.as_str()) {
            problems.push(format!("stdout lacks {want:?}"));
        }
    }
    for unwanted in &case.output_not_contains {
        if stdout.contains(unwanted.as_str()) || stderr.contains(unwanted.as_str()) {
            problems.push(format!("output contains {unwanted:?}"));
        }
    }
    if stderr.contains("panicked") || stdout.contains("panicked") {
        problems.push("conclave panicked".into());
    }
    let after = snapshot(&case.dir);
    for (path, old) in &before {
        match after.get(path) {
            None => problems.push(format!("{} was removed", path.display())),
            Some(new) if new != old => problems.push(format!("{} was changed", path.display())),
            Some(_) => {}
        }
    }
    for path in after.keys().filter(|p| !before.contains_key(*p)) {
        problems.push(format!("{} was created", path.display()));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}\n    command: conclave {}\n    stderr:\n{}",
            problems.join("\n    "),
            args.join(" "),
            stderr
                .lines()
                .map(|l| format!("      | {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        ))
    }
}

#[test]
fn every_attack_is_refused_with_its_own_error() {
    let cases = load_cases();
    assert!(
        cases.len() >= 150,
        "the corpus has only {} cases; regenerate it with gen_attacks.py",
        cases.len()
    );
    let scratch = tempfile::tempdir().unwrap();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(case) = cases.get(i) else { break };
                    if let Err(why) = run_case(case, scratch.path()) {
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("{}: {why}", case.name));
                    }
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap();
    failures.sort();
    assert!(
        failures.is_empty(),
        "{} of {} attack cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

#[test]
fn every_area_is_covered() {
    let cases = load_cases();
    for area in [
        "json",
        "metadata",
        "root-chain",
        "delegation",
        "snapshot-timestamp",
        "keyfile",
        "signature-file",
        "merge",
        "overwrite",
        "passphrase",
        "control",
        "control-chars",
        "transcript",
        "expiry",
        "round",
        "rstuf",
    ] {
        let n = cases
            .iter()
            .filter(|c| c.name.starts_with(&format!("{area}/")))
            .count();
        assert!(n > 0, "no cases in area {area}");
    }
}
