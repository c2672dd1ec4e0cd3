//! The verification engine on small repositories: the input is up to eight files separated
//! by NUL bytes (JSON never contains a raw NUL), named in repository layout by position.
//! Verification must never panic or loop, whatever the files say.
#![no_main]

use conclave::metadata::Expires;
use conclave::verify::{InputFile, verify_repository};
use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 8] = [
    "1.root.json",
    "2.root.json",
    "timestamp.json",
    "snapshot.json",
    "targets.json",
    "projects.json",
    "root.json",
    "3.root.json",
];

fuzz_target!(|data: &[u8]| {
    let files: Vec<InputFile> = data
        .split(|&b| b == 0)
        .zip(NAMES)
        .map(|(bytes, name)| InputFile {
            name: name.to_owned(),
            bytes: bytes.to_vec(),
        })
        .collect();
    let now = Expires::parse("2030-01-01T00:00:00Z").expect("a valid time");
    let report = verify_repository(&files, None, now);
    // Results are data: the JSON form must always be writable.
    let _ = conclave::cjson::to_pretty(&report.to_json());
    for p in report.problems.iter().chain(&report.warnings) {
        let _ = p.to_string();
    }
});
