//! Fault injection: conclave killed with SIGKILL at random moments while it writes.
//!
//! A ceremony laptop can lose power or have the process killed mid-write. Whenever that
//! happens, every destination must hold either the complete old content (or nothing, for a new
//! file or bundle) or the complete new content, and a key file beside it must be untouched.
//! Three writers are covered: `merge` replacing a 2 MB delegated role in place, `export`
//! creating a bundle directory next to an older bundle, and `pypi claim` writing a draft for
//! 20,000 projects. (SIGKILL stops the process, not the kernel, so this checks conclave's write
//! protocol — temp file or directory, fsync, rename — not the disk's.)

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use conclave::metadata::{AnyMetadata, DelegationRoles, Metadata};
use conclave::signer::Signer;

/// A tiny xorshift generator: the kill moments need to be spread, not unpredictable.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn quiet(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_conclave"));
    c.current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

/// A real key file placed in `dir`: no writer may ever touch it.
fn place_key_file(dir: &Path) -> Vec<u8> {
    let src = repo_root().join("tests/vectors/attacks/control/valid-key-file-signs/key.json");
    let key = std::fs::read(src).unwrap();
    std::fs::write(dir.join("officer.key"), &key).unwrap();
    key
}

/// What a destination held after a kill.
enum Seen {
    Old,
    New,
}

/// Whether a temp file or directory for `dest` exists in `dir` (the write has begun).
fn writing(dir: &Path, dest: &str) -> bool {
    let prefix = format!(".{dest}.");
    std::fs::read_dir(dir).unwrap().any(|e| {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        name.starts_with(&prefix) && name.ends_with(".tmp")
    })
}

/// One scenario: conclave writing `dest` in `dir`, killed `kills` times.
struct Scenario<'a> {
    what: &'a str,
    dir: &'a Path,
    args: &'a [&'a str],
    dest: &'a str,
    kills: usize,
    key: &'a [u8],
}

/// Run the scenario's command to completion once (timing it, and when its temp file or
/// directory appears), then `kills` times killed with SIGKILL. Odd rounds are killed after a
/// random delay spread over 1.2 times a whole run; even rounds aim at the write itself: they
/// wait for the temp file or directory to appear and kill within 1.2 times the time the write
/// took. Before each run `reset` restores the old state; after each kill `check` classifies the
/// destination (and panics on anything partial). Temp files or directories left by a kill
/// between creating and renaming them are litter: counted and cleared.
fn kill_at_random(s: Scenario, mut reset: impl FnMut(), mut check: impl FnMut(usize) -> Seen) {
    let Scenario {
        what,
        dir,
        args,
        dest,
        kills,
        key,
    } = s;
    reset();
    let t0 = Instant::now();
    let mut child = quiet(dir, args).spawn().unwrap();
    let mut write_began = None;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if write_began.is_none() && writing(dir, dest) {
            write_began = Some(t0.elapsed());
        }
        std::thread::sleep(Duration::from_micros(100));
    };
    let full = t0.elapsed();
    assert!(status.success(), "{what}: a run left to finish failed");
    assert!(
        matches!(check(0), Seen::New),
        "{what}: a finished run must give the new state"
    );
    let write_time = full - write_began.unwrap_or_default();

    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ u64::from(std::process::id()) ^ kills as u64);
    let window = full.as_micros() as u64 * 12 / 10 + 1;
    let write_window = write_time.as_micros() as u64 * 12 / 10 + 1;
    let (mut saw_old, mut saw_new, mut litter) = (0, 0, 0);
    let start = Instant::now();
    for n in 1..=kills {
        reset();
        let mut child = quiet(dir, args).spawn().unwrap();
        if n % 2 == 0 {
            while !writing(dir, dest) && child.try_wait().unwrap().is_none() {
                std::thread::sleep(Duration::from_micros(100));
            }
            std::thread::sleep(Duration::from_micros(rng.next() % write_window));
        } else {
            std::thread::sleep(Duration::from_micros(rng.next() % window));
        }
        // SIGKILL; if it already finished, that is a "new" outcome like any other.
        let _ = child.kill();
        let _ = child.wait();
        match check(n) {
            Seen::Old => saw_old += 1,
            Seen::New => saw_new += 1,
        }
        assert_eq!(
            std::fs::read(dir.join("officer.key")).unwrap(),
            key,
            "{what}: after kill {n}: the key file changed"
        );
        for e in std::fs::read_dir(dir).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            if name.ends_with(".tmp") {
                assert!(
                    name.starts_with(&format!(".{dest}.")),
                    "{what}: unexpected temp file {name}"
                );
                let p = dir.join(&name);
                if p.is_dir() {
                    std::fs::remove_dir_all(p).unwrap();
                } else {
                    std::fs::remove_file(p).unwrap();
                }
                litter += 1;
            }
        }
    }
    eprintln!(
        "{what}: {kills} kills in {:?} (a full run takes {full:?}, its write {write_time:?}): \
         {saw_old} left the old state, {saw_new} the new one; {litter} temp files or \
         directories left behind",
        start.elapsed()
    );
    // Both outcomes must actually occur, or the kills missed the write entirely.
    assert!(
        saw_old > 0 && saw_new > 0,
        "{what}: old {saw_old}, new {saw_new}: the kills did not span the write"
    );
}

