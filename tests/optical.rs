//! Optical transfer through the real binary: `sign --qr`, `qr show`, `qr read`. Signature
//! files come back byte for byte (Ed25519 and ECDSA), altered texts are refused, and the QR
//! code as drawn in the terminal is decoded by an independent reader (zxing-cpp, from the
//! interop venv).

mod common;

use std::path::Path;

use common::*;
use conclave::metadata::AnyMetadata;

const KEY: &str = "tests/vectors/attacks/control/valid-key-file-signs";

/// A signature file made in-process by `signer` over a small claimed draft.
fn sig_file(dir: &Path, name: &str, signer: &dyn conclave::signer::Signer) -> Vec<u8> {
    let mut t = targets(3, FAR);
    add_target(&mut t, "demo/demo-1.0.tar.gz", b"demo");
    let md = conclave::metadata::Metadata::new(t);
    let any = AnyMetadata::from_bytes(&md.to_file_bytes()).unwrap();
    let bytes = conclave::ceremony::sign_detached(&any, "claimed", signer, None)
        .unwrap()
        .to_bytes();
    std::fs::write(dir.join(name), &bytes).unwrap();
    bytes
}

fn last_line(s: &str) -> String {
    s.lines().last().unwrap().to_owned()
}

#[test]
fn ed25519_and_ecdsa_signatures_cross_as_text_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    for (name, signer) in [
        ("ed.sig", &ed(1) as &dyn conclave::signer::Signer),
        ("ec.sig", &p256(1)),
    ] {
        let original = sig_file(d, name, signer);
        let shown = conclave_in(d, &["qr", "show", name], "");
        assert_eq!(shown.code, 0, "{}", shown.stderr);
        let text = last_line(&shown.stdout);
        assert!(text.starts_with("CONCLAVE1:"), "{}", shown.stdout);
        let out = format!("back-{name}");
        let read = conclave_in(d, &["qr", "read", "-o", &out], &format!("{text}\n"));
        assert_eq!(read.code, 0, "{}", read.stderr);
        assert_eq!(std::fs::read(d.join(&out)).unwrap(), original, "{name}");
        // Typed by hand: lowercase, in groups.
        let typed: String = text
            .to_lowercase()
            .chars()
            .enumerate()
            .flat_map(|(i, c)| (i > 0 && i % 4 == 0).then_some(' ').into_iter().chain([c]))
            .collect();
        let again = conclave_in(d, &["qr", "read", "-o", "typed.sig"], &format!("{typed}\n"));
        assert_eq!(again.code, 0, "{}", again.stderr);
        assert_eq!(std::fs::read(d.join("typed.sig")).unwrap(), original);
        std::fs::remove_file(d.join("typed.sig")).unwrap();
    }
}

#[test]
fn sign_with_qr_prints_a_text_that_gives_back_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let case = repo_root().join(KEY);
    let sig = tmp.path().join("sig.json");
    let o = run_with_stdin(
        conclave()
            .current_dir(&case)
            .args([
                "sign",
                "root.json",
                "--key",
                "key.json",
                "--passphrase-fd",
                "0",
            ])
            .args(["--qr", "-o"])
            .arg(&sig),
        "correct horse battery staple attack\n",
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stderr.contains("The signature as a QR code"),
        "{}",
        o.stderr
    );
    let text = last_line(&o.stdout);
    let read = conclave_in(
        tmp.path(),
        &["qr", "read", "-o", "back.json"],
        &format!("{text}\n"),
    );
    assert_eq!(read.code, 0, "{}", read.stderr);
    assert_eq!(
        std::fs::read(tmp.path().join("back.json")).unwrap(),
        std::fs::read(&sig).unwrap()
    );
}

#[test]
fn altered_or_foreign_texts_are_refused_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    sig_file(d, "ed.sig", &ed(2));
    let text = last_line(&conclave_in(d, &["qr", "show", "ed.sig"], "").stdout);
    // One character misread in the middle.
    let mut bad = text.clone().into_bytes();
    let i = bad.len() / 2;
    bad[i] = if bad[i] == b'Q' { b'R' } else { b'Q' };
    let bad = String::from_utf8(bad).unwrap();
    for (input, needle) in [
        (
            bad.as_str(),
            "checksum mismatch: the text was mistyped or misread",
        ),
        (&text[..text.len() - 10], "the text is cut short"),
        ("CONCLAVE1:ABC0EFG", "is not one of A-Z and 2-7"),
        (
            "{\"format\": \"conclave-signature\"}",
            "must start with CONCLAVE1:",
        ),
    ] {
        let o = conclave_in(d, &["qr", "read", "-o", "out.sig"], &format!("{input}\n"));
        assert_eq!(o.code, 1, "{input}: {}", o.stderr);
        assert!(o.stderr.contains(needle), "{input}: {}", o.stderr);
        assert!(o.stderr.contains("nothing was written"), "{}", o.stderr);
        assert!(!d.join("out.sig").exists());
    }
    // An existing file is never replaced.
    std::fs::write(d.join("taken.sig"), b"x").unwrap();
    let o = conclave_in(d, &["qr", "read", "-o", "taken.sig"], &format!("{text}\n"));
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert_eq!(std::fs::read(d.join("taken.sig")).unwrap(), b"x");
    // Empty input: cancelled.
    let o = conclave_in(d, &["qr", "read", "-o", "out.sig"], "");
    assert_eq!(o.code, 4, "{}", o.stderr);
}

