//! YubiKey PIV keys through real conclave processes, the real PC/SC stack (libpcsclite and
//! pcscd with vsmartcard's vpcd reader driver) and an emulated PIV card
//! (tests/support/piv_card.rs) served from this test process.
//!
//! Needs (installed by tests/run-all.sh; Debian): pcscd, vsmartcard-vpcd, and conclave built
//! with `--features yubikey` (libpcsclite-dev, pkg-config). pcscd is started here when it is
//! not running (`pcscd --foreground --auto-exit`: it leaves by itself a minute after the last
//! client). Anything missing fails these tests loudly; they are never skipped.
//!
//! There is one virtual reader (vpcd's first, port 35963), so the tests take turns with it:
//! each one puts its own card (serial, PIN, empty slots) into the reader under a lock.
//!
//! The `real_yubikey_*` tests drive a physical YubiKey. They are ignored by default, run only
//! with CONCLAVE_TEST_YUBIKEY_SERIAL naming the key (and refuse every other serial), and
//! generate keys into one of its slots: use a YubiKey kept for testing.

mod common;
#[path = "support/piv_card.rs"]
mod piv_card;

use std::path::Path;
use std::process::Command;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use common::softhsm::Hsm;
use common::*;
use piv_card::{CardConfig, Emulator, PivCard, Slot};

const SERIAL: u32 = 12345678;
const YK_PIN: &str = "314159";
const DERIVED_PASS: &str = "abacus abdomen abdominal abide abiding ability ablaze able";
const PCSCD_SOCKET: &str = "/run/pcscd/pcscd.comm";
const VPCD_DRIVER: &str = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so";
const VPCD_PORT: u16 = 35963;
/// The name of the emulator's reader in the pcscd these tests start (see `start_pcscd`).
const VPCD_READER: &str = "Yubico YubiKey (conclave vpcd emulator)";

struct Rig {
    _emulator: Emulator,
    _context: Mutex<pcsc::Context>,
    slot: Slot,
}

static RIG: OnceLock<Rig> = OnceLock::new();
static TURN: Mutex<()> = Mutex::new(());

fn pcscd_up() -> bool {
    std::os::unix::net::UnixStream::connect(PCSCD_SOCKET).is_ok()
}

/// Start pcscd in the background (it leaves by itself a minute after its last client).
fn start_pcscd() {
    let log = repo_root().join("target/pcscd-test.log");
    let out = std::fs::File::create(&log).unwrap();
    // A socket left by a pcscd that was killed would stop a new one from starting.
    let _ = std::fs::remove_file(PCSCD_SOCKET);
    let _ = std::fs::remove_file("/run/pcscd/pcscd.pid");
    // The reader's name starts with "Yubico": Yubico's ykcs11 module offers only readers
    // whose name does (its is_yubico_reader), and the ykcs11 test goes through it.
    let conf = repo_root().join("target/pcscd-reader.conf.d");
    std::fs::create_dir_all(&conf).unwrap();
    std::fs::write(
        conf.join("vpcd"),
        format!(
            "FRIENDLYNAME \"{VPCD_READER}\"\nDEVICENAME /dev/null:0x8C7B\nLIBPATH {VPCD_DRIVER}\n\
             CHANNELID 0x8C7B\n"
        ),
    )
    .unwrap();
    // Deliberately not waited for: pcscd serves the whole test binary and leaves by
    // itself (--auto-exit) a minute after its last client.
    #[allow(clippy::zombie_processes)]
    let _pcscd = Command::new("pcscd")
        .args(["--foreground", "--auto-exit", "--config"])
        .arg(&conf)
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start pcscd ({e}): `apt-get install pcscd` (tests/run-all.sh does), and \
                 run the tests as a user who may start it (root in CI), or start it yourself. \
                 The YubiKey tests are never skipped."
            )
        });
    for _ in 0..100 {
        if pcscd_up() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        pcscd_up(),
        "pcscd did not come up; its log is {}",
        log.display()
    );
}

