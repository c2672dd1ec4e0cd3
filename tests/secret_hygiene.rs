//! Secret hygiene: a whole ceremony runs with known secrets, and none of them may appear —
//! raw, as hex or as base64 — in any file written, on stdout or on stderr.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::*;

fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
    }
    out
}

/// Every way a secret could be spelled in output. Base64 is checked at all three byte
/// alignments, so a secret embedded in a longer encoded blob is found too.
fn spellings(secret: &[u8]) -> Vec<String> {
    let mut out = vec![hex::encode(secret), hex::encode_upper(secret)];
    if let Ok(s) = std::str::from_utf8(secret) {
        out.push(s.to_owned());
    }
    for pad in 0..3 {
        let mut shifted = vec![0u8; pad];
        shifted.extend_from_slice(secret);
        let enc = base64(&shifted);
        // Drop the characters that depend on the padding bytes and on what follows.
        let skip = if pad == 0 { 0 } else { (pad * 8).div_ceil(6) };
        let keep = enc.len().saturating_sub(skip + 4);
        if keep > 16 {
            out.push(enc[skip..skip + keep].to_owned());
        }
    }
    out
}

fn all_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            all_files(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn no_secret_appears_in_any_file_or_output_of_a_ceremony() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run(Command::new("bash")
        .arg(repo_root().join("ceremony-scripts/root-genesis-and-rotation.sh"))
        .arg(tmp.path())
        .env("CONCLAVE", env!("CARGO_BIN_EXE_conclave"))
        .stdin(Stdio::null()));
    assert_eq!(o.code, 0, "{}", o.stderr);

    // The script's rehearsal passphrases, and the derived private seeds they give.
    let derived = [
        (
            "rehearsal.example/root/bob",
            "abacus abdomen abdominal abide abiding ability ablaze able",
        ),
        (
            "rehearsal.example/root/carol",
            "acid acorn acre acrobat acronym acting action activate",
        ),
        (
            "rehearsal.example/root/dave",
            "zealous zebra zen zero zesty zigzag zipfile zipping",
        ),
    ];
    let mut secrets: Vec<(String, Vec<u8>)> = vec![
        (
            "alice's key-file passphrase".into(),
            b"rehearsal alice key file passphrase".to_vec(),
        ),
        (
            "the online keys' passphrase".into(),
            b"rehearsal online key passphrase".to_vec(),
        ),
    ];
    for (id, pass) in derived {
        secrets.push((format!("{id} passphrase"), pass.as_bytes().to_vec()));
        let seed = conclave::kdf::RFC9106_2GIB
            .derive(pass.as_bytes(), &conclave::signer::derived::salt(id))
            .unwrap();
        secrets.push((format!("{id} private seed"), seed.to_vec()));
    }

    let mut files = Vec::new();
    all_files(tmp.path(), &mut files);
    assert!(
        files.len() > 10,
        "the ceremony wrote too few files: {files:?}"
    );
    let mut haystacks: Vec<(String, Vec<u8>)> = vec![
        ("stdout".into(), o.stdout.into_bytes()),
        ("stderr".into(), o.stderr.into_bytes()),
    ];
    for f in files {
        haystacks.push((f.display().to_string(), std::fs::read(&f).unwrap()));
    }
    for (what, secret) in &secrets {
        for spelling in spellings(secret) {
            for (name, hay) in &haystacks {
                let found = hay
                    .windows(spelling.len())
                    .any(|w| w == spelling.as_bytes());
                assert!(!found, "{what} appears in {name} (as {spelling:?})");
            }
        }
    }
}

#[test]
fn the_search_itself_finds_what_it_looks_for() {
    // Guard against a search that can never fail.
    let secret = b"0123456789abcdef0123456789abcdef";
    let hay = format!(
        "prefix {} suffix",
        base64(&[b"xy".as_slice(), secret].concat())
    );
    assert!(spellings(secret).iter().any(|s| hay.contains(s.as_str())));
    let hay = format!("... {} ...", hex::encode(secret));
    assert!(spellings(secret).iter().any(|s| hay.contains(s.as_str())));
}
