//! Building, signing and writing a PEP 480 claimed role with N projects, then reading and
//! verifying it — the workload benches/pypi-scale.sh also runs in python-tuf.
//!
//!   cargo bench --bench claimed_scale -- N OUTDIR
//!
//! Prints one JSON line: wall times, output size, the hashing floor (SHA-512 over the signed
//! bytes, times the passes Ed25519 needs) and peak RSS. Key generation is outside the timing,
//! as in the python-tuf script: developer keys are random 32-byte public values.

use std::time::Instant;

use conclave::metadata::{Expires, Key, Metadata, Threshold};
use conclave::pypi::{ClaimRequest, claim};
use conclave::signer::Ed25519Signer;
use conclave::signer::SignMetadata;
use sha2::{Digest, Sha512};

fn peak_rss_mib() -> f64 {
    status_mib("VmHWM:")
}

/// A `/proc/self/status` memory field in MiB.
fn status_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.first().map(String::as_str) == Some("--verify-phase") {
        return verify_phase(std::path::Path::new(&args[1]));
    }
    let n: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let out = std::path::PathBuf::from(args.get(1).cloned().unwrap_or_else(|| "target".into()));
    std::fs::create_dir_all(&out).unwrap();

    // Setup (not timed): one random developer key per project, as raw public bytes (the
    // python-tuf script likewise prepares hex strings). The requests themselves are made one
    // at a time inside the timing, as `pypi claim` reads them from a file.
    let mut seed = [7u8; 32];
    let publics: Vec<[u8; 32]> = (0..n)
        .map(|i| {
            seed[..8].copy_from_slice(&(i as u64).to_le_bytes());
            Sha512::digest(seed)[..32].try_into().unwrap()
        })
        .collect();
    let requests = publics.iter().enumerate().map(|(i, public)| {
        let name = format!("project-{i}");
        ClaimRequest {
            line: i + 1,
            original: name.clone(),
            project: name,
            keys: vec![Key::ed25519(public)],
            threshold: Threshold::new(1).unwrap(),
        }
    });
    let admins = [
        Ed25519Signer::from_seed(&[1; 32]),
        Ed25519Signer::from_seed(&[2; 32]),
    ];
    let expires = Expires::parse("2100-01-01T00:00:00Z").unwrap();
    let rss_setup = peak_rss_mib();
    let resident_setup = status_mib("VmRSS:");

    // Build, sign with two admin keys, write.
    let t0 = Instant::now();
    let (claimed, _) = claim(None, requests, Some(expires)).unwrap();
    let t_build = t0.elapsed().as_secs_f64();
    // What the built model occupies (resident now, less what the setup held).
    let model_mib = status_mib("VmRSS:") - resident_setup;
    let mut md = Metadata::new(claimed);
    // Signed in passes shared by both admins and written as the last pass goes (the signed
    // bytes are never held whole): signing and writing are one step here.
    let path = out.join(format!("claimed-{n}.json"));
    md.sign_all_into_file(&[&admins[0], &admins[1]], &path)
        .unwrap();
    let t_write = t0.elapsed().as_secs_f64();
    let file_len = std::fs::metadata(&path).unwrap().len() as usize;
    // Freeing is not part of the work (python-tuf's objects also live until the end).
    drop(md);
    let peak_build = peak_rss_mib();

    // Read back and verify, in a fresh process as `conclave verify` runs: the allocator keeps
    // the build's freed memory, which would otherwise be counted again.
    let exe = std::env::current_exe().unwrap();
    let child = std::process::Command::new(exe)
        .arg("--verify-phase")
        .arg(&path)
        .output()
        .unwrap();
    assert!(child.status.success(), "verify phase failed: {child:?}");
    let text = String::from_utf8(child.stdout).unwrap();
    let mut fields = text.split_whitespace().map(|v| v.parse::<f64>().unwrap());
    let (t_verify, peak_verify, signed_len) = (
        fields.next().unwrap(),
        fields.next().unwrap(),
        fields.next().unwrap() as usize,
    );

    // The hashing floor: SHA-512 over the signed bytes; Ed25519 signing hashes the message
    // twice per key, verifying once per key.
    // The median of three passes: one pass alone swings by a third between runs here.
    let canonical = vec![0x5au8; signed_len];
    let mut passes: Vec<f64> = (0..3)
        .map(|_| {
            let h0 = Instant::now();
            std::hint::black_box(Sha512::digest(&canonical));
            h0.elapsed().as_secs_f64()
        })
        .collect();
    passes.sort_by(f64::total_cmp);
    let sha512_pass = passes[1];
    drop(canonical);

    println!(
        "{{\"tool\": \"conclave\", \"projects\": {n}, \"build_sign_write_s\": {t_write:.3}, \"build_s\": {t_build:.3}, \"sign_write_s\": {:.3}, \"verify_s\": {t_verify:.3}, \"file_mb\": {:.1}, \"signed_mb\": {:.1}, \"sha512_pass_s\": {sha512_pass:.3}, \"floor_sign_s\": {:.3}, \"floor_verify_s\": {:.3}, \"peak_rss_mib\": {:.0}, \"peak_rss_build_mib\": {peak_build:.0}, \"peak_rss_verify_mib\": {peak_verify:.0}, \"setup_rss_mib\": {rss_setup:.0}, \"model_mib\": {model_mib:.0}}}",
        t_write - t_build,
        file_len as f64 / 1e6,
        signed_len as f64 / 1e6,
        sha512_pass * 4.0,
        sha512_pass * 2.0,
        peak_build.max(peak_verify)
    );
}

/// The verify phase, run by the benchmark in its own process: read the file back and check the
/// two admin signatures. Prints the time, the peak RSS and the signed bytes' length.
fn verify_phase(path: &std::path::Path) {
    let admins = [
        Ed25519Signer::from_seed(&[1; 32]),
        Ed25519Signer::from_seed(&[2; 32]),
    ];
    let admin_keys: std::collections::BTreeMap<_, _> = admins
        .iter()
        .map(|a| {
            let k = conclave::signer::Signer::public_key(a).clone();
            (k.keyid(), k)
        })
        .collect();
    let ids: Vec<_> = admin_keys.keys().cloned().collect();
    let v0 = Instant::now();
    // As `conclave verify` reads it: in pieces, holding only the model; the signatures are
    // checked over the model's canonical form, produced in pieces.
    let read = conclave::fsutil::read_metadata(path, &[]).unwrap();
    let large = std::fs::metadata(path).unwrap().len() >= conclave::metadata::streamed::STREAM_MIN;
    assert_eq!(
        read.whole.is_none(),
        large,
        "a large claimed role must be read in pieces, a small one whole"
    );
    let conclave::metadata::AnyMetadata::Targets(back) = &read.meta else {
        panic!("not a targets role");
    };
    let signed = conclave::metadata::SignedText::of_metadata(&read.meta);
    let report = conclave::verify::check_threshold(
        "claimed",
        "admins",
        &signed,
        &back.signatures,
        &ids,
        &admin_keys,
        Threshold::new(2).unwrap(),
    );
    assert!(report.is_met());
    let t_verify = v0.elapsed().as_secs_f64();
    let mut signed_len = 0;
    signed.feed(&mut |piece| signed_len += piece.len());
    println!("{t_verify:.3} {:.0} {signed_len}", peak_rss_mib());
}