/// Make sure pcscd runs with the vpcd reader, and plug the emulator into it.
fn rig() -> &'static Rig {
    RIG.get_or_init(|| {
        assert!(
            Path::new(VPCD_DRIVER).exists(),
            "vsmartcard's vpcd reader driver is not installed ({VPCD_DRIVER}): `apt-get install \
             vsmartcard-vpcd` (tests/run-all.sh does). The YubiKey tests are never skipped."
        );
        // A client context keeps an --auto-exit pcscd alive for as long as this binary runs.
        // pcscd may leave between the check and the connection: then start it again.
        let mut context = None;
        for _ in 0..3 {
            if !pcscd_up() {
                start_pcscd();
            }
            if let Ok(c) = pcsc::Context::establish(pcsc::Scope::System) {
                context = Some(c);
                break;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        let context = Mutex::new(context.expect("cannot open a PC/SC context with pcscd"));
        let slot: Slot = std::sync::Arc::new(Mutex::new(None));
        let mut last = None;
        for _ in 0..50 {
            match Emulator::connect(VPCD_PORT, slot.clone()) {
                Ok(e) => {
                    wait_until_pcscd_sees_the_card(&slot);
                    return Rig {
                        _emulator: e,
                        _context: context,
                        slot,
                    };
                }
                Err(e) => last = Some(e),
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "cannot plug the emulated card into vpcd on 127.0.0.1:{VPCD_PORT} ({:?}): is pcscd \
             running with /etc/reader.conf.d/vpcd (Debian vsmartcard-vpcd)? If a pcscd was \
             running before vsmartcard-vpcd was installed, restart it.",
            last
        )
    })
}

/// pcscd takes a moment to register a card after powering it: wait until the yubikey crate,
/// through pcscd, can open it.
fn wait_until_pcscd_sees_the_card(slot: &Slot) {
    *slot.lock().unwrap() = Some(PivCard::new(CardConfig::new(1, YK_PIN)));
    for _ in 0..100 {
        if yubikey::YubiKey::open().is_ok() {
            *slot.lock().unwrap() = None;
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("pcscd never made the emulated card usable (is another program holding the reader?)");
}

/// This test's turn with the reader, with `card` in it (`None`: a card that is no YubiKey).
fn insert(card: Option<PivCard>) -> (MutexGuard<'static, ()>, &'static Rig) {
    let guard = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let rig = rig();
    *rig.slot.lock().unwrap() = card;
    (guard, rig)
}

fn card(serial: u32) -> Option<PivCard> {
    Some(PivCard::new(CardConfig::new(serial, YK_PIN)))
}

fn with_card<R>(rig: &Rig, f: impl FnOnce(&mut PivCard) -> R) -> R {
    f(rig
        .slot
        .lock()
        .unwrap()
        .as_mut()
        .expect("a card is inserted"))
}

fn ok(o: &Outcome) {
    assert_eq!(o.code, 0, "stdout:\n{}\nstderr:\n{}", o.stdout, o.stderr);
    assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
}

fn device_error(o: &Outcome, needles: &[&str]) {
    assert_eq!(o.code, 3, "want exit 3:\n{}\n{}", o.stdout, o.stderr);
    for n in needles {
        assert!(o.stderr.contains(n), "want {n:?} in:\n{}", o.stderr);
    }
    assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
    assert_eq!(o.stderr.matches("error:").count(), 1, "{}", o.stderr);
    assert!(o.stderr.contains("hint:"), "{}", o.stderr);
}

fn in_dir(dir: &Path, args: &[&str], input: &str) -> Outcome {
    conclave_in(dir, args, input)
}

fn generate(dir: &Path, spec: &str, pubfile: &str, extra: &[&str]) -> Outcome {
    let mut args = vec![
        "key",
        "generate",
        "--yubikey",
        spec,
        "-o",
        pubfile,
        "--passphrase-fd",
        "0",
    ];
    args.extend_from_slice(extra);
    in_dir(dir, &args, &format!("{YK_PIN}\n"))
}

fn sign(dir: &Path, spec: &str, pin: &str, out: &str) -> Outcome {
    in_dir(
        dir,
        &[
            "sign",
            "draft.json",
            "--yubikey",
            spec,
            "--passphrase-fd",
            "0",
            "-o",
            out,
        ],
        &format!("{pin}\n"),
    )
}

fn listing(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap_or_default(),
            )
        })
        .collect();
    v.sort();
    v
}

/// A draft root whose every role is the one key in `pubfile`.
fn draft_for(dir: &Path, pubfile: &str) {
    let k = |r: &str| format!("{r}={pubfile}");
    ok(&in_dir(
        dir,
        &[
            "root",
            "init",
            "--key",
            &k("root"),
            "--key",
            &k("targets"),
            "--key",
            &k("snapshot"),
            "--key",
            &k("timestamp"),
            "--expires",
            "365d",
            "-o",
            "draft.json",
        ],
        "",
    ));
}

fn b64_decode(s: &str) -> Vec<u8> {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=') {
        let v = A.iter().position(|a| *a == c).expect("base64") as u32;
        acc = acc << 6 | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

fn pem(label: &str, der: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = String::new();
    for c in der.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                b64.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                b64.push('=');
            }
        }
    }
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn pem_body(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    b64_decode(&body)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn generate_on_the_yubikey_sign_merge_and_verify() {
    let (_turn, rig) = insert(card(SERIAL));
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path();

    let g = generate(w, &SERIAL.to_string(), "alice.pub.json", &[]);
    ok(&g);
    assert!(g.stdout.contains("\"keytype\": \"ecdsa\""), "{}", g.stdout);
    assert!(
        g.stdout.contains("\"scheme\": \"ecdsa-sha2-nistp256\""),
        "{}",
        g.stdout
    );
    assert!(
        g.stdout.contains("-----BEGIN PUBLIC KEY-----"),
        "{}",
        g.stdout
    );
    assert!(
        g.stderr
            .contains("YubiKey serial 12345678 (firmware 5.4.3)"),
        "{}",
        g.stderr
    );
    assert!(g.stderr.contains("PIN tries left: 3"), "{}", g.stderr);
    assert!(!g.stderr.contains(YK_PIN) && !g.stdout.contains(YK_PIN));
    assert_eq!(
        std::fs::read_to_string(w.join("alice.pub.json")).unwrap(),
        g.stdout
    );

    // The enrolment record, beside the public key.
    let rec_bytes = std::fs::read(w.join("alice.pub.enrolment.json")).unwrap();
    let rec = conclave::cjson::parse(&rec_bytes).unwrap();
    let m = rec.as_object().unwrap();
    let id = in_dir(w, &["key", "id", "alice.pub.json"], "");
    ok(&id);
    assert_eq!(m["keyid"].as_str(), Some(id.stdout.trim()));
    assert_eq!(m["conclave_enrolment"], conclave::cjson::Value::Int(1));
    assert_eq!(m["device"].as_str(), Some("yubikey-piv"));
    assert_eq!(m["serial"], conclave::cjson::Value::Int(SERIAL as i64));
    assert_eq!(m["slot"].as_str(), Some("9c"));
    assert_eq!(m["firmware"].as_str(), Some("5.4.3"));
    assert_eq!(m["algorithm"].as_str(), Some("ecdsa-p256"));
    assert_eq!(m["pin_policy"].as_str(), Some("once"));
    assert_eq!(m["touch_policy"].as_str(), Some("always"));
    let public = conclave::cjson::parse(g.stdout.as_bytes()).unwrap();
    assert_eq!(m["public_key"], public);
    let att = m["attestation"].as_object().unwrap();
    let slot_cert = pem_body(att["slot_certificate"].as_str().unwrap());
    let device_cert = pem_body(att["device_certificate"].as_str().unwrap());
    // The slot certificate is the device's ATTEST answer: Yubico's serial extension
    // (1.3.6.1.4.1.41482.3.7, an INTEGER) and policy extension (.3.8: once=2, always=2).
    let serial_ext = [
        0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0xc4, 0x0a, 0x03, 0x07, 0x04, 0x06, 0x02,
        0x04, 0x00, 0xbc, 0x61, 0x4e,
    ];
    assert!(contains(&slot_cert, &serial_ext));
    assert!(contains(&slot_cert, &[0x03, 0x08, 0x04, 0x02, 0x02, 0x02]));
    let ca = with_card(rig, |c| c.ca().device_cert_der.clone());
    assert_eq!(device_cert, ca);

    // The record the backend wrote is the one `key attest` reads: its chain verifies against
    // the emulator's CA (given with --ca-cert, and said loudly not to be Yubico's), and is
    // refused against the Yubico root built into conclave.
    let ca_der = with_card(rig, |c| c.ca().ca_cert_der.clone());
    std::fs::write(w.join("emulator-ca.pem"), pem("CERTIFICATE", &ca_der)).unwrap();
    let serial = SERIAL.to_string();
    let att = in_dir(
        w,
        &[
            "key",
            "attest",
            "alice.pub.enrolment.json",
            "--serial",
            &serial,
            "--ca-cert",
            "emulator-ca.pem",
        ],
        "",
    );
    assert_eq!(att.code, 0, "{}\n{}", att.stdout, att.stderr);
    assert!(
        att.stdout.contains("NOT ANCHORED IN YUBICO'S ROOT"),
        "{}",
        att.stdout
    );
    assert!(att.stdout.contains(id.stdout.trim()), "{}", att.stdout);
    let att = in_dir(
        w,
        &[
            "key",
            "attest",
            "alice.pub.enrolment.json",
            "--serial",
            &serial,
        ],
        "",
    );
    assert_eq!(att.code, 1, "{}\n{}", att.stdout, att.stderr);

    // The key signs a root that lists it.
    draft_for(w, "alice.pub.json");
    let before = with_card(rig, |c| c.counters.clone());
    let s = sign(w, &format!("{SERIAL}:9c"), YK_PIN, "alice.sig");
    ok(&s);
    let keyid_at = s.stderr.find(id.stdout.trim()).expect("keyid shown");
    let tries_at = s.stderr.find("PIN tries left: 3").expect("tries shown");
    let touch_at = s.stderr.find("Touch the key now").expect("touch announced");
    assert!(keyid_at < tries_at && tries_at < touch_at, "{}", s.stderr);
    let after = with_card(rig, |c| c.counters.clone());
    assert_eq!(after.signatures, before.signatures + 1);
    assert_eq!(after.touch_requests, before.touch_requests + 1);

    let repo = w.join("repo");
    std::fs::create_dir(&repo).unwrap();
    ok(&in_dir(
        w,
        &["merge", "draft.json", "alice.sig", "-o", "repo/1.root.json"],
        "",
    ));
    let v = in_dir(w, &["verify", "repo"], "");
    ok(&v);
    assert!(
        v.stdout.contains("1 of 1 root v1 keys signed validly"),
        "{}",
        v.stdout
    );

    // The slot is taken now: a second generate is refused before the PIN is asked for.
    let again = in_dir(
        w,
        &[
            "key",
            "generate",
            "--yubikey",
            &SERIAL.to_string(),
            "-o",
            "again.pub",
        ],
        "",
    );
    device_error(
        &again,
        &["slot 9c already holds a key", "nothing was generated"],
    );
    assert!(!again.stderr.contains("PIV PIN"), "{}", again.stderr);
    assert!(!w.join("again.pub").exists() && !w.join("again.enrolment.json").exists());
}

/// Issue 4's "done when": three root keys — a SoftHSM Ed25519 key, an emulated YubiKey P-256
/// key and a passphrase-derived key — threshold 2, all three sign through `conclave sign`,
/// merged, verified by conclave and by python-tuf.
#[test]
fn root_of_softhsm_ed25519_yubikey_p256_and_derived_key() {
    let (_turn, _rig) = insert(card(SERIAL));
    let hsm = Hsm::new();
    let w = hsm.work();

    hsm.init_token("PyPI root A");
    hsm.generate("PyPI root A", "alice", "ed25519", "alice.pub");
    let y = generate(
        &w,
        &format!("{SERIAL}:9a"),
        "yubi.pub",
        &["--touch-policy", "cached"],
    );
    ok(&y);
    assert!(w.join("yubi.enrolment.json").exists());
    let c = hsm.conclave(
        &[
            "key",
            "derive",
            "--identity",
            "pypi.org/root/carol",
            "--passphrase-fd",
            "0",
        ],
        &format!("{DERIVED_PASS}\n{DERIVED_PASS}\n"),
    );
    ok(&c);
    std::fs::write(w.join("carol.pub"), &c.stdout).unwrap();

    ok(&hsm.conclave(
        &[
            "root",
            "init",
            "--key",
            "root=alice.pub",
            "--key",
            "root=yubi.pub",
            "--key",
            "root=carol.pub",
            "--threshold",
            "root=2",
            "--key",
            "targets=alice.pub",
            "--key",
            "snapshot=yubi.pub",
            "--key",
            "timestamp=yubi.pub",
            "--expires",
            "365d",
            "-o",
            "draft.json",
        ],
        "",
    ));

    ok(&hsm.sign(
        &hsm.uri("PyPI root A", "alice"),
        common::softhsm::PIN,
        "alice.sig",
    ));
    ok(&sign(&w, &format!("{SERIAL}:9a"), YK_PIN, "yubi.sig"));
    ok(&hsm.conclave(
        &[
            "sign",
            "draft.json",
            "--derive",
            "pypi.org/root/carol",
            "--passphrase-fd",
            "0",
            "-o",
            "carol.sig",
        ],
        &format!("{DERIVED_PASS}\n"),
    ));

    std::fs::create_dir(w.join("repo")).unwrap();
    let merged = hsm.conclave(
        &[
            "merge",
            "draft.json",
            "alice.sig",
            "yubi.sig",
            "carol.sig",
            "-o",
            "repo/1.root.json",
        ],
        "",
    );
    ok(&merged);
    assert_eq!(
        merged.stderr.matches("merged ").count(),
        3,
        "{}",
        merged.stderr
    );
    let v = hsm.conclave(&["verify", "repo"], "");
    ok(&v);
    assert!(
        v.stdout.contains("3 of 3 root v1 keys signed validly"),
        "{}",
        v.stdout
    );
    let py = run(Command::new(python())
        .arg(repo_root().join("tests/interop/python/tuf_verdict.py"))
        .arg(w.join("repo")));
    assert_eq!(
        py.code, 0,
        "python-tuf rejects it:\n{}{}",
        py.stdout, py.stderr
    );
}

/// Enrol a key on the card in the reader, and a draft root it signs alone.
fn enrolled(w: &Path) {
    ok(&generate(
        w,
        &SERIAL.to_string(),
        "alice.pub",
        &["--touch-policy", "never"],
    ));
    draft_for(w, "alice.pub");
}

#[test]
fn wrong_pin_reports_tries_left_then_blocks() {
    let (_turn, rig) = insert(card(SERIAL));
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path();
    enrolled(w);
    let before = listing(w);

    let o = sign(w, &SERIAL.to_string(), "000000", "alice.sig");
    device_error(
        &o,
        &[
            "YubiKey 12345678: wrong PIN, 2 tries left",
            "nothing was signed",
        ],
    );
    assert_eq!(listing(w), before);
    let o = sign(w, &SERIAL.to_string(), "000000", "alice.sig");
    assert!(o.stderr.contains("PIN tries left: 2"), "{}", o.stderr);
    device_error(
        &o,
        &[
            "wrong PIN, 1 tries left",
            "ONE MORE WRONG PIN BLOCKS THE PIN",
        ],
    );
    let o = sign(w, &SERIAL.to_string(), "000000", "alice.sig");
    assert!(
        o.stderr.contains("warning: ONE wrong PIN left"),
        "{}",
        o.stderr
    );
    device_error(&o, &["the PIN is blocked", "PUK"]);

    // Blocked: refused before any prompt (no PIN is supplied; a prompt would fail with
    // "no line left for \"PIV PIN ...\"").
    let verifies = with_card(rig, |c| c.counters.verify_with_pin);
    let o = in_dir(
        w,
        &[
            "sign",
            "draft.json",
            "--yubikey",
            &SERIAL.to_string(),
            "-o",
            "alice.sig",
        ],
        "",
    );
    device_error(&o, &["the PIN is blocked"]);
    assert!(!o.stderr.contains("PIV PIN"), "{}", o.stderr);
    assert_eq!(with_card(rig, |c| c.counters.verify_with_pin), verifies);
    assert_eq!(listing(w), before);
}

#[test]
fn right_pin_after_a_wrong_one_signs() {
    let (_turn, _rig) = insert(card(SERIAL));
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path();
    enrolled(w);
    device_error(
        &sign(w, &SERIAL.to_string(), "999999", "a.sig"),
        &["2 tries left"],
    );
    let o = sign(w, &SERIAL.to_string(), YK_PIN, "a.sig");
    ok(&o);
    assert!(o.stderr.contains("PIN tries left: 2"), "{}", o.stderr);
    assert!(!o.stderr.contains("Touch the key now"), "{}", o.stderr);
    // A good PIN resets the counter.
    let o = sign(w, &SERIAL.to_string(), YK_PIN, "b.sig");
    assert!(o.stderr.contains("PIN tries left: 3"), "{}", o.stderr);
}

#[test]
fn a_pin_of_the_wrong_length_costs_no_try_and_policy_never_asks_none() {
    let (_turn, rig) = insert(card(SERIAL));
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path();
    enrolled(w);
    let verifies = with_card(rig, |c| c.counters.verify_with_pin);
    for (pin, len) in [("12345", "5"), ("123456789", "9")] {
        let o = sign(w, &SERIAL.to_string(), pin, "a.sig");
        device_error(
            &o,
            &[
                &format!("PIV PINs are 6 to 8 characters; this one has {len}"),
                "no try was used",
            ],
        );
    }
    assert_eq!(with_card(rig, |c| c.counters.verify_with_pin), verifies);
    let o = sign(w, &SERIAL.to_string(), YK_PIN, "a.sig");
    ok(&o);
    assert!(o.stderr.contains("PIN tries left: 3"), "{}", o.stderr);

    // A key whose PIN policy is "never" signs without any PIN prompt (no PIN on stdin).
    let w = &w.join("never");
    std::fs::create_dir(w).unwrap();
    ok(&generate(
        w,
        &format!("{SERIAL}:9e"),
        "never.pub",
        &["--pin-policy", "never", "--touch-policy", "never"],
    ));
    draft_for(w, "never.pub");
    let o = in_dir(
        w,
        &[
            "sign",
            "draft.json",
            "--yubikey",
            &format!("{SERIAL}:9e"),
            "-o",
            "n.sig",
        ],
        "",
    );
    ok(&o);
    assert!(o.stderr.contains("PIN policy never"), "{}", o.stderr);
    assert!(
        !o.stderr.contains("PIV PIN") && !o.stderr.contains("PIN tries"),
        "{}",
        o.stderr
    );
    assert!(w.join("n.sig").exists());
}

#[test]
fn a_different_serial_is_refused_before_any_pin_prompt() {
    let (_turn, rig) = insert(card(SERIAL));
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path();
    enrolled(w);
    let before = listing(w);
    let verifies = with_card(rig, |c| c.counters.verify_with_pin);
    // No PIN on stdin: any prompt would fail with the prompt's text in the message.
    let o = in_dir(
        w,
        &["sign", "draft.json", "--yubikey", "87654321", "-o", "x.sig"],
        "",
    );
    device_error(
        &o,
        &[
            "no YubiKey with serial 87654321 is connected",
            "the YubiKey inserted is serial 12345678",
            "No PIN was asked for",
        ],
    );
    assert!(!o.stderr.contains("PIV PIN"), "{}", o.stderr);
    assert!(!o.stderr.contains("PIN tries"), "{}", o.stderr);
    assert_eq!(with_card(rig, |c| c.counters.verify_with_pin), verifies);
    assert_eq!(listing(w), before);

    let g = in_dir(
        w,
        &[
            "key",
            "generate",
            "--yubikey",
            "87654321:9d",
            "-o",
            "new.pub",
        ],
        "",
    );
    device_error(&g, &["the YubiKey inserted is serial 12345678"]);
    assert!(!g.stderr.contains("PIV PIN"), "{}", g.stderr);
    assert_eq!(listing(w), before);
}

#[test]
fn a_key_the_root_does_not_list_is_refused_before_the_pin() {
    let (_turn, _rig) = insert(card(SERIAL));
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path();
    enrolled(w);
    // Another key on the same YubiKey, not in the root.
    ok(&generate(w, &format!("{SERIAL}:9d"), "other.pub", &[]));
    let o = in_dir(
        w,
        &[
            "sign",
            "draft.json",
            "--yubikey",
            &format!("{SERIAL}:9d"),
            "-o",
            "x.sig",
        ],
        "",
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stderr.contains("may not sign role root"), "{}", o.stderr);
    assert!(!o.stderr.contains("PIV PIN"), "{}", o.stderr);
    assert!(!w.join("x.sig").exists());
}

#[test]
fn empty_slot_no_yubikey_and_touch_timeout_are_actionable() {
    let (_turn, rig) = insert(card(SERIAL));
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path();
    enrolled(w);
    let o = in_dir(
        w,
        &[
            "sign",
            "draft.json",
            "--yubikey",
            &format!("{SERIAL}:9e"),
            "-o",
            "x.sig",
        ],
        "",
    );
    device_error(
        &o,
        &["slot 9e holds no key", "conclave key generate --yubikey"],
    );

    // A key that needs a touch, and an officer who does not touch it.
    let w = &w.join("touchy");
    std::fs::create_dir(w).unwrap();
    ok(&generate(
        w,
        &format!("{SERIAL}:9d"),
        "touchy.pub",
        &["--touch-policy", "always"],
    ));
    draft_for(w, "touchy.pub");
    with_card(rig, |c| c.set_touches(false));
    let o = sign(w, &format!("{SERIAL}:9d"), YK_PIN, "x.sig");
    assert!(o.stderr.contains("Touch the key now"), "{}", o.stderr);
    device_error(&o, &["not touched in time", "touch its gold contact"]);
    assert!(!w.join("x.sig").exists());

    // A card that is not a YubiKey (no PIV applet) in the only reader.
    *rig.slot.lock().unwrap() = None;
    let o = in_dir(
        w,
        &[
            "sign",
            "draft.json",
            "--yubikey",
            &SERIAL.to_string(),
            "-o",
            "x.sig",
        ],
        "",
    );
    device_error(
        &o,
        &[
            "no YubiKey with serial 12345678",
            "no YubiKey is inserted",
            "insert the YubiKey",
        ],
    );
}

#[test]
fn pcscd_absent_says_how_to_start_it() {
    // libpcsclite finds pcscd through this socket path; point it at nothing.
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path();
    let o = run_with_stdin(
        conclave()
            .args(["key", "generate", "--yubikey", "12345678", "-o", "k.pub"])
            .current_dir(w)
            .env("PCSCLITE_CSOCK_NAME", w.join("no-pcscd.comm")),
        "",
    );
    device_error(
        &o,
        &[
            "cannot reach the PC/SC service (pcscd)",
            "apt-get install pcscd",
            "systemctl start pcscd",
        ],
    );
    assert!(!o.stderr.contains("PIV PIN"), "{}", o.stderr);
    assert!(listing(w).is_empty());
}

#[test]
fn bad_yubikey_arguments_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path();
    for spec in ["abc", "12:9b", "12:f9", "0"] {
        let o = in_dir(
            w,
            &["key", "generate", "--yubikey", spec, "-o", "k.pub"],
            "",
        );
        assert_eq!(o.code, 2, "{spec}: {}", o.stderr);
        assert!(o.stderr.contains("--yubikey"), "{}", o.stderr);
    }
    let o = in_dir(
        w,
        &[
            "key",
            "generate",
            "--yubikey",
            "12",
            "--type",
            "ed25519",
            "-o",
            "k.pub",
        ],
        "",
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("ECDSA P-256 keys only"), "{}", o.stderr);
    assert!(listing(w).is_empty());
}

