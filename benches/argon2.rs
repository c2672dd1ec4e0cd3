//! Argon2id in conclave, at its two profiles: the median wall time of a few runs.
//! Run through benches/argon2-vs-reference.sh, which compares it with the reference C
//! implementation. Not a timed test: it only prints numbers.
//!
//! With a profile's name as an argument (`cargo bench --bench argon2 -- rfc9106-2gib`), one
//! derivation of that profile only, its time printed alone: the script alternates these with
//! the reference's runs, so that a slow minute on a shared machine falls on both.

use std::time::Instant;

use conclave::kdf::PROFILES;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(p) = PROFILES.iter().find(|p| args.iter().any(|a| a == p.name)) {
        let start = Instant::now();
        let out = p.derive(b"benchmark passphrase", &[7; 32]).unwrap();
        println!("{:.3}", start.elapsed().as_secs_f64());
        std::hint::black_box(out);
        return;
    }
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    for p in PROFILES {
        let mut times = Vec::new();
        for i in 0..runs {
            let start = Instant::now();
            let out = p.derive(b"benchmark passphrase", &[i as u8; 32]).unwrap();
            times.push(start.elapsed().as_secs_f64());
            std::hint::black_box(out);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "conclave {} median {:.3} s over {runs} runs",
            p.name,
            times[runs / 2]
        );
    }
}
