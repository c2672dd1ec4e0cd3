//! Secret pages locked in memory where the OS allows, and ceremonies carrying on where it does
//! not (src/memlock.rs). `VmLck` in /proc/self/status is process-wide, so the in-process checks
//! are one test, in a test binary of their own.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use common::*;
use conclave::keystore::KeyFile;
use conclave::memlock::locked_kib;
use conclave::secret::Passphrase;

const KEY: &str = "tests/vectors/attacks/control/valid-key-file-signs";
const PASS: &str = "correct horse battery staple attack";

fn vmlck() -> u64 {
    locked_kib().expect("no VmLck in /proc/self/status: these tests need Linux")
}

/// What RLIMIT_MEMLOCK allows an unprivileged process, in KiB (`None`: unlimited).
fn memlock_limit_kib() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max locked memory"))
        .unwrap();
    let soft = line.split_whitespace().nth(3).unwrap();
    soft.parse::<u64>().ok().map(|b| b / 1024)
}

#[test]
fn unlocking_a_key_file_locks_its_secrets_and_dropping_them_unlocks() {
    let before = vmlck();
    let file =
        KeyFile::parse(&std::fs::read(repo_root().join(KEY).join("key.json")).unwrap()).unwrap();
    let pass = Passphrase::new(PASS.into());
    assert!(pass.is_locked(), "a passphrase's page was not locked");

    // Watch VmLck while Argon2id (64 MiB profile) runs.
    let (stop, peak) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicU64::new(0)),
    );
    let watcher = {
        let (stop, peak) = (stop.clone(), peak.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                peak.fetch_max(vmlck(), Ordering::Relaxed);
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
        })
    };
    let signer = file.signer(&pass).unwrap();
    stop.store(true, Ordering::Relaxed);
    watcher.join().unwrap();
    let peak = peak.load(Ordering::Relaxed);

    // Root (CAP_IPC_LOCK) or a generous limit: Argon2's 64 MiB was locked while it ran.
    // Otherwise (the usual 8 MiB limit) it was not, and unlocking worked all the same.
    let privileged = rustix::process::geteuid().is_root();
    let argon_fits = privileged || memlock_limit_kib().is_none_or(|l| l >= 70 * 1024);
    if argon_fits {
        assert!(
            peak >= before + 64 * 1024,
            "Argon2's working memory was not locked (VmLck peaked at {peak} kB, {before} before)"
        );
    } else {
        assert!(
            peak < before + 64 * 1024,
            "locked more than the limit allows?"
        );
    }

    // After unlocking: the passphrase and the private key each hold a locked page.
    let during = vmlck();
    assert!(
        during > before,
        "nothing locked while the key is in memory (VmLck {during} kB, {before} kB before)"
    );
    let sig = signer.sign_raw(b"message").unwrap();
    signer
        .public_key()
        .verify(b"message", &hex::encode(sig))
        .unwrap();

    drop(signer);
    drop(pass);
    assert_eq!(
        vmlck(),
        before,
        "pages stayed locked after the secrets were dropped"
    );
}

/// With no locked memory allowed at all (RLIMIT_MEMLOCK 0 and, for root, CAP_IPC_LOCK
/// dropped), a whole sign still works: locking is best effort.
#[test]
fn signing_carries_on_when_nothing_may_be_locked() {
    let dir = tempfile::tempdir().unwrap();
    let case = repo_root().join(KEY);
    let conclave = env!("CARGO_BIN_EXE_conclave");
    let out = run_with_stdin(
        std::process::Command::new("prlimit")
            .args(["--memlock=0:0", "--", "setpriv", "--inh-caps=-ipc_lock"])
            .args([
                "--bounding-set=-ipc_lock",
                "--",
                conclave,
                "sign",
                "root.json",
            ])
            .args(["--key", "key.json", "--passphrase-fd", "0", "-o"])
            .arg(dir.path().join("sig.json"))
            .current_dir(&case),
        &format!("{PASS}\n"),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("Wrote the signature by"),
        "{}",
        out.stderr
    );
    // The restricted process really could not lock: check the same wrapper on a helper.
    let probe = run(std::process::Command::new("prlimit").args([
        "--memlock=0:0",
        "--",
        "setpriv",
        "--inh-caps=-ipc_lock",
        "--bounding-set=-ipc_lock",
        "--",
        "sh",
        "-c",
        "grep -E '^(CapEff|VmLck)' /proc/self/status; grep 'Max locked' /proc/self/limits",
    ]));
    assert_eq!(probe.code, 0, "{}", probe.stderr);
    let cap_eff = probe
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .map(|v| u64::from_str_radix(v.trim(), 16).unwrap())
        .unwrap();
    const CAP_IPC_LOCK: u32 = 14;
    assert_eq!(cap_eff & (1 << CAP_IPC_LOCK), 0, "{}", probe.stdout);
    assert!(
        probe
            .stdout
            .contains("Max locked memory         0                    0"),
        "{}",
        probe.stdout
    );
}

/// A machine that cannot give Argon2id its 2 GiB (here: an address-space limit of 1 GiB) gets
/// one clear message and a non-zero exit, and no key file; the allocation used to abort the
/// process instead.
#[test]
fn too_little_memory_for_argon2id_is_one_clear_message_and_no_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_with_stdin(
        std::process::Command::new("prlimit")
            .args(["--as=1073741824", "--", env!("CARGO_BIN_EXE_conclave")])
            .args(["key", "generate", "-o", "k.json", "--passphrase-fd", "0"])
            .current_dir(dir.path()),
        &format!("{PASS}\n{PASS}\n"),
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "error: Argon2id needs 2048 MiB of memory and this machine could not give it"
        ),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert!(!dir.path().join("k.json").exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