// --- A real YubiKey (ignored by default) ----------------------------------------------------

/// The serial of the YubiKey these tests may use, from CONCLAVE_TEST_YUBIKEY_SERIAL. Any
/// other YubiKey is left alone: conclave opens keys by serial only.
fn real_serial() -> String {
    let s = std::env::var("CONCLAVE_TEST_YUBIKEY_SERIAL").expect(
        "set CONCLAVE_TEST_YUBIKEY_SERIAL to the serial of a YubiKey kept for testing; these \
         tests generate a key into one of its slots (CONCLAVE_TEST_YUBIKEY_SLOT, default 95)",
    );
    assert!(
        s.parse::<u32>().is_ok_and(|n| n > 0),
        "CONCLAVE_TEST_YUBIKEY_SERIAL must be a serial number, not {s:?}"
    );
    s
}

fn real_spec() -> String {
    let serial = real_serial();
    let slot = std::env::var("CONCLAVE_TEST_YUBIKEY_SLOT").unwrap_or_else(|_| "95".into());
    format!("{serial}:{slot}")
}

/// PIN of the test YubiKey (the factory 123456 unless CONCLAVE_TEST_YUBIKEY_PIN says).
fn real_pin() -> String {
    std::env::var("CONCLAVE_TEST_YUBIKEY_PIN").unwrap_or_else(|_| "123456".into())
}

