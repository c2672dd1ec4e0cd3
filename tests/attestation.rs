//! YubiKey PIV attestation: real Yubico chains (tests/vectors/attestation/real/, public
//! certificates, origin in the README there) and the cases made from them by
//! `gen_attestation.py` (tests/vectors/attestation/cases/<case>/), through the library and
//! through the real `conclave key attest` binary.
//!
//! For every case: the exit code is the expected one, stderr (and stdout) name the specific
//! reason, nothing panicked, and nothing in the case directory was created or changed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use conclave::attestation::{
    self, Anchor, AttestationError, AttestedKey, Certificate, EnrolmentRecord, Firmware, PinPolicy,
    RecordMismatch, TouchPolicy, Which,
};
use conclave::cjson::{self, Value};
use conclave::metadata::Expires;

const CONCLAVE: &str = env!("CARGO_BIN_EXE_conclave");

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/attestation")
}

fn real(chain: &str, file: &str) -> Certificate {
    let which = if file.starts_with("device") {
        Which::Device
    } else {
        Which::Slot
    };
    let pem = std::fs::read_to_string(vectors().join("real").join(chain).join(file)).unwrap();
    Certificate::from_pem(&pem, which).unwrap()
}

fn now() -> i64 {
    Expires::now().unix()
}

#[test]
fn real_p256_chain_verifies_against_the_embedded_root() {
    let slot = real("cosign-5.2.6-p256", "slot.pem");
    let device = real("cosign-5.2.6-p256", "device.pem");
    let r = attestation::verify_chain(&slot, &device, &Anchor::Yubico, now()).unwrap();
    assert!(r.anchored_in_yubico);
    assert_eq!(r.serial, 13_078_782);
    assert_eq!(r.slot, Some(0x9c));
    assert_eq!(r.firmware, Firmware(5, 2, 6));
    assert_eq!(r.pin_policy, PinPolicy::Always);
    assert_eq!(r.touch_policy, TouchPolicy::Always);
    assert_eq!(r.form_factor.unwrap().to_string(), "USB-C keychain");
    assert!(!r.fips);
    assert_eq!(r.root_fingerprint, attestation::YUBICO_PIV_ROOT_SHA256);
    assert_eq!(r.root_subject, "CN=Yubico PIV Root CA Serial 263751");
    assert_eq!(r.device_subject, "CN=Yubico PIV Attestation");
    assert_eq!(r.slot_subject, "CN=YubiKey PIV Attestation 9c");
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    // The attested key is the public key printed beside the certificates in the source.
    assert_eq!(
        &*r.public_key.as_ref().unwrap().public(),
        "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEbZHvZgxjkqWlY865CPlmAqjLK6y\nPhL+7MoxI3LLmO/gOhH8Q6elVcAZJgAUZY+GXlN0u1/TatI+sdw2DEQThw==\n-----END PUBLIC KEY-----\n"
    );
    // A second attestation of the same key, made later by the same device, says the same.
    let again = real("cosign-5.2.6-p256", "slot-second.pem");
    let r2 = attestation::verify_chain(&again, &device, &Anchor::Yubico, now()).unwrap();
    assert_eq!(r2.public_key, r.public_key);
    assert_eq!(r2.serial, r.serial);
}

#[test]
fn real_p384_fips_chain_verifies() {
    let slot = real("docker-tuf-25515137-p384", "slot.pem");
    let device = real("docker-tuf-25515137-p384", "device.pem");
    let r = attestation::verify_chain(&slot, &device, &Anchor::Yubico, now()).unwrap();
    assert_eq!(r.serial, 25_515_137);
    assert_eq!(r.firmware, Firmware(5, 4, 3));
    assert_eq!(r.pin_policy, PinPolicy::Always);
    assert_eq!(r.touch_policy, TouchPolicy::Never);
    assert!(r.fips);
    assert_eq!(r.public_key_type, "ECDSA P-384");
    // TUF in conclave has no P-384 scheme: the key is reported, never turned into a TUF key.
    assert!(r.public_key.is_none());
    assert!(
        r.public_key_pem()
            .contains("MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEl7Uv9j5PVw4nO0MMFBgey")
    );
}

