//! `conclave key attest`: check a YubiKey enrolment record (or a bare attestation chain) and
//! print a report to read aloud.

use std::path::{Path, PathBuf};

use conclave::attestation::{
    self, Anchor, AttestationError, AttestationReport, Certificate, EnrolmentRecord,
    RecordMismatch, Which, check_expected_serial, slot_name,
};
use conclave::display::escape;

use crate::cli::{Failure, exit, read_file, shown};

/// Records and certificates are a few kilobytes; anything much larger is not one.
const MAX_RECORD: usize = 1 << 20;

/// Check a YubiKey enrolment record: was this key generated inside the YubiKey it names?
///
/// Verifies the record's attestation chain (slot certificate signed by the YubiKey's f9
/// device certificate, signed by Yubico's PIV Root CA Serial 263751 before firmware 5.7.4, or
/// through Yubico's published intermediates to Yubico Attestation Root 1 from 5.7.4 on; roots
/// and intermediates are built into conclave, pinned by fingerprint), then that the chain
/// attests exactly what the record says: serial, slot, public key and keyid, PIN and touch
/// policies, firmware. Reports whether the firmware is affected by Yubico advisory
/// YSA-2024-03 (ECDSA keys on firmware below 5.7.0 can be cloned); with --role root, targets
/// or claimed such a key is refused. Prints a report to read aloud (stdout) and exits 0, or
/// exits 1 with the one reason it does not hold. See docs/hardware.md, "Checking an enrolment
/// record (attestation)".
#[derive(clap::Args)]
pub struct AttestArgs {
    /// The enrolment record (`*.enrolment.json`, written by `key generate --yubikey`).
    #[arg(
        value_name = "RECORD",
        required_unless_present = "chain",
        conflicts_with = "chain"
    )]
    record: Option<PathBuf>,
    /// The YubiKey serial number you expect (printed on the device; `ykman list --serials`).
    /// The attestation must name this serial.
    #[arg(long, value_name = "N")]
    serial: Option<u32>,
    /// Check against this CA certificate (PEM) instead of Yubico's root. For PIV emulators in
    /// tests ONLY: a chain anchored here proves nothing about real YubiKey hardware, and the
    /// report says so.
    #[arg(long, value_name = "PEMFILE")]
    ca_cert: Option<PathBuf>,
    /// Check two PEM certificates instead of a record, e.g. made with ykman:
    /// `ykman piv keys attest 9c slot.pem` and `ykman piv certificates export f9 device.pem`.
    #[arg(long, num_args = 2, value_names = ["SLOT_PEM", "DEVICE_PEM"])]
    chain: Option<Vec<PathBuf>>,
    /// The role the key is enrolled for. For root, targets and claimed, a key YSA-2024-03
    /// says can be cloned (ECDSA on firmware below 5.7.0) is refused (exit 1); a ceremony
    /// plan can waive that (policy.allow_vulnerable_firmware), `key attest` cannot.
    #[arg(long, value_name = "ROLE", value_parser = [
        "root", "targets", "snapshot", "timestamp", "claimed", "recently-claimed", "unclaimed",
    ])]
    role: Option<String>,
}

fn read_text(path: &Path, what: &str) -> Result<String, Failure> {
    let bytes = read_file(path)?;
    if bytes.len() > MAX_RECORD {
        return Err(Failure::failed(format!(
            "{}: too large for {what} (over 1 MiB)",
            shown(path)
        )));
    }
    String::from_utf8(bytes)
        .map_err(|_| Failure::failed(format!("{}: {what} is not UTF-8 text", shown(path))))
}

fn now() -> i64 {
    conclave::metadata::Expires::now().unix()
}