#[test]
#[ignore = "needs a physical YubiKey: set CONCLAVE_TEST_YUBIKEY_SERIAL (and touch it when asked)"]
fn real_yubikey_generate_sign_verify() {
    let spec = real_spec();
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path();
    let pin = real_pin();
    let g = in_dir(
        w,
        &[
            "key",
            "generate",
            "--yubikey",
            &spec,
            "-o",
            "real.pub",
            "--passphrase-fd",
            "0",
        ],
        &format!("{pin}\n"),
    );
    ok(&g);
    assert!(w.join("real.enrolment.json").exists());
    draft_for(w, "real.pub");
    ok(&sign(w, &spec, &pin, "real.sig"));
    std::fs::create_dir(w.join("repo")).unwrap();
    ok(&in_dir(
        w,
        &["merge", "draft.json", "real.sig", "-o", "repo/1.root.json"],
        "",
    ));
    ok(&in_dir(w, &["verify", "repo"], ""));
}

#[test]
#[ignore = "needs a physical YubiKey: set CONCLAVE_TEST_YUBIKEY_SERIAL"]
fn real_yubikey_other_serial_is_refused() {
    let serial: u32 = real_serial().parse().unwrap();
    let other = if serial == 1 { 2 } else { serial - 1 };
    let tmp = tempfile::tempdir().unwrap();
    let o = in_dir(
        tmp.path(),
        &[
            "key",
            "generate",
            "--yubikey",
            &other.to_string(),
            "-o",
            "k.pub",
        ],
        "",
    );
    device_error(
        &o,
        &[
            &format!("no YubiKey with serial {other}"),
            &serial.to_string(),
        ],
    );
}