/// A real YubiKey with firmware 5.7.4 (Yubico's 2024 PKI): the path goes through Yubico's
/// published intermediates, built into conclave, to Yubico Attestation Root 1.
#[test]
fn real_5_7_4_chain_verifies_through_the_published_intermediates() {
    let slot = real("regalia-36345471-5.7.4-p256", "slot.pem");
    let device = real("regalia-36345471-5.7.4-p256", "device.pem");
    let r = attestation::verify_chain(&slot, &device, &Anchor::Yubico, now()).unwrap();
    assert!(r.anchored_in_yubico);
    assert_eq!(r.serial, 36_345_471);
    assert_eq!(r.firmware, Firmware(5, 7, 4));
    assert_eq!(r.slot, Some(0x9a));
    assert_eq!(r.key_kind, AttestedKey::EcdsaP256);
    assert!(!r.ysa_2024_03());
    assert_eq!(r.root_subject, "CN=Yubico Attestation Root 1");
    assert_eq!(
        r.root_fingerprint,
        attestation::YUBICO_ATTESTATION_ROOT_1_SHA256
    );
    let path: Vec<String> = r.intermediates.iter().map(|c| c.subject()).collect();
    assert_eq!(
        path,
        [
            "CN=Yubico PIV Attestation B 1",
            "CN=Yubico Attestation Intermediate B 1"
        ]
    );
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    // The attested key is the one the source's own test names (SHA-256 of its SPKI).
    assert_eq!(
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&r.public_key_spki)),
        "35bba72093e4183f38fb7b9c76ab031dc886beb665c5a58b5c51ce74ba4d48a7"
    );
    // The same device key attests an RSA key of another YubiKey of its batch: the chain
    // check does not depend on the slot key's type.
    let rsa = real("ovh-32718477-5.7.4-rsa", "slot.pem");
    let r = attestation::verify_chain(&rsa, &device, &Anchor::Yubico, now()).unwrap();
    assert_eq!(r.key_kind, AttestedKey::Rsa(2048));
    assert_eq!(r.serial, 32_718_477);
    assert!(r.public_key.is_none());
}

/// Old PKI, every key type of the real vectors, and YSA-2024-03 as each says.
#[test]
fn real_chains_of_both_pkis_and_their_advisory_status() {
    for (dir, root, kind, affected) in [
        (
            "cosign-5.2.6-p256",
            "CN=Yubico PIV Root CA Serial 263751",
            AttestedKey::EcdsaP256,
            true,
        ),
        (
            "docker-tuf-25515137-p384",
            "CN=Yubico PIV Root CA Serial 263751",
            AttestedKey::EcdsaP384,
            true,
        ),
        (
            "ovh-5970478-4.3.5-rsa",
            "CN=Yubico PIV Root CA Serial 263751",
            AttestedKey::Rsa(2048),
            false,
        ),
        (
            "ovh-32718477-5.7.4-rsa",
            "CN=Yubico Attestation Root 1",
            AttestedKey::Rsa(2048),
            false,
        ),
        (
            "regalia-36345471-5.7.4-p256",
            "CN=Yubico Attestation Root 1",
            AttestedKey::EcdsaP256,
            false,
        ),
    ] {
        let r = attestation::verify_chain(
            &real(dir, "slot.pem"),
            &real(dir, "device.pem"),
            &Anchor::Yubico,
            now(),
        )
        .unwrap_or_else(|e| panic!("{dir}: {e}"));
        assert_eq!(r.root_subject, root, "{dir}");
        assert_eq!(r.key_kind, kind, "{dir}");
        assert_eq!(r.ysa_2024_03(), affected, "{dir}");
        assert_eq!(r.intermediates.is_empty(), root.contains("263751"), "{dir}");
    }
}

