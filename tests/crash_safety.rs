//! Fault injection: `conclave merge` killed with SIGKILL at random moments.
//!
//! A ceremony laptop can lose power or have the process killed mid-write. Whenever that
//! happens, the destination must hold either the complete old file or the complete new one,
//! and a key file beside it must be untouched. (SIGKILL stops the process, not the kernel, so
//! this checks conclave's write protocol — temp file, fsync, rename — not the disk's.)

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use conclave::metadata::{AnyMetadata, Metadata};

const KILLS: usize = 240;
/// The whole test stops after this long even if fewer kills were made (then it fails).
const BUDGET: Duration = Duration::from_secs(100);

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

fn merge_cmd(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_conclave"));
    c.current_dir(dir)
        .args([
            "merge",
            "projects.json",
            "sig.json",
            "--delegator",
            "targets.json",
            "-o",
            "projects.json",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

#[test]
fn merge_killed_at_random_moments_leaves_old_or_new_file() {
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
    let sig = conclave::ceremony::sign_detached(&any, "projects", &developer).unwrap();
    std::fs::write(d.join("sig.json"), sig.to_bytes()).unwrap();
    // A real key file in the same directory: merge must never touch it.
    let key_src = repo_root().join("tests/vectors/attacks/control/valid-key-file-signs/key.json");
    let key = std::fs::read(&key_src).unwrap();
    std::fs::write(d.join("officer.key"), &key).unwrap();

    // The new file, from a merge left to finish; and how long a merge takes.
    std::fs::write(d.join("projects.json"), &old).unwrap();
    let t0 = Instant::now();
    assert!(merge_cmd(d).status().unwrap().success());
    let full = t0.elapsed();
    let new = std::fs::read(d.join("projects.json")).unwrap();
    assert_ne!(new, old);

    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ u64::from(std::process::id()));
    let window = full.as_micros() as u64 * 12 / 10 + 1;
    let (mut saw_old, mut saw_new, mut litter) = (0, 0, 0);
    let start = Instant::now();
    let mut kills = 0;
    while kills < KILLS && start.elapsed() < BUDGET {
        std::fs::write(d.join("projects.json"), &old).unwrap();
        let mut child = merge_cmd(d).spawn().unwrap();
        std::thread::sleep(Duration::from_micros(rng.next() % window));
        // SIGKILL; if it already finished, that is a "new" outcome like any other.
        let _ = child.kill();
        let _ = child.wait();
        kills += 1;
        let now = std::fs::read(d.join("projects.json")).unwrap();
        if now == old {
            saw_old += 1;
        } else if now == new {
            saw_new += 1;
        } else {
            panic!(
                "after kill {kills}: projects.json is neither the old nor the new file \
                 ({} bytes; old {}, new {})",
                now.len(),
                old.len(),
                new.len()
            );
        }
        assert_eq!(
            std::fs::read(d.join("officer.key")).unwrap(),
            key,
            "after kill {kills}: the key file changed"
        );
        // A kill between creating the temp file and renaming it leaves the temp file behind;
        // it is litter, never the destination. Clear it so it cannot mask the next round.
        for e in std::fs::read_dir(d).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            if name.ends_with(".tmp") {
                assert!(
                    name.starts_with(".projects.json."),
                    "unexpected temp file {name}"
                );
                std::fs::remove_file(d.join(&name)).unwrap();
                litter += 1;
            }
        }
    }
    eprintln!(
        "{kills} kills in {:?} (a merge takes {full:?}): {saw_old} left the old file, \
         {saw_new} the new one; {litter} temp files left behind",
        start.elapsed()
    );
    assert!(kills >= 200, "only {kills} kills within {BUDGET:?}");
    // Both outcomes must actually occur, or the kill window missed the write entirely.
    assert!(
        saw_old > 0 && saw_new > 0,
        "old {saw_old}, new {saw_new}: the kills did not span the write"
    );
}