/// A key generated on a YubiKey in a ceremony directory is recorded in its transcript: the
/// serial and slot, the keyid, the public key file and the enrolment record, never the PIN.
#[test]
fn yubikey_key_generation_is_recorded_in_the_ceremony_transcript() {
    let (_turn, _rig) = insert(card(SERIAL));
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path();
    ok(&in_dir(
        w,
        &[
            "transcript",
            "note",
            ".",
            "--step",
            "step 1: alice presented her YubiKey",
            "--officer",
            "alice",
        ],
        "",
    ));
    let g = generate(w, &SERIAL.to_string(), "alice.pub.json", &[]);
    ok(&g);
    let keyid = keyid_in(&g.stderr);
    let transcript = std::fs::read_to_string(w.join("transcript.jsonl")).unwrap();
    let lines: Vec<&str> = transcript.lines().collect();
    assert_eq!(lines.len(), 2, "{transcript}");
    assert!(
        lines[1].contains(&format!("key generate --yubikey {SERIAL}:"))
            && lines[1].contains(&keyid)
            && lines[1].contains("alice.pub.json")
            && lines[1].contains("alice.pub.enrolment.json"),
        "{}",
        lines[1]
    );
    assert!(
        !transcript.contains(YK_PIN),
        "the PIN reached the transcript"
    );
    ok(&in_dir(w, &["transcript", "verify", "."], ""));
}