/// The attacks on the path above the device certificate, through the library.
#[test]
fn attack_intermediates_not_the_devices_path_are_refused() {
    let slot = real("regalia-36345471-5.7.4-p256", "slot.pem");
    let device = real("regalia-36345471-5.7.4-p256", "device.pem");
    let published = attestation::yubico_intermediates().unwrap();
    let by_name = |cn: &str| {
        published
            .iter()
            .find(|c| c.subject() == format!("CN={cn}"))
            .unwrap()
            .clone()
    };
    let (piv_a, int_a) = (
        by_name("Yubico PIV Attestation A 1"),
        by_name("Yubico Attestation Intermediate A 1"),
    );
    let (piv_b, int_b) = (
        by_name("Yubico PIV Attestation B 1"),
        by_name("Yubico Attestation Intermediate B 1"),
    );
    let check = |list: &[Certificate]| {
        attestation::verify_chain_with(&slot, &device, Some(list), &Anchor::Yubico, now())
    };
    assert!(check(&[piv_b.clone(), int_b.clone()]).is_ok());
    // The other branch's intermediates (a swapped intermediate).
    assert!(matches!(
        check(&[piv_a.clone(), int_a.clone()]),
        Err(AttestationError::WrongIssuer {
            which: Which::Device,
            ..
        })
    ));
    // The right PIV intermediate under the wrong attestation intermediate.
    assert!(matches!(
        check(&[piv_b.clone(), int_a.clone()]),
        Err(AttestationError::WrongIssuer {
            which: Which::Intermediate(1),
            ..
        })
    ));
    // Too few: the path does not reach a root.
    assert!(check(std::slice::from_ref(&piv_b)).is_err());
    // Too many: a record keeps exactly its path.
    assert!(check(&[piv_b.clone(), int_b.clone(), piv_a.clone()]).is_err());
    // A device certificate of the old PKI cannot borrow the new path.
    let old_slot = real("cosign-5.2.6-p256", "slot.pem");
    let old_device = real("cosign-5.2.6-p256", "device.pem");
    assert!(
        attestation::verify_chain_with(
            &old_slot,
            &old_device,
            Some(&[piv_b, int_b]),
            &Anchor::Yubico,
            now()
        )
        .is_err()
    );
    // A published intermediate cannot pose as the device certificate.
    assert!(matches!(
        attestation::verify_chain(
            &slot,
            &by_name("Yubico PIV Attestation B 1"),
            &Anchor::Yubico,
            now()
        ),
        Err(AttestationError::Malformed {
            which: Which::Device,
            ..
        })
    ));
}

/// Both of Yubico's roots given with --ca-cert count as Yubico's; the published
/// intermediates are pinned, and the new root's fingerprint is the one Yubico publishes.
#[test]
fn yubico_roots_are_pinned() {
    for (pem, sha) in [
        (
            attestation::YUBICO_PIV_ROOT_PEM,
            attestation::YUBICO_PIV_ROOT_SHA256,
        ),
        (
            attestation::YUBICO_ATTESTATION_ROOT_1_PEM,
            attestation::YUBICO_ATTESTATION_ROOT_1_SHA256,
        ),
    ] {
        let c = Certificate::from_pem(pem, Which::Root).unwrap();
        assert_eq!(c.fingerprint(), sha);
        assert!(matches!(Anchor::custom(c), Anchor::Yubico));
    }
    assert_eq!(attestation::YUBICO_PIV_INTERMEDIATES.len(), 5);
    for c in attestation::yubico_intermediates().unwrap() {
        assert!(attestation::is_published_intermediate(&c));
    }
}

/// No single-byte change of the real 5.7.4 slot or device certificate verifies.
#[test]
fn no_single_byte_change_of_a_real_5_7_4_chain_verifies() {
    let slot = real("regalia-36345471-5.7.4-p256", "slot.pem");
    let device = real("regalia-36345471-5.7.4-p256", "device.pem");
    for (which, original) in [(Which::Slot, &slot), (Which::Device, &device)] {
        let der = original.der().to_vec();
        for i in 0..der.len() {
            let mut bytes = der.clone();
            bytes[i] ^= 0x01;
            let Ok(changed) = Certificate::from_der(&bytes, which) else {
                continue;
            };
            let (s, d) = match which {
                Which::Slot => (&changed, &device),
                _ => (&slot, &changed),
            };
            assert!(
                attestation::verify_chain(s, d, &Anchor::Yubico, now()).is_err(),
                "{which}: byte {i} still verifies"
            );
        }
    }
}

