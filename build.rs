//! Build script: the version string `conclave --version` prints, with the git commit the
//! binary was built from and the cargo features it was built with.
//!
//! The commit comes from `git rev-parse HEAD` in the source directory. Outside a git checkout
//! (a source tarball), or without git, it is "unknown": never guessed. Local changes not yet
//! committed are not detected, so the commit says which checkout the build started from.

use std::path::{Path, PathBuf};
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!s.is_empty()).then_some(s)
}

fn main() {
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    println!("cargo:rerun-if-changed=build.rs");
    // Only conclave's own checkout: a source tree unpacked inside some other repository must
    // not take that repository's commit.
    let own = git(&dir, &["rev-parse", "--show-toplevel"])
        .and_then(|t| std::fs::canonicalize(t).ok())
        .is_some_and(|t| std::fs::canonicalize(&dir).is_ok_and(|d| d == t));
    let commit = git(&dir, &["rev-parse", "HEAD"])
        .filter(|c| own && c.len() >= 12 && c.bytes().all(|b| b.is_ascii_hexdigit()));
    if commit.is_some() {
        // Build again when HEAD moves: HEAD itself (a worktree has its own), the branch it
        // points at, and packed refs. Only files that exist: cargo reruns the script on every
        // build for one that does not.
        let mut watch = Vec::new();
        if let Some(git_dir) = git(&dir, &["rev-parse", "--absolute-git-dir"]) {
            watch.push(PathBuf::from(&git_dir).join("HEAD"));
        }
        if let Some(common) = git(&dir, &["rev-parse", "--git-common-dir"]) {
            let common = dir.join(common);
            watch.push(common.join("packed-refs"));
            if let Some(branch) = git(&dir, &["symbolic-ref", "-q", "HEAD"]) {
                watch.push(common.join(branch));
            }
        }
        for w in watch.iter().filter(|w| w.is_file()) {
            println!("cargo:rerun-if-changed={}", w.display());
        }
    }
    let commit = commit.map_or_else(|| "unknown".to_owned(), |c| c[..12].to_owned());
    // Cargo tells a build script each enabled feature as CARGO_FEATURE_<NAME>.
    let mut features: Vec<String> = std::env::vars()
        .filter_map(|(k, _)| {
            k.strip_prefix("CARGO_FEATURE_")
                .map(|f| f.to_ascii_lowercase().replace('_', "-"))
        })
        .filter(|f| f != "default")
        .collect();
    features.sort();
    let features = if features.is_empty() {
        "none".to_owned()
    } else {
        features.join(", ")
    };
    let version = std::env::var("CARGO_PKG_VERSION").expect("set by cargo");
    println!("cargo:rustc-env=CONCLAVE_VERSION={version} (commit {commit}; features: {features})");
}