// --- issue 19: a wrong PIN typed at the terminal is asked again, with the tries left ---------

#[test]
fn a_wrong_pin_at_the_terminal_is_asked_again_but_never_the_last_try() {
    let (_turn, rig) = insert(card(SERIAL));
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path();
    enrolled(w);
    let command = format!(
        "{} sign draft.json --yubikey {SERIAL} -o alice.sig",
        env!("CARGO_BIN_EXE_conclave")
    );
    let prompt = format!("PIV PIN for YubiKey {SERIAL}: ");
    let verifies = with_card(rig, |c| c.counters.verify_with_pin);
    let mut t = common::pty::Terminal::start(w, &command);
    t.wait_for(&prompt, 1);
    t.type_keys("000000\r");
    t.wait_for(&prompt, 2);
    assert!(
        t.screen().contains(&format!(
            "YubiKey {SERIAL}: wrong PIN, 2 tries left. Try again (2 more tries"
        )),
        "{}",
        t.screen()
    );
    // The second wrong PIN leaves one try: conclave does not ask for the one that would
    // block the PIN, it stops and says so.
    t.type_keys("000000\r");
    let (code, screen) = t.finish();
    assert_eq!(code, 3, "{screen}");
    assert_eq!(screen.matches(prompt.as_str()).count(), 2, "{screen}");
    assert!(
        screen.contains("wrong PIN, 1 tries left") && screen.contains("ONE MORE WRONG PIN BLOCKS"),
        "{screen}"
    );
    // Each PIN typed went to the card once; none was tried again by itself.
    assert_eq!(with_card(rig, |c| c.counters.verify_with_pin), verifies + 2);
    assert!(!w.join("alice.sig").exists());
    // The officer decides to try once more, with the right PIN.
    let mut t = common::pty::Terminal::start(w, &command);
    t.wait_for(&prompt, 1);
    assert!(
        t.screen().contains("warning: ONE wrong PIN left"),
        "{}",
        t.screen()
    );
    t.type_keys(&format!("{YK_PIN}\r"));
    let (code, screen) = t.finish();
    assert_eq!(code, 0, "{screen}");
    assert!(w.join("alice.sig").is_file());
}

/// Yubico's PKCS#11 module (Debian `ykcs11`), as tuf-on-ci and RSTUF use YubiKeys.
const YKCS11: &str = "/usr/lib/x86_64-linux-gnu/libykcs11.so";