/// A record made at enrolment for a 5.7.4 device keeps the intermediates its chain used.
#[test]
fn a_new_record_keeps_the_chain_it_used() {
    let dir = vectors().join("real/regalia-36345471-5.7.4-p256");
    let slot = Certificate::from_pem(
        &std::fs::read_to_string(dir.join("slot.pem")).unwrap(),
        Which::Slot,
    )
    .unwrap();
    let device = Certificate::from_pem(
        &std::fs::read_to_string(dir.join("device.pem")).unwrap(),
        Which::Device,
    )
    .unwrap();
    let report = attestation::verify_chain(&slot, &device, &Anchor::Yubico, now()).unwrap();
    let record = EnrolmentRecord::new(
        report.serial,
        0x9a,
        report.firmware,
        PinPolicy::Once,
        TouchPolicy::Never,
        report.public_key.clone().unwrap(),
        slot.der(),
        device.der(),
        Expires::parse("2026-11-30T12:00:00Z").unwrap(),
    )
    .unwrap();
    let kept = record.intermediates.clone().unwrap();
    assert_eq!(kept.len(), 2);
    assert!(kept[0].contains("BEGIN CERTIFICATE"));
    let back = EnrolmentRecord::parse(&record.to_bytes()).unwrap();
    assert_eq!(back, record);
    let r = back
        .verify(&Anchor::Yubico, Some(36_345_471), now())
        .unwrap();
    assert_eq!(r.intermediates.len(), 2);
    // The generator's control case says the same, byte for byte.
    let case = std::fs::read(vectors().join("cases/valid-real-record-5.7.4/record.json")).unwrap();
    assert_eq!(EnrolmentRecord::parse(&case).unwrap(), record);
}

/// Every byte of a certificate is signed, a copy of a signed field, the signature, or
/// structure: so no single-byte change anywhere in the real slot or device certificate may
/// still verify (and none may panic).
#[test]
fn no_single_byte_change_of_a_real_chain_verifies() {
    let slot = real("cosign-5.2.6-p256", "slot.pem");
    let device = real("cosign-5.2.6-p256", "device.pem");
    for (which, original) in [(Which::Slot, &slot), (Which::Device, &device)] {
        let der = original.der().to_vec();
        for i in 0..der.len() {
            for flip in [0x01u8, 0x80] {
                let mut bytes = der.clone();
                bytes[i] ^= flip;
                let Ok(changed) = Certificate::from_der(&bytes, which) else {
                    continue;
                };
                let (s, d) = match which {
                    Which::Slot => (&changed, &device),
                    _ => (&slot, &changed),
                };
                let result = attestation::verify_chain(s, d, &Anchor::Yubico, now());
                assert!(
                    result.is_err(),
                    "{which}: byte {i} xor {flip:#04x} still verifies"
                );
            }
        }
    }
}

#[test]
fn dates_outside_the_validity_period_are_warnings_only() {
    let slot = real("cosign-5.2.6-p256", "slot.pem");
    let device = real("cosign-5.2.6-p256", "device.pem");
    let year_2060 = 2_840_140_800;
    let r = attestation::verify_chain(&slot, &device, &Anchor::Yubico, year_2060).unwrap();
    assert_eq!(r.warnings.len(), 3, "{:?}", r.warnings);
    assert!(r.warnings[0].contains("the slot certificate has expired"));
    let r = attestation::verify_chain(&slot, &device, &Anchor::Yubico, 0).unwrap();
    assert!(r.warnings[0].contains("not valid yet"));
}