/// The three writers one after another (in parallel they would slow each other on a small
/// machine): 150 + 40 + 30 = 220 kills.
#[test]
fn killed_at_random_moments_every_destination_is_old_or_new_and_key_files_untouched() {
    merge_killed_at_random_moments_leaves_old_or_new_file(150);
    export_killed_at_random_moments_leaves_no_bundle_or_a_complete_one(40);
    claim_killed_at_random_moments_leaves_no_draft_or_a_complete_one(30);
}

fn merge_killed_at_random_moments_leaves_old_or_new_file(kills: usize) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let developer = ed(7);
    let owner = ed(8);

    // A delegated role big enough that writing it takes a while (about 2 MB).
    let mut projects = targets(1, FAR);
    for i in 0..12_000 {
        add_target(
            &mut projects,
            &format!("projects/p{i:05}/release-{i}.tar.gz"),
            format!("{i}").as_bytes(),
        );
    }
    let draft = Metadata::new(projects);
    let old = draft.to_file_bytes();
    let mut parent = targets(1, FAR);
    delegate(
        &mut parent,
        "projects",
        &[&developer],
        1,
        &["projects/*"],
        true,
    );
    write(d, "targets.json", &signed(parent, &[&owner]));
    let any = AnyMetadata::from_bytes(&old).unwrap();
    let sig = conclave::ceremony::sign_detached(&any, "projects", &developer, None).unwrap();
    std::fs::write(d.join("sig.json"), sig.to_bytes()).unwrap();
    let key = place_key_file(d);

    let dest = d.join("projects.json");
    let mut new: Option<Vec<u8>> = None;
    kill_at_random(
        Scenario {
            what: "merge",
            dir: d,
            args: &[
                "merge",
                "projects.json",
                "sig.json",
                "--delegator",
                "targets.json",
                "-o",
                "projects.json",
            ],
            dest: "projects.json",
            kills,
            key: &key,
        },
        || std::fs::write(&dest, &old).unwrap(),
        |n| {
            let now = std::fs::read(&dest).unwrap();
            let new = new.get_or_insert_with(|| {
                assert_ne!(now, old);
                now.clone()
            });
            if now == old {
                Seen::Old
            } else if now == *new {
                Seen::New
            } else {
                panic!(
                    "merge: after kill {n}: projects.json is neither the old nor the new file \
                     ({} bytes; old {}, new {})",
                    now.len(),
                    old.len(),
                    new.len()
                );
            }
        },
    );
}