#[test]
fn a_draft_shows_its_request_digest() {
    let case = repo_root().join(KEY);
    let o = run(conclave()
        .current_dir(&case)
        .args(["qr", "show", "root.json"]));
    assert_eq!(o.code, 0, "{}", o.stderr);
    let lines: Vec<&str> = o.stdout.lines().collect();
    let text_at = lines
        .iter()
        .position(|l| l.starts_with("CONCLAVE1:"))
        .unwrap();
    let groups = lines[text_at + 1];
    assert_eq!(groups.split(' ').count(), 8, "{groups}");
    // The same digest `sign` shows.
    let md = AnyMetadata::from_bytes(&std::fs::read(case.join("root.json")).unwrap()).unwrap();
    let digest = conclave::ceremony::detached::payload_digest(&md.signed_bytes());
    assert_eq!(groups.replace(' ', ""), digest);
    // Read back: printed for comparison, never written as a signature.
    let tmp = tempfile::tempdir().unwrap();
    let back = conclave_in(
        tmp.path(),
        &["qr", "read"],
        &format!("{}\n", lines[text_at]),
    );
    assert_eq!(back.code, 0, "{}", back.stderr);
    assert!(back.stdout.starts_with(groups), "{}", back.stdout);
    let refused = conclave_in(
        tmp.path(),
        &["qr", "read", "-o", "x.sig"],
        &format!("{}\n", lines[text_at]),
    );
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("this is a request digest, not a signature")
    );
    assert!(!tmp.path().join("x.sig").exists());
}

/// The terminal drawing, turned back into pixels, read by zxing-cpp: the code scans and
/// carries exactly the text.
#[test]
fn the_drawn_qr_code_scans_with_zxing() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    for (name, signer) in [
        ("ed.sig", &ed(3) as &dyn conclave::signer::Signer),
        ("ec.sig", &p256(3)),
    ] {
        sig_file(d, name, signer);
        for look in [&[][..], &["--dark-on-light"][..]] {
            let o = run(conclave()
                .current_dir(d)
                .args(["qr", "show", name])
                .args(look));
            assert_eq!(o.code, 0, "{}", o.stderr);
            let text = last_line(&o.stdout);
            let drawing: Vec<&str> = o
                .stdout
                .lines()
                .filter(|l| !l.starts_with("CONCLAVE1:"))
                .collect();
            std::fs::write(d.join("drawing.txt"), drawing.join("\n")).unwrap();
            let scanned = run(std::process::Command::new(python())
                .arg("-c")
                .arg(SCAN)
                .arg(d.join("drawing.txt"))
                .arg(if look.is_empty() { "light" } else { "dark" }));
            assert_eq!(scanned.code, 0, "{}", scanned.stderr);
            assert_eq!(scanned.stdout.trim(), text, "{name} {look:?}");
        }
    }
}

/// Half blocks to pixels (1 character = 1 module wide, 2 modules high; 6 pixels a module),
/// drawn ink white on black for the light-on-dark look, black on white otherwise.
const SCAN: &str = r#"
import sys, numpy, zxingcpp
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
ink_is_light = sys.argv[2] == "light"
top = {"█": 1, "▀": 1, "▄": 0, " ": 0}
bottom = {"█": 1, "▀": 0, "▄": 1, " ": 0}
rows = []
for line in lines:
    rows.append([top[c] for c in line])
    rows.append([bottom[c] for c in line])
ink = numpy.array(rows, dtype=numpy.uint8)
img = numpy.where(ink == 1, 255 if ink_is_light else 0, 0 if ink_is_light else 255).astype(numpy.uint8)
img = numpy.kron(img, numpy.ones((6, 6), dtype=numpy.uint8))
if ink_is_light:
    # A camera on a dark terminal: zxing wants dark modules on light; the quiet zone drawn
    # solid means the inverted picture is a normal QR code.
    img = 255 - img
else:
    img = numpy.pad(img, 24, constant_values=255)
found = zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode)
if len(found) != 1:
    sys.exit(f"found {len(found)} QR codes")
print(found[0].text)
"#;

/// The committed texts (tests/vectors/optical/) still decode to the committed files: the text
/// format is stable, so a code printed by one conclave version reads in the next.
#[test]
fn committed_texts_decode_to_their_files() {
    let dir = repo_root().join("tests/vectors/optical");
    let tmp = tempfile::tempdir().unwrap();
    for name in ["ed25519.sig", "ecdsa.sig"] {
        let text = std::fs::read_to_string(dir.join(format!("{name}.txt"))).unwrap();
        let out = format!("{name}.json");
        let o = conclave_in(tmp.path(), &["qr", "read", "-o", &out], &text);
        assert_eq!(o.code, 0, "{name}: {}", o.stderr);
        assert_eq!(
            std::fs::read(tmp.path().join(&out)).unwrap(),
            std::fs::read(dir.join(format!("{name}.json"))).unwrap(),
            "{name}"
        );
    }
    let text = std::fs::read_to_string(dir.join("request-root-v1.txt")).unwrap();
    let o = conclave_in(tmp.path(), &["qr", "read"], &text);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stdout.starts_with("7550abf2 acbaa30a ac988188 b30e9b6d"),
        "{}",
        o.stdout
    );
}