/// This test's turn with the reader, `card` in it, checked to be reachable through ykcs11:
/// the module is installed and the pcscd running offers a reader whose name starts with
/// "Yubico" (ykcs11 ignores all others).
fn insert_for_ykcs11(card: Option<PivCard>) -> (MutexGuard<'static, ()>, &'static Rig) {
    assert!(
        Path::new(YKCS11).exists(),
        "Yubico's PKCS#11 module is not installed ({YKCS11}): `apt-get install ykcs11` \
         (tests/run-all.sh does). This test is never skipped."
    );
    let (turn, rig) = insert(card);
    let readers = {
        let ctx = rig._context.lock().unwrap();
        let mut buf = vec![0u8; 4096];
        ctx.list_readers(&mut buf)
            .unwrap()
            .map(|r| r.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
    };
    assert!(
        readers.iter().any(|r| r.starts_with("Yubico")),
        "ykcs11 only offers readers whose name starts with \"Yubico\", and the running pcscd \
         has {readers:?}: stop that pcscd so that these tests start their own (its vpcd reader \
         is named {VPCD_READER:?})"
    );
    (turn, rig)
}

/// The ykcs11 URI of the emulated YubiKey, with `key` (e.g. ";id=%02") after the token.
fn ykcs11_uri(key: &str) -> String {
    format!("pkcs11:token=YubiKey%20PIV%20%23{SERIAL}{key}?module-path={YKCS11}")
}

/// `key generate --pkcs11 URI --passphrase-fd 0` with `input` (management key, PIN).
fn generate_through_ykcs11(dir: &Path, uri: &str, input: &str) -> Outcome {
    in_dir(
        dir,
        &["key", "generate", "--pkcs11", uri, "--passphrase-fd", "0"],
        input,
    )
}

fn sign_through_ykcs11(dir: &Path, uri: &str, pin: &str, out: &str) -> Outcome {
    in_dir(
        dir,
        &[
            "sign",
            "draft.json",
            "--pkcs11",
            uri,
            "--passphrase-fd",
            "0",
            "-o",
            out,
        ],
        &format!("{pin}\n"),
    )
}

/// Sign `draft.json` (every role: the key `keyid`) through ykcs11 with `uri`, merge it into
/// repo/1.root.json, and check conclave and python-tuf both accept that root.
fn sign_root_through_ykcs11_and_check_python_tuf(dir: &Path, rig: &Rig, uri: &str, keyid: &str) {
    let before = with_card(rig, |c| c.counters.clone());
    let s = sign_through_ykcs11(dir, uri, YK_PIN, "alice.sig");
    ok(&s);
    assert!(s.stderr.contains(keyid), "{}", s.stderr);
    assert!(!s.stderr.contains(YK_PIN) && !s.stdout.contains(YK_PIN));
    let after = with_card(rig, |c| c.counters.clone());
    assert_eq!(
        after.signatures,
        before.signatures + 1,
        "signed on the card"
    );
    // The login, then the PIN again for the signature: ykcs11 marks slot 9c's key "always
    // authenticate" whatever its PIN policy.
    assert_eq!(after.verify_with_pin, before.verify_with_pin + 2);

    std::fs::create_dir(dir.join("repo")).unwrap();
    ok(&in_dir(
        dir,
        &["merge", "draft.json", "alice.sig", "-o", "repo/1.root.json"],
        "",
    ));
    let v = in_dir(dir, &["verify", "repo"], "");
    ok(&v);
    assert!(
        v.stdout.contains("1 of 1 root v1 keys signed validly"),
        "{}",
        v.stdout
    );
    let py = run(Command::new(python())
        .arg(repo_root().join("tests/interop/python/tuf_verdict.py"))
        .arg(dir.join("repo")));
    assert_eq!(
        py.code, 0,
        "python-tuf rejects it:\n{}{}",
        py.stdout, py.stderr
    );
}

/// Issue 22: a YubiKey PIV key used through Yubico's ykcs11 module over pcscd. The key is
/// generated with conclave's own `--yubikey` path; ykcs11 then finds it in slot 9c (CKA_ID 2)
/// and signs a root with it through `conclave sign --pkcs11`, which python-tuf accepts.
#[test]
fn a_yubikey_key_signs_through_ykcs11_and_python_tuf_accepts_the_root() {
    let (_turn, rig) = insert_for_ykcs11(card(SERIAL));
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path();
    ok(&generate(
        w,
        &format!("{SERIAL}:9c"),
        "alice.pub",
        &["--touch-policy", "cached"],
    ));
    draft_for(w, "alice.pub");
    let id = in_dir(w, &["key", "id", "alice.pub"], "");
    ok(&id);
    let uri = ykcs11_uri(";id=%02");
    sign_root_through_ykcs11_and_check_python_tuf(w, rig, &uri, id.stdout.trim());

    // A wrong PIN through ykcs11 costs one try and signs nothing.
    let bad = sign_through_ykcs11(w, &uri, "999999", "bad.sig");
    assert_eq!(bad.code, 3, "{}\n{}", bad.stdout, bad.stderr);
    assert!(bad.stderr.contains("wrong PIN"), "{}", bad.stderr);
    assert!(!w.join("bad.sig").exists());
}

/// The whole of a response APDU from the emulated card, following 61xx with GET RESPONSE.
fn card_response(rig: &Rig, apdu: &[u8]) -> Vec<u8> {
    with_card(rig, |c| {
        let mut out = Vec::new();
        let mut r = c.execute(apdu);
        loop {
            let (body, sw) = r.split_at(r.len() - 2);
            out.extend_from_slice(body);
            match sw {
                [0x90, 0x00] => return out,
                [0x61, _] => r = c.execute(&[0x00, 0xc0, 0x00, 0x00]),
                _ => panic!("the card answered {sw:02x?} to {apdu:02x?}"),
            }
        }
    })
}

/// Issue 22: `key generate --pkcs11` generates on a YubiKey through ykcs11 (security-officer
/// login with the PIV management key, then the PIN), the key is attested by the PIV applet
/// like one made with `--yubikey`, and it signs a root through ykcs11 that python-tuf
/// accepts.
#[test]
fn a_key_generated_through_ykcs11_signs_a_root_that_python_tuf_accepts() {
    let (_turn, rig) = insert_for_ykcs11(card(SERIAL));
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path();
    // No id in the URI: slot 9c (id=%02). The factory-default management key is used only
    // because the officer says "default".
    let before = with_card(rig, |c| c.counters.clone());
    let g = generate_through_ykcs11(w, &ykcs11_uri(""), &format!("default\n{YK_PIN}\n"));
    ok(&g);
    assert!(g.stdout.contains("\"keytype\": \"ecdsa\""), "{}", g.stdout);
    assert!(g.stderr.contains("slot 9c (id=%02)"), "{}", g.stderr);
    assert!(
        g.stderr.contains("factory-default PIV management key"),
        "{}",
        g.stderr
    );
    assert!(!g.stderr.contains(YK_PIN) && !g.stdout.contains(YK_PIN));
    assert!(!g.stderr.contains("0102030405060708010203"), "{}", g.stderr);
    assert!(with_card(rig, |c| c.has_key(0x9c)));
    let after = with_card(rig, |c| c.counters.clone());
    // The PIN is checked before generating, then used to log in and again (context-specific
    // login) for the self-test signature.
    assert_eq!(after.verify_with_pin, before.verify_with_pin + 3);
    assert_eq!(after.signatures, before.signatures + 1);
    assert_eq!(listing(w), vec![], "key generate --pkcs11 writes no file");
    std::fs::write(w.join("alice.pub"), &g.stdout).unwrap();
    let id = in_dir(w, &["key", "id", "alice.pub"], "");
    ok(&id);
    assert!(g.stderr.contains(id.stdout.trim()), "{}", g.stderr);

    // The PIV applet attests the key ykcs11 generated, as for `--yubikey` (ykcs11 sets no
    // policies: slot 9c's defaults, PIN always and touch never).
    let slot_cert = card_response(rig, &[0x00, 0xf9, 0x9c, 0x00]);
    let (device, ca) = with_card(rig, |c| {
        (c.ca().device_cert_der.clone(), c.ca().ca_cert_der.clone())
    });
    std::fs::write(w.join("slot.pem"), pem("CERTIFICATE", &slot_cert)).unwrap();
    std::fs::write(w.join("device.pem"), pem("CERTIFICATE", &device)).unwrap();
    std::fs::write(w.join("emulator-ca.pem"), pem("CERTIFICATE", &ca)).unwrap();
    let att = in_dir(
        w,
        &[
            "key",
            "attest",
            "--chain",
            "slot.pem",
            "device.pem",
            "--serial",
            &SERIAL.to_string(),
            "--ca-cert",
            "emulator-ca.pem",
        ],
        "",
    );
    assert_eq!(att.code, 0, "{}\n{}", att.stdout, att.stderr);
    assert!(att.stdout.contains(id.stdout.trim()), "{}", att.stdout);
    assert!(
        att.stdout.to_lowercase().contains("always"),
        "{}",
        att.stdout
    );

    draft_for(w, "alice.pub");
    let uri = ykcs11_uri(";id=%02");
    sign_root_through_ykcs11_and_check_python_tuf(w, rig, &uri, id.stdout.trim());

    // The slot now holds a key: a second generation into it is refused before any secret
    // is read (the input is empty), and the key is unchanged.
    let again = generate_through_ykcs11(w, &uri, "");
    device_error(
        &again,
        &["slot 9c (id=%02) already holds a key", "never replaces"],
    );
    let s = sign_through_ykcs11(w, &uri, YK_PIN, "again.sig");
    ok(&s);
    assert!(s.stderr.contains(id.stdout.trim()), "{}", s.stderr);
}

/// Attacks and mistakes on `key generate --pkcs11` through ykcs11: each is one clear error,
/// nothing is generated or written, and no PIN try is spent.
#[test]
fn ykcs11_generation_refuses_a_wrong_management_key_and_ids_that_are_no_piv_slot() {
    let (_turn, rig) = insert_for_ykcs11(card(SERIAL));
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path();
    let untouched = |rig: &Rig, before: &piv_card::Counters| {
        let after = with_card(rig, |c| c.counters.clone());
        assert_eq!(after.signatures, before.signatures);
        assert!(!with_card(rig, |c| c.has_key(0x9c) || c.has_key(0x9a)));
        assert_eq!(listing(w), vec![]);
    };

    // A management key that is not this YubiKey's: refused by the applet, nothing made.
    let before = with_card(rig, |c| c.counters.clone());
    let wrong = format!("{}\n{YK_PIN}\n", "0f".repeat(24));
    let g = generate_through_ykcs11(w, &ykcs11_uri(";id=%02"), &wrong);
    device_error(&g, &["wrong PIV management key", "nothing was generated"]);
    assert!(g.stdout.is_empty(), "{}", g.stdout);
    untouched(rig, &before);

    // The PIN typed where the management key belongs never reaches ykcs11 (which would
    // VERIFY it as a PIN): refused with no PIN try spent.
    let before = with_card(rig, |c| c.counters.clone());
    let g = generate_through_ykcs11(w, &ykcs11_uri(""), &format!("{YK_PIN}\n{YK_PIN}\n"));
    assert_eq!(g.code, 2, "{}\n{}", g.stdout, g.stderr);
    assert!(g.stderr.contains("48 hex digits"), "{}", g.stderr);
    assert!(g.stderr.contains("nothing was sent"), "{}", g.stderr);
    assert_eq!(g.stderr.matches("error:").count(), 1, "{}", g.stderr);
    assert_eq!(
        with_card(rig, |c| c.counters.verify_with_pin),
        before.verify_with_pin
    );
    untouched(rig, &before);

    // Ids that are no PIV key slot, the attestation key's, and a label: refused before any
    // secret is asked for (the input is empty).
    for (key, needle) in [
        (";id=%19", "attestation key (slot f9)"),
        (";id=%9C", "id=%9C is not a PIV key slot"),
        (";id=%00", "id=%00 is not a PIV key slot"),
        (";id=%02%02", "id=%02%02 is not a PIV key slot"),
        (";object=alice;id=%02", "ignores labels"),
    ] {
        let g = generate_through_ykcs11(w, &ykcs11_uri(key), "");
        assert_eq!(g.code, 2, "{key}: {}\n{}", g.stdout, g.stderr);
        assert!(g.stderr.contains(needle), "{key}: {}", g.stderr);
        assert!(g.stderr.contains("hint:"), "{key}: {}", g.stderr);
        assert_eq!(g.stderr.matches("error:").count(), 1, "{}", g.stderr);
        untouched(rig, &before);
    }

    // Ed25519 is not made on a YubiKey.
    let g = in_dir(
        w,
        &[
            "key",
            "generate",
            "--pkcs11",
            &ykcs11_uri(""),
            "--type",
            "ed25519",
            "--passphrase-fd",
            "0",
        ],
        "",
    );
    assert_eq!(g.code, 2, "{}\n{}", g.stdout, g.stderr);
    assert!(g.stderr.contains("ECDSA P-256 keys only"), "{}", g.stderr);
    untouched(rig, &before);
}

/// Issue 22: ykcs11 marks slot 9c's key "always authenticate" (the slot's default PIN
/// policy, which a key generated through ykcs11 gets: the card wants the PIN again before
/// every signature). A claim round of 5 drafts still takes one PIN entry: conclave presents
/// the PIN again before each signature (a context-specific login).
#[test]
fn a_claim_round_signs_through_ykcs11_with_a_pin_always_key_and_one_pin_entry() {
    let (_turn, rig) = insert_for_ykcs11(card(SERIAL));
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path();
    let uri = ykcs11_uri(";id=%02");
    let g = generate_through_ykcs11(w, &uri, &format!("default\n{YK_PIN}\n"));
    ok(&g);
    std::fs::write(w.join("alice.pub"), &g.stdout).unwrap();
    std::fs::write(
        w.join("online.pub"),
        conclave::cjson::to_pretty(&{
            use conclave::signer::Signer;
            ed(1).public_key().to_value()
        }),
    )
    .unwrap();
    draft_for(w, "alice.pub");
    let s = sign_through_ykcs11(w, &uri, YK_PIN, "root.sig");
    ok(&s);
    std::fs::create_dir(w.join("repo")).unwrap();
    ok(&in_dir(
        w,
        &["merge", "draft.json", "root.sig", "-o", "repo/1.root.json"],
        "",
    ));
    ok(&in_dir(
        w,
        &[
            "pypi",
            "init",
            "--key",
            "claimed=alice.pub",
            "--key",
            "recently-claimed=online.pub",
            "--key",
            "unclaimed=online.pub",
            "--expires",
            "365d",
            "--bins",
            "16",
            "--claimed-bins",
            "4",
            "-o",
            "targets-draft.json",
        ],
        "",
    ));
    let to_root = ["--role", "targets", "--delegator", "repo/1.root.json"];
    let mut args = vec!["sign", "targets-draft.json"];
    args.extend(to_root);
    args.extend(["--pkcs11", &uri, "--passphrase-fd", "0", "-o", "t.sig"]);
    ok(&in_dir(w, &args, &format!("{YK_PIN}\n")));
    let mut args = vec!["merge", "targets-draft.json", "t.sig"];
    args.extend(to_root);
    args.extend(["-o", "repo/1.targets.json"]);
    ok(&in_dir(w, &args, ""));

    let before = with_card(rig, |c| c.counters.clone());
    let round = in_dir(
        w,
        &[
            "sign",
            "claimed",
            "--delegator",
            "repo/1.targets.json",
            "--pkcs11",
            &uri,
            "--passphrase-fd",
            "0",
            "-o",
            "sigs",
        ],
        &format!("{YK_PIN}\n"),
    );
    ok(&round);
    assert!(
        round.stderr.contains("Signed 5 drafts in "),
        "{}",
        round.stderr
    );
    let after = with_card(rig, |c| c.counters.clone());
    assert_eq!(after.signatures, before.signatures + 5);
    // One login, then the PIN again before each of the 5 signatures; typed once.
    assert_eq!(after.verify_with_pin, before.verify_with_pin + 6);
    let status = in_dir(
        w,
        &[
            "status",
            "claimed",
            "sigs",
            "--delegator",
            "repo/1.targets.json",
            "--check",
        ],
        "",
    );
    ok(&status);
    assert!(
        status
            .stdout
            .contains("5 of 5 drafts meet every threshold - COMPLETE"),
        "{}",
        status.stdout
    );
}