pub fn run(a: AttestArgs) -> Result<u8, Failure> {
    let anchor = match &a.ca_cert {
        None => Anchor::Yubico,
        Some(path) => {
            let pem = read_text(path, "a CA certificate")?;
            let cert = Certificate::from_pem(&pem, Which::Root).map_err(|e| {
                Failure::usage(format!("{}: {e}", shown(path)))
                    .hint("--ca-cert takes one PEM certificate (-----BEGIN CERTIFICATE-----)")
            })?;
            Anchor::custom(cert)
        }
    };
    if let Some(paths) = &a.chain {
        let report = run_chain(&paths[0], &paths[1], &anchor, a.serial)?;
        firmware_policy(&report, a.role.as_deref(), &paths[0])?;
        print_report(&report, None, a.ca_cert.as_deref());
        return Ok(exit::OK);
    }
    let path = a
        .record
        .as_deref()
        .expect("clap requires RECORD without --chain");
    let text = read_text(path, "an enrolment record")?;
    let record = EnrolmentRecord::parse(text.as_bytes()).map_err(|e| {
        Failure::failed(format!(
            "{}: not a valid enrolment record: {e}",
            shown(path)
        ))
        .hint(
            "an enrolment record is the .enrolment.json file `key generate --yubikey` writes \
             beside the public key; see docs/formats.md",
        )
    })?;
    let report = record
        .verify(&anchor, a.serial, now())
        .map_err(|e| refused(path, &e))?;
    firmware_policy(&report, a.role.as_deref(), path)?;
    print_report(&report, Some(&record), a.ca_cert.as_deref());
    Ok(exit::OK)
}

/// YSA-2024-03 for a key enrolled for `role`: refused for root, targets and claimed.
fn firmware_policy(
    report: &AttestationReport,
    role: Option<&str>,
    path: &Path,
) -> Result<(), Failure> {
    let Some(role) = role else {
        return Ok(());
    };
    if report.ysa_2024_03() && conclave::ceremony::firmware::ROLES.contains(&role) {
        return Err(Failure::failed(format!(
            "{}: YubiKey {} has firmware {} and an {} key: Yubico advisory YSA-2024-03 says \
             such keys can be cloned by someone with physical access, so it is refused for a \
             new {role} key",
            shown(path),
            report.serial,
            report.firmware,
            report.public_key_type
        ))
        .hint(
            "generate the key on a YubiKey with firmware 5.7.0 or later (`ykman info` shows \
             it); a ceremony plan can waive this with policy.allow_vulnerable_firmware = true \
             and a policy.vulnerable_firmware_reason, which the transcript records",
        ));
    }
    Ok(())
}

fn run_chain(
    slot: &Path,
    device: &Path,
    anchor: &Anchor,
    serial: Option<u32>,
) -> Result<AttestationReport, Failure> {
    let read = |path: &Path, which| -> Result<Certificate, Failure> {
        let pem = read_text(path, "a PEM certificate")?;
        Certificate::from_pem(&pem, which)
            .map_err(|e| Failure::failed(format!("{}: {e}", shown(path))))
    };
    let slot_cert = read(slot, Which::Slot)?;
    let device_cert = read(device, Which::Device)?;
    let report = attestation::verify_chain(&slot_cert, &device_cert, anchor, now())
        .map_err(|e| refused(slot, &RecordMismatch::Chain(e)))?;
    check_expected_serial(&report, serial).map_err(|e| refused(slot, &e))?;
    Ok(report)
}

/// One failure message naming the file and the reason, with what to do next.
fn refused(path: &Path, e: &RecordMismatch) -> Failure {
    let hint = match e {
        RecordMismatch::Chain(AttestationError::WrongIssuer { .. })
        | RecordMismatch::Chain(AttestationError::BadSignature { .. })
        | RecordMismatch::Chain(AttestationError::NotPublished { .. }) => {
            "the attestation is not from a genuine YubiKey (or was altered, or was checked \
             against the wrong CA). Do NOT accept this key: have the key holder generate a new \
             key on the YubiKey at the table and make a new record (docs/hardware.md)"
        }
        RecordMismatch::Chain(_) => {
            "the attestation certificates are damaged, incomplete or not a YubiKey's. Do NOT \
             accept this key: make a new record from the YubiKey (docs/hardware.md)"
        }
        RecordMismatch::ExpectedSerial { .. } | RecordMismatch::Serial { .. } => {
            "compare the serial printed on the YubiKey (or `ykman list --serials`) with the \
             one you were given; if they differ, this record belongs to another device. Do NOT \
             accept this key"
        }
        RecordMismatch::PublicKey { .. } | RecordMismatch::KeyId { .. } => {
            "the record's public key is not the key the YubiKey attested: the record was \
             edited or assembled from two enrolments. Do NOT accept this key; make a new record"
        }
        _ => {
            "the record does not say what its attestation says. Do NOT accept this key until a \
             new record from the YubiKey checks out (docs/hardware.md)"
        }
    };
    let reason = match e {
        // The expected serial came from the command line: name the flag it came from.
        RecordMismatch::ExpectedSerial { attested, expected } => format!(
            "serial mismatch: the attestation is for YubiKey {attested}, --serial says {expected}"
        ),
        e => e.to_string(),
    };
    Failure::failed(format!("{}: {reason}", shown(path))).hint(hint)
}