/// A record built here, in Rust, from the real fixture: the record's public key is the key in
/// the fixture's slot certificate. It verifies, survives a write/read round trip, and each
/// single edit is caught with its own reason.
#[test]
fn record_built_from_the_real_fixture() {
    let dir = vectors().join("real/cosign-5.2.6-p256");
    let slot_pem = std::fs::read_to_string(dir.join("slot.pem")).unwrap();
    let device_pem = std::fs::read_to_string(dir.join("device.pem")).unwrap();
    let slot = Certificate::from_pem(&slot_pem, Which::Slot).unwrap();
    let device = Certificate::from_pem(&device_pem, Which::Device).unwrap();
    let report = attestation::verify_chain(&slot, &device, &Anchor::Yubico, now()).unwrap();
    let key = report.public_key.clone().unwrap();
    let record = EnrolmentRecord {
        serial: report.serial,
        slot: 0x9c,
        firmware: report.firmware,
        algorithm: "ecdsa-p256".into(),
        pin_policy: PinPolicy::Always,
        touch_policy: TouchPolicy::Always,
        keyid: key.keyid(),
        public_key: key.clone(),
        slot_certificate: slot_pem,
        device_certificate: device_pem,
        intermediates: None,
        created: Expires::parse("2026-11-30T12:00:00Z").unwrap(),
    };
    let bytes = record.to_bytes();
    let back = EnrolmentRecord::parse(&bytes).unwrap();
    assert_eq!(back, record);
    let ok = back
        .verify(&Anchor::Yubico, Some(13_078_782), now())
        .unwrap();
    assert_eq!(ok.public_key.unwrap().keyid(), key.keyid());
    // The same bytes as the generator's control case (independently built in Python).
    let case = std::fs::read(vectors().join("cases/valid-real-record/record.json")).unwrap();
    assert_eq!(EnrolmentRecord::parse(&case).unwrap(), record);

    let mut r = record.clone();
    r.serial += 1;
    assert!(matches!(
        r.verify(&Anchor::Yubico, None, now()),
        Err(RecordMismatch::Serial { .. })
    ));
    assert!(matches!(
        record.verify(&Anchor::Yubico, Some(1), now()),
        Err(RecordMismatch::ExpectedSerial {
            attested: 13_078_782,
            expected: 1
        })
    ));
    let mut r = record.clone();
    r.slot = 0x9a;
    assert!(matches!(
        r.verify(&Anchor::Yubico, None, now()),
        Err(RecordMismatch::Slot { .. })
    ));
    let mut r = record.clone();
    r.public_key = conclave::metadata::Key::ecdsa_p256(
        &p256::SecretKey::from_slice(&[7; 32]).unwrap().public_key(),
    );
    r.keyid = r.public_key.keyid();
    assert!(matches!(
        r.verify(&Anchor::Yubico, None, now()),
        Err(RecordMismatch::PublicKey { .. })
    ));
    let mut r = record.clone();
    r.keyid = conclave::metadata::KeyId::new(&"0".repeat(64)).unwrap();
    assert!(matches!(
        r.verify(&Anchor::Yubico, None, now()),
        Err(RecordMismatch::KeyId { .. })
    ));
    let mut r = record.clone();
    r.touch_policy = TouchPolicy::Cached;
    assert!(matches!(
        r.verify(&Anchor::Yubico, None, now()),
        Err(RecordMismatch::TouchPolicy {
            attested: TouchPolicy::Always,
            record: TouchPolicy::Cached
        })
    ));
    let mut r = record.clone();
    r.firmware = Firmware(5, 2, 7);
    assert!(matches!(
        r.verify(&Anchor::Yubico, None, now()),
        Err(RecordMismatch::Firmware { .. })
    ));
    let mut r = record.clone();
    std::mem::swap(&mut r.slot_certificate, &mut r.device_certificate);
    assert!(matches!(
        r.verify(&Anchor::Yubico, None, now()),
        Err(RecordMismatch::Chain(AttestationError::Malformed {
            which: Which::Slot,
            ..
        }))
    ));
}

// ---------------------------------------------------------------------------------------------
// The case corpus through the binary.

struct Case {
    name: String,
    dir: PathBuf,
    command: Vec<String>,
    exit: i32,
    stderr_contains: Vec<String>,
    stdout_contains: Vec<String>,
    stdout_not_contains: Vec<String>,
}

