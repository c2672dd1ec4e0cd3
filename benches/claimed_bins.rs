//! Single-file claimed against claimed in hash bins: file sizes, files to sign per claim
//! round, what a client downloads — benches/claimed-bins.sh runs it and prints the table in
//! docs/pypi.md.
//!
//!   cargo bench --bench claimed_bins -- PROJECTS BINS CHANGE_PERCENT
//!
//! BINS 0 is the single-file layout. Round 1 claims PROJECTS projects (version 1 for a single
//! file; version 2 of every bin that fills); the monthly round then claims CHANGE_PERCENT % of
//! PROJECTS more, new projects, as one batch. Every file is signed by two admin keys (Ed25519)
//! and sized as written. Prints one JSON line.

use std::collections::HashMap;
use std::time::Instant;

use conclave::metadata::{Expires, Key, Metadata, Targets, Threshold};
use conclave::pypi::{ClaimRequest, Hub, claim, claim_in_bins, init_claimed_bins};
use conclave::signer::{Ed25519Signer, SignMetadata, Signer};
use sha2::{Digest, Sha512};

fn requests(from: usize, to: usize) -> Vec<ClaimRequest> {
    let mut seed = [7u8; 32];
    (from..to)
        .map(|i| {
            seed[..8].copy_from_slice(&(i as u64).to_le_bytes());
            let public: [u8; 32] = Sha512::digest(seed)[..32].try_into().unwrap();
            let name = format!("project-{i}");
            ClaimRequest {
                line: i - from + 1,
                original: name.clone(),
                project: name,
                keys: vec![Key::ed25519(&public)],
                threshold: Threshold::new(1).unwrap(),
            }
        })
        .collect()
}

fn signed_len(t: &Targets, admins: &[&(dyn Signer + Sync)]) -> usize {
    let mut md = Metadata::new(t.clone());
    for admin in admins {
        md.sign(*admin).unwrap();
    }
    md.to_file_bytes().len()
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .map(|a| a.parse().expect("PROJECTS BINS CHANGE_PERCENT"))
        .collect();
    // Without arguments (as `cargo test --all-targets` runs every bench target): a small
    // smoke run, so the benchmark's code paths stay working; the numbers come from
    // benches/claimed-bins.sh, which passes PROJECTS BINS CHANGE_PERCENT.
    let (n, bins, pct) = match args.as_slice() {
        [] => (2_000, 16, 1),
        [n, b, p] => (*n, *b, *p),
        _ => panic!("usage: claimed_bins PROJECTS BINS CHANGE_PERCENT"),
    };
    let change = n * pct / 100;
    let a1 = Ed25519Signer::from_seed(&[1; 32]);
    let a2 = Ed25519Signer::from_seed(&[2; 32]);
    let admins: [&(dyn Signer + Sync); 2] = [&a1, &a2];
    let exp = Expires::parse("2100-01-01T00:00:00Z").unwrap();
    let round1 = requests(0, n);
    let round2 = requests(n, n + change);

    if bins == 0 {
        let (v1, _) = claim(None, &round1, Some(exp)).unwrap();
        drop(round1);
        let size1 = signed_len(&v1, &admins);
        let t = Instant::now();
        let (v2, _) = claim(Some(&v1), &round2, None).unwrap();
        drop(v1);
        let size2 = signed_len(&v2, &admins);
        let secs = t.elapsed().as_secs_f64();
        println!(
            "{{\"projects\": {n}, \"bins\": 0, \"change\": {change}, \"claimed_mb\": {:.2}, \"bin_kb_mean\": 0, \"bin_kb_max\": 0, \"round_files\": 1, \"round_signed_mb\": {:.2}, \"round_s\": {secs:.2}, \"client_first_kb\": {:.0}, \"client_round_kb\": {:.0}}}",
            size1 as f64 / 1e6,
            size2 as f64 / 1e6,
            size2 as f64 / 1e3,
            size2 as f64 / 1e3,
        );
        return;
    }

    let keys: Vec<Key> = admins.iter().map(|a| a.public_key().clone()).collect();
    let (hub, empty) =
        init_claimed_bins(&keys, Threshold::new(2).unwrap(), exp, bins as u32).unwrap();
    let hub_size = signed_len(&hub, &admins);
    let mut current: HashMap<String, Targets> = empty.into_iter().collect();
    let h = Hub::of(&hub).unwrap();
    let mut load = |name: &str| Ok(current.get(name).unwrap().clone());
    let (drafts, _) = claim_in_bins(&h, &mut load, &round1, Some(exp)).unwrap();
    drop(round1);
    for (name, t) in drafts {
        current.insert(name, t);
    }
    let sizes: Vec<usize> = current.values().map(|t| signed_len(t, &admins)).collect();
    let total: usize = sizes.iter().sum();
    let max = *sizes.iter().max().unwrap();
    let mean = total as f64 / sizes.len() as f64;

    let t = Instant::now();
    let mut load = |name: &str| Ok(current.get(name).unwrap().clone());
    let (drafts, _) = claim_in_bins(&h, &mut load, &round2, None).unwrap();
    let signed: usize = drafts.iter().map(|(_, t)| signed_len(t, &admins)).sum();
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{{\"projects\": {n}, \"bins\": {bins}, \"change\": {change}, \"claimed_mb\": {:.2}, \"hub_kb\": {:.0}, \"bins_total_mb\": {:.2}, \"bin_kb_mean\": {:.1}, \"bin_kb_max\": {:.1}, \"round_files\": {}, \"round_signed_mb\": {:.2}, \"round_s\": {secs:.2}, \"client_first_kb\": {:.0}, \"client_round_kb\": {:.1}}}",
        hub_size as f64 / 1e6,
        hub_size as f64 / 1e3,
        total as f64 / 1e6,
        mean / 1e3,
        max as f64 / 1e3,
        drafts.len(),
        signed as f64 / 1e6,
        (hub_size as f64 + mean) / 1e3,
        mean / 1e3,
    );
}
