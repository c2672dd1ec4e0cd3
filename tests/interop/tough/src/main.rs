//! tough's verdict on a TUF repository directory, for conclave's test suite.
//!
//! usage: tough-check METADATA_DIR [--root FILE] [--target PATH]... [--artifacts DIR]
//!
//! METADATA_DIR is served as a repository through tough's own filesystem transport
//! (`file://` URLs). The trust anchor is METADATA_DIR/1.root.json unless --root names
//! another file; tough then walks the root chain (N+1.root.json ...), timestamp, snapshot,
//! targets and every delegated role, with expiry enforced against the current time, the way
//! `RepositoryLoader::load` always does. Each --target PATH must then be found by tough's
//! delegation search; with --artifacts DIR (the targets directory of the server, laid out as
//! the server stores the files) each target is also downloaded through `read_target`, which
//! checks its length and hashes.
//!
//! Prints one JSON object on stdout:
//! `{"client": "tough", "version": "0.24.0", "verdict": "valid"|"invalid", "error": STRING|null,
//!   "targets": [{"path": STRING, "found": BOOL, "downloaded": BOOL|null, "error": STRING|null}]}`
//! and exits 0 when the repository loaded and every target was found (and downloaded), 1
//! otherwise, 2 on a usage error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::{Value, json};
use tough::{ExpirationEnforcement, FilesystemTransport, IntoVec, RepositoryLoader, TargetName};
use url::Url;

const TOUGH_VERSION: &str = "0.24.0";

struct Args {
    metadata: PathBuf,
    root: Option<PathBuf>,
    targets: Vec<String>,
    artifacts: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args_os().skip(1);
    let mut metadata = None;
    let mut root = None;
    let mut targets = Vec::new();
    let mut artifacts = None;
    while let Some(a) = it.next() {
        let a = a
            .into_string()
            .map_err(|a| format!("argument is not UTF-8: {a:?}"))?;
        let mut value = || {
            it.next()
                .ok_or_else(|| format!("{a} needs a value"))
                .and_then(|v| v.into_string().map_err(|v| format!("not UTF-8: {v:?}")))
        };
        match a.as_str() {
            "--root" => root = Some(PathBuf::from(value()?)),
            "--target" => targets.push(value()?),
            "--artifacts" => artifacts = Some(PathBuf::from(value()?)),
            s if s.starts_with('-') => return Err(format!("unknown option {s}")),
            _ if metadata.is_none() => metadata = Some(PathBuf::from(a)),
            _ => return Err(format!("unexpected argument {a}")),
        }
    }
    let metadata = metadata.ok_or("METADATA_DIR is required")?;
    Ok(Args {
        metadata,
        root,
        targets,
        artifacts,
    })
}

/// A `file://` directory URL for `dir` (absolute, ending in `/`).
fn dir_url(dir: &Path) -> Result<Url, String> {
    let abs = std::fs::canonicalize(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Url::from_directory_path(&abs).map_err(|()| format!("{}: not a usable path", abs.display()))
}

async fn check(args: &Args) -> Value {
    let fail = |error: String| {
        json!({"client": "tough", "version": TOUGH_VERSION, "verdict": "invalid",
               "error": error, "targets": []})
    };
    let root_path = args
        .root
        .clone()
        .unwrap_or_else(|| args.metadata.join("1.root.json"));
    let root = match std::fs::read(&root_path) {
        Ok(b) => b,
        Err(e) => return fail(format!("{}: {e}", root_path.display())),
    };
    let metadata_url = match dir_url(&args.metadata) {
        Ok(u) => u,
        Err(e) => return fail(e),
    };
    // Without --artifacts the targets base is a directory that cannot exist, so a download
    // is never attempted by accident.
    let targets_url = match &args.artifacts {
        Some(dir) => match dir_url(dir) {
            Ok(u) => u,
            Err(e) => return fail(e),
        },
        None => metadata_url
            .join("no-artifacts-given/")
            .expect("relative URL"),
    };
    let datastore = match tempdir() {
        Ok(d) => d,
        Err(e) => return fail(e),
    };
    let loaded = RepositoryLoader::new(&root, metadata_url, targets_url)
        .transport(FilesystemTransport)
        .expiration_enforcement(ExpirationEnforcement::Safe)
        .datastore(datastore.path())
        .load()
        .await;
    let repo = match loaded {
        Ok(r) => r,
        Err(e) => return fail(e.to_string()),
    };
    let mut results = Vec::new();
    let mut all_ok = true;
    for path in &args.targets {
        let r = target_result(&repo, path, args.artifacts.is_some()).await;
        all_ok &= r["error"].is_null();
        results.push(r);
    }
    json!({"client": "tough", "version": TOUGH_VERSION,
           "verdict": if all_ok { "valid" } else { "invalid" },
           "error": Value::Null, "targets": results})
}

async fn target_result(repo: &tough::Repository, path: &str, download: bool) -> Value {
    let name = match TargetName::new(path) {
        Ok(n) => n,
        Err(e) => {
            return json!({"path": path, "found": false, "downloaded": null, "error": e.to_string()});
        }
    };
    if let Err(e) = repo.targets().signed.find_target(&name, false) {
        return json!({"path": path, "found": false, "downloaded": null, "error": e.to_string()});
    }
    if !download {
        return json!({"path": path, "found": true, "downloaded": null, "error": null});
    }
    let outcome = match repo.read_target(&name).await {
        Ok(Some(stream)) => stream
            .into_vec()
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Ok(None) => Err("read_target found no such target".to_owned()),
        Err(e) => Err(e.to_string()),
    };
    match outcome {
        Ok(()) => json!({"path": path, "found": true, "downloaded": true, "error": null}),
        Err(e) => json!({"path": path, "found": true, "downloaded": false, "error": e}),
    }
}

/// A fresh, empty datastore: no state carried over from an earlier run.
fn tempdir() -> Result<TempDir, String> {
    let base = std::env::temp_dir();
    for n in 0..1000u32 {
        let p = base.join(format!("tough-check-{}-{n}", std::process::id()));
        if std::fs::create_dir(&p).is_ok() {
            return Ok(TempDir(p));
        }
    }
    Err(format!(
        "cannot create a datastore directory in {}",
        base.display()
    ))
}

struct TempDir(PathBuf);

impl TempDir {
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!(
                "usage: tough-check METADATA_DIR [--root FILE] [--target PATH]... [--artifacts DIR]"
            );
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start a runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let verdict = rt.block_on(check(&args));
    println!("{verdict}");
    if verdict["verdict"] == "valid" {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