fn print_report(r: &AttestationReport, record: Option<&EnrolmentRecord>, ca_cert: Option<&Path>) {
    let custom = !r.anchored_in_yubico;
    let banner = "*** NOT ANCHORED IN YUBICO'S ROOT: checked against a test CA given with \
                  --ca-cert. This proves NOTHING about real YubiKey hardware. Never use this \
                  at a real ceremony. ***";
    if custom {
        eprintln!("WARNING: {banner}");
        println!("{banner}");
        println!();
    }
    println!(
        "YubiKey attestation: VERIFIED{}",
        if custom { " (TEST CA ONLY)" } else { "" }
    );
    println!();
    println!("  YubiKey serial:   {}", r.serial);
    match r.slot {
        Some(s) => println!("  Slot:             {s:02x} ({})", slot_name(s)),
        None => println!(
            "  Slot:             (not named: {})",
            escape(&r.slot_subject)
        ),
    }
    println!("  Firmware:         {}", r.firmware);
    if r.ysa_2024_03() {
        println!(
            "  YSA-2024-03:      AFFECTED: an {} key on firmware below {}; Yubico says it can \
             be cloned by someone with physical access to the YubiKey",
            r.public_key_type,
            attestation::YSA_2024_03_FIXED_IN
        );
        eprintln!(
            "warning: YubiKey {} (firmware {}) is affected by Yubico advisory YSA-2024-03: its \
             {} key can be cloned by someone with physical access; not acceptable for new \
             root, targets or claimed keys unless the ceremony plan waives it",
            r.serial, r.firmware, r.public_key_type
        );
    } else {
        println!("  YSA-2024-03:      not affected");
    }
    if let Some(ff) = r.form_factor {
        println!("  Form factor:      {ff}");
    }
    if r.fips {
        println!("  FIPS:             the device certificate says FIPS-certified");
    }
    println!("  PIN policy:       {}", r.pin_policy);
    println!("  Touch policy:     {}", r.touch_policy);
    println!("  Key type:         {}", r.public_key_type);
    if let Some(key) = &r.public_key {
        let id = key.keyid();
        let (_, words) = conclave::ceremony::review::digest_for_reading(&id.as_str()[..16]);
        println!("  Keyid:            {id}");
        println!("  Keyid words:      {}", words.join(" "));
    } else {
        println!("  Public key:");
        for line in r.public_key_pem().lines() {
            println!("    {line}");
        }
    }
    if let Some(rec) = record {
        println!(
            "  Record:           matches (serial, slot, key, keyid, policies, firmware); created {}",
            rec.created
        );
    }
    println!();
    println!("  Chain:");
    println!("    slot:           {}", escape(&r.slot_subject));
    println!("    signed by:      {}", escape(&r.device_subject));
    for c in &r.intermediates {
        println!("    signed by:      {}", escape(&c.subject()));
        println!("      SHA-256:      {}", grouped_hex(&c.fingerprint()));
    }
    println!("    signed by:      {}", escape(&r.root_subject));
    println!("  Root SHA-256:     {}", grouped_hex(&r.root_fingerprint));
    if custom {
        println!(
            "  Root:             TEST CA from {} — NOT Yubico's",
            ca_cert.map_or_else(|| "--ca-cert".into(), shown)
        );
    } else {
        println!("  Root:             Yubico's (built into conclave; compare the fingerprints");
        println!("                    with docs/hardware.md, \"Yubico's roots\")");
    }
    for w in &r.warnings {
        eprintln!("warning: {w}");
    }
    if custom {
        println!();
        println!("{banner}");
    }
}

/// Hex in groups of four, upper case, as fingerprints are read aloud.
fn grouped_hex(hex: &str) -> String {
    let fp = hex.to_uppercase();
    fp.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}