/// Every file under `dir`, by relative path.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(base: &Path, at: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in std::fs::read_dir(at).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.insert(
                    p.strip_prefix(base).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn export_killed_at_random_moments_leaves_no_bundle_or_a_complete_one(kills: usize) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("ceremony")).unwrap();
    build_pypi_repo(&d.join("ceremony"), 3000);
    let key = place_key_file(d);
    // An earlier export of the same ceremony sits beside the new one: never touched.
    assert!(
        quiet(
            d,
            &[
                "export",
                "ceremony",
                "-o",
                "old-bundle",
                "--format",
                "plain"
            ]
        )
        .status()
        .unwrap()
        .success()
    );
    let reference = tree(&d.join("old-bundle"));
    assert!(reference.len() > 5 && reference.contains_key(Path::new("SHA256SUMS")));
    let bundle = d.join("bundle");
    kill_at_random(
        Scenario {
            what: "export",
            dir: d,
            args: &["export", "ceremony", "-o", "bundle", "--format", "plain"],
            dest: "bundle",
            kills,
            key: &key,
        },
        || {
            if bundle.exists() {
                std::fs::remove_dir_all(&bundle).unwrap();
            }
        },
        |n| {
            assert!(
                tree(&d.join("old-bundle")) == reference,
                "export: after kill {n}: the old bundle changed"
            );
            if !bundle.exists() {
                return Seen::Old;
            }
            let now = tree(&bundle);
            if now != reference {
                let missing = reference.keys().filter(|k| !now.contains_key(*k)).count();
                let differ = now
                    .iter()
                    .filter(|(k, v)| reference.get(*k) != Some(v))
                    .count();
                panic!(
                    "export: after kill {n}: the bundle is partial ({} files, {missing} missing, \
                     {differ} different or extra)",
                    now.len()
                );
            }
            Seen::New
        },
    );
}

/// Projects in the claimed draft (about 6 MB).
const PROJECTS: usize = 20_000;

fn claim_killed_at_random_moments_leaves_no_draft_or_a_complete_one(kills: usize) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = place_key_file(d);
    let devs: Vec<_> = (0..64).map(|i| ed(5000 + i)).collect();
    let mut lines = String::new();
    for i in 0..PROJECTS {
        let k = conclave::cjson::to_canonical(&devs[i % 64].public_key().to_value());
        lines.push_str(&format!(
            "{{\"project\": \"project-{i}\", \"keys\": [{}], \"threshold\": 1}}\n",
            String::from_utf8(k).unwrap()
        ));
    }
    std::fs::write(d.join("requests.jsonl"), lines).unwrap();
    let draft = d.join("claimed-draft.json");
    let mut new: Option<Vec<u8>> = None;
    kill_at_random(
        Scenario {
            what: "pypi claim",
            dir: d,
            args: &[
                "pypi",
                "claim",
                "--requests",
                "requests.jsonl",
                "--expires",
                "2100-01-01",
                "-o",
                "claimed-draft.json",
            ],
            dest: "claimed-draft.json",
            kills,
            key: &key,
        },
        || {
            if draft.exists() {
                std::fs::remove_file(&draft).unwrap();
            }
        },
        |n| {
            let Ok(now) = std::fs::read(&draft) else {
                return Seen::Old;
            };
            let new = new.get_or_insert_with(|| {
                let md = AnyMetadata::from_bytes(&now).expect("the draft parses");
                let AnyMetadata::Targets(t) = md else {
                    panic!("the draft is not targets metadata")
                };
                let n = match t.signed.delegations.as_ref().map(|d| &d.roles) {
                    Some(DelegationRoles::List(roles)) => roles.len(),
                    _ => 0,
                };
                assert_eq!(n, PROJECTS, "the draft delegates to every project");
                now.clone()
            });
            assert!(
                now == *new,
                "pypi claim: after kill {n}: claimed-draft.json is partial ({} bytes of {})",
                now.len(),
                new.len()
            );
            Seen::New
        },
    );
}