fn strings(v: Option<&Value>, case: &str) -> Vec<String> {
    match v {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|s| {
                s.as_str()
                    .unwrap_or_else(|| panic!("{case}: strings only"))
                    .to_owned()
            })
            .collect(),
        Some(_) => panic!("{case}: expected an array"),
    }
}

fn load_cases() -> Vec<Case> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(vectors().join("cases"))
        .expect("tests/vectors/attestation/cases exists (gen_attestation.py)")
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    dirs.into_iter()
        .map(|dir| {
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            let exp = cjson::parse(&std::fs::read(dir.join("expected.json")).unwrap())
                .unwrap_or_else(|e| panic!("{name}: expected.json: {e}"));
            let exit = match exp.get("exit") {
                Some(Value::Int(i)) => *i as i32,
                _ => panic!("{name}: integer exit"),
            };
            let stderr_contains = strings(exp.get("stderr_contains"), &name);
            assert!(
                exit == 0 || !stderr_contains.is_empty(),
                "{name}: a failing case must name its reason"
            );
            Case {
                command: strings(exp.get("command"), &name),
                exit,
                stderr_contains,
                stdout_contains: strings(exp.get("stdout_contains"), &name),
                stdout_not_contains: strings(exp.get("stdout_not_contains"), &name),
                name,
                dir,
            }
        })
        .collect()
}

fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let b = std::fs::read(&p).unwrap();
            (p, b)
        })
        .collect();
    v.sort();
    v
}

fn run_case(case: &Case) -> Result<(), String> {
    let before = snapshot(&case.dir);
    let out = Command::new(CONCLAVE)
        .args(&case.command)
        .current_dir(&case.dir)
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run conclave: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut problems = Vec::new();
    if out.status.code() != Some(case.exit) {
        problems.push(format!(
            "exit {:?}, expected {}",
            out.status.code(),
            case.exit
        ));
    }
    for want in &case.stderr_contains {
        if !stderr.contains(want.as_str()) {
            problems.push(format!("stderr lacks {want:?}"));
        }
    }
    for want in &case.stdout_contains {
        if !stdout.contains(want.as_str()) {
            problems.push(format!("stdout lacks {want:?}"));
        }
    }
    for unwanted in &case.stdout_not_contains {
        if stdout.contains(unwanted.as_str()) {
            problems.push(format!("stdout contains {unwanted:?}"));
        }
    }
    if case.exit != 0 && !stdout.is_empty() {
        problems.push("a refused attestation printed a report on stdout".into());
    }
    if stderr.contains("panicked") {
        problems.push("conclave panicked".into());
    }
    if snapshot(&case.dir) != before {
        problems.push("a file in the case directory was created or changed".into());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}\n    command: conclave {}\n    stdout:\n{stdout}\n    stderr:\n{stderr}",
            problems.join("\n    "),
            case.command.join(" ")
        ))
    }
}

#[test]
fn every_attestation_case_gives_its_own_result() {
    let cases = load_cases();
    assert!(
        cases.len() >= 25,
        "only {} cases; regenerate with gen_attestation.py",
        cases.len()
    );
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| run_case(c).err().map(|why| format!("{}: {why}", c.name)))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn usage_errors_exit_2() {
    let dir = vectors().join("cases/valid-real-record");
    for (args, want) in [
        (vec!["key", "attest"], "RECORD"),
        (
            vec!["key", "attest", "missing.json"],
            "missing.json: cannot read",
        ),
        (
            vec!["key", "attest", "record.json", "--ca-cert", "record.json"],
            "--ca-cert takes one PEM certificate",
        ),
        (
            vec!["key", "attest", "record.json", "--serial", "twelve"],
            "--serial",
        ),
        (
            vec!["key", "attest", "record.json", "--chain", "a.pem", "b.pem"],
            "cannot be used with",
        ),
    ] {
        let out = Command::new(CONCLAVE)
            .args(&args)
            .current_dir(&dir)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}
