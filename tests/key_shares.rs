//! `conclave key split` / `key combine --from-shares` through the real binary: key files and
//! derived keys round-trip at 2-of-3, 3-of-5 and 5-of-7; too few shares, a mistyped word, a
//! word not in the list, a share given twice and a share of another backup are refused with
//! the share and word named; the transcript records the split but never a share; and the
//! reference SLIP-0039 implementation (`shamir-mnemonic`, pinned in
//! tests/interop/python/requirements.txt) recovers conclave's shares and conclave recovers
//! its shares. Passphrases and typed shares go in on `--passphrase-fd 0`.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::*;

fn public_of(dir: &Path, keyfile: &str) -> String {
    let o = conclave_in(dir, &["key", "public", keyfile], "");
    assert_eq!(o.code, 0, "{}", o.stderr);
    o.stdout
}

fn keyid_of(dir: &Path, keyfile: &str) -> String {
    std::fs::write(dir.join("pub.json"), public_of(dir, keyfile)).unwrap();
    let o = conclave_in(dir, &["key", "id", "pub.json"], "");
    assert_eq!(o.code, 0, "{}", o.stderr);
    o.stdout.trim().to_owned()
}

fn split(dir: &Path, key: &[&str], m: u8, n: u8, out: &str, input: &str) -> Outcome {
    let (m, n) = (m.to_string(), n.to_string());
    let mut args = vec!["key", "split"];
    args.extend_from_slice(key);
    args.extend_from_slice(&[
        "--shares",
        &n,
        "--threshold",
        &m,
        "-o",
        out,
        "--passphrase-fd",
        "0",
    ]);
    conclave_in(dir, &args, input)
}

fn combine(dir: &Path, files: &[String], extra: &[&str], out: &str, input: &str) -> Outcome {
    let mut args = vec!["key", "combine", "--from-shares"];
    args.extend(files.iter().map(String::as_str));
    args.extend_from_slice(&[
        "-o",
        out,
        "--profile",
        "rfc9106-64mib",
        "--passphrase-fd",
        "0",
    ]);
    args.extend_from_slice(extra);
    conclave_in(dir, &args, input)
}

fn card(out: &str, k: u8, n: u8) -> String {
    format!("{out}/share-{k}-of-{n}.txt")
}

/// The words of a card, as `key combine` reads them.
fn words_of(dir: &Path, card: &str) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join(card)).unwrap();
    text.lines()
        .skip_while(|l| l.trim() != "Words:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .flat_map(|l| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .filter(|t| !t.chars().all(|c| c.is_ascii_digit()))
        .collect()
}

#[test]
fn key_files_round_trip_at_2_of_3_3_of_5_and_5_of_7() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    generate_key_file(d, "root", "old pass");
    let original = public_of(d, "root.key");
    let keyid = keyid_of(d, "root.key");
    for (m, n) in [(2u8, 3u8), (3, 5), (5, 7)] {
        let out = format!("cards-{m}-{n}");
        let o = split(d, &["root.key"], m, n, &out, "old pass\n");
        assert_eq!(o.code, 0, "{}", o.stderr);
        assert!(
            o.stdout.is_empty(),
            "the cards are not printed: {}",
            o.stdout
        );
        let mode = std::fs::metadata(d.join(&out))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
        for k in 1..=n {
            let text = std::fs::read_to_string(d.join(card(&out, k, n))).unwrap();
            assert!(text.contains(&keyid), "{text}");
            assert!(text.contains(&format!("SHARE {k} OF {n} - ANY {m} RESTORE")));
            let svg =
                std::fs::read_to_string(d.join(format!("{out}/share-{k}-of-{n}.svg"))).unwrap();
            assert!(svg.starts_with("<?xml") && svg.contains(&keyid));
            let mode = std::fs::metadata(d.join(card(&out, k, n)))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
            // No share's words on the terminal.
            assert!(!o.stderr.contains(&words_of(d, &card(&out, k, n)).join(" ")));
        }
        // The last M cards, from files.
        let files: Vec<String> = (n - m + 1..=n).map(|k| card(&out, k, n)).collect();
        let restored = format!("restored-{m}-{n}.key");
        let o = combine(
            d,
            &files,
            &["--keyid", &keyid],
            &restored,
            "new pass\nnew pass\n",
        );
        assert_eq!(o.code, 0, "{}", o.stderr);
        assert_eq!(public_of(d, &restored), original);
        // The first M, typed one a line.
        let typed: String = (1..=m)
            .map(|k| words_of(d, &card(&out, k, n)).join(" ") + "\n")
            .collect();
        let typed_out = format!("typed-{m}-{n}.key");
        let o = combine(d, &[], &[], &typed_out, &format!("{typed}new\nnew\n"));
        assert_eq!(o.code, 0, "{}", o.stderr);
        assert_eq!(public_of(d, &typed_out), original);
    }
    // The restored file opens with its new passphrase and signs as the original key.
    let o = conclave_in(
        d,
        &[
            "key",
            "change-passphrase",
            "restored-2-3.key",
            "-o",
            "again.key",
            "--profile",
            "rfc9106-64mib",
            "--passphrase-fd",
            "0",
        ],
        "new pass\nthird\nthird\n",
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
}

#[test]
fn derived_keys_round_trip_at_2_of_3_3_of_5_and_5_of_7() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let pass = "Xk9#mP2$vL5@nQ8&wR3!a7%bT4^Zq0u";
    let o = conclave_in(
        d,
        &[
            "key",
            "derive",
            "--identity",
            "pypi.org/root/alice",
            "--passphrase-fd",
            "0",
        ],
        &format!("{pass}\n{pass}\n"),
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let derived = o.stdout;
    std::fs::write(d.join("derived.json"), &derived).unwrap();
    let keyid = conclave_in(d, &["key", "id", "derived.json"], "")
        .stdout
        .trim()
        .to_owned();
    for (m, n) in [(2u8, 3u8), (3, 5), (5, 7)] {
        let out = format!("derived-{m}-{n}");
        let o = split(
            d,
            &["--derive", "pypi.org/root/alice", "--keyid", &keyid],
            m,
            n,
            &out,
            &format!("{pass}\n"),
        );
        assert_eq!(o.code, 0, "{}", o.stderr);
        let text = std::fs::read_to_string(d.join(card(&out, 1, n))).unwrap();
        assert!(text.contains("pypi.org/root/alice") && text.contains(&keyid));
        let files: Vec<String> = (1..=n)
            .rev()
            .take(m.into())
            .map(|k| card(&out, k, n))
            .collect();
        let restored = format!("derived-{m}-{n}.key");
        let o = combine(d, &files, &["--keyid", &keyid], &restored, "new\nnew\n");
        assert_eq!(o.code, 0, "{}", o.stderr);
        assert_eq!(public_of(d, &restored), derived);
    }
    // A mistyped passphrase derives another key: refused before anything is written.
    let o = split(
        d,
        &["--derive", "pypi.org/root/alice", "--keyid", &keyid],
        2,
        3,
        "wrong",
        "Xk9#mP2$vL5@nQ8&wR3!a7%bT4^Zq0U\n",
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stderr.contains(&format!("not {keyid}")), "{}", o.stderr);
    assert!(!d.join("wrong").exists());
}

/// Cards for a 3-of-5 split of a fresh key in `d`; returns the key's keyid.
fn three_of_five(d: &Path) -> String {
    generate_key_file(d, "k", "pw");
    let o = split(d, &["k.key"], 3, 5, "cards", "pw\n");
    assert_eq!(o.code, 0, "{}", o.stderr);
    keyid_of(d, "k.key")
}

#[test]
fn attack_fewer_shares_than_the_threshold_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    three_of_five(d);
    let files = vec![card("cards", 1, 5), card("cards", 4, 5)];
    let o = combine(d, &files, &[], "r.key", "x\nx\n");
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr.contains("2 share(s) given, 1 more needed"),
        "{}",
        o.stderr
    );
    assert!(!d.join("r.key").exists());
}

#[test]
fn attack_a_mistyped_word_is_named_with_its_share_and_position() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    three_of_five(d);
    let mut words = words_of(d, &card("cards", 2, 5));
    let meant = words[6].clone();
    words[6] = if meant == "academic" {
        "acid".into()
    } else {
        "academic".into()
    };
    std::fs::write(d.join("typo.txt"), words.join(" ")).unwrap();
    let files = vec![
        card("cards", 1, 5),
        "typo.txt".to_owned(),
        card("cards", 3, 5),
    ];
    let o = combine(d, &files, &[], "r.key", "x\nx\n");
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr.contains(&format!(
            "share 2 (typo.txt): the checksum fails: word 7 (did you mean \"{meant}\"?) is wrong"
        )),
        "{}",
        o.stderr
    );
    assert!(!d.join("r.key").exists());

    // Typed: a word not in the list is named, with the word its first four letters give.
    let mut typed = words_of(d, &card("cards", 2, 5));
    let meant = typed[11].clone();
    typed[11] = format!("{}x", &meant[..4]);
    let good1 = words_of(d, &card("cards", 1, 5)).join(" ");
    let o = combine(
        d,
        &[],
        &[],
        "r.key",
        &format!("{good1}\n{}\n", typed.join(" ")),
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr.contains(&format!(
            "share 2: word 12 (did you mean \"{meant}\"?) is not a SLIP-0039 word"
        )),
        "{}",
        o.stderr
    );
}

#[test]
fn attack_a_share_given_twice_or_from_another_backup_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    three_of_five(d);
    let o = combine(
        d,
        &[
            card("cards", 2, 5),
            card("cards", 2, 5),
            card("cards", 3, 5),
        ],
        &[],
        "r.key",
        "x\nx\n",
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("share 2 (cards/share-2-of-5.txt): share 2 is the same share as share 1"),
        "{}",
        o.stderr
    );
    // A second split of the same key is another backup (another identifier): its shares do
    // not mix with the first's.
    let o = split(d, &["k.key"], 3, 5, "cards2", "pw\n");
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = combine(
        d,
        &[
            card("cards", 1, 5),
            card("cards2", 2, 5),
            card("cards", 3, 5),
        ],
        &[],
        "r.key",
        "x\nx\n",
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr.contains("is not from the same backup as share 1"),
        "{}",
        o.stderr
    );
    assert!(!d.join("r.key").exists());
}

#[test]
fn attack_a_wrong_keyid_or_type_and_an_existing_file_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let keyid = three_of_five(d);
    let files: Vec<String> = (1..=3).map(|k| card("cards", k, 5)).collect();
    let other = "ab".repeat(32);
    let o = combine(d, &files, &["--keyid", &other], "r.key", "x\nx\n");
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr
            .contains(&format!("restore keyid {keyid}, not {other}")),
        "{}",
        o.stderr
    );
    let o = combine(
        d,
        &files,
        &["--keyid", &keyid, "--type", "ecdsa-p256"],
        "r.key",
        "x\nx\n",
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(!d.join("r.key").exists());
    // Never over an existing key file, nor into an existing directory.
    let before = std::fs::read(d.join("k.key")).unwrap();
    let o = combine(d, &files, &[], "k.key", "x\nx\n");
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert_eq!(std::fs::read(d.join("k.key")).unwrap(), before);
    let o = split(d, &["k.key"], 2, 3, "cards", "pw\n");
    assert_eq!(o.code, 2, "{}", o.stderr);
    let o = split(d, &["k.key"], 1, 3, "one", "pw\n");
    assert_eq!(o.code, 2, "{}", o.stderr);
    let o = split(d, &["k.key"], 4, 3, "more", "pw\n");
    assert_eq!(o.code, 2, "{}", o.stderr);
}

#[test]
fn the_transcript_records_the_split_but_never_a_share() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let o = conclave_in(d, &["transcript", "note", ".", "--step", "backups"], "");
    assert_eq!(o.code, 0, "{}", o.stderr);
    generate_key_file(d, "k", "pw");
    let keyid = keyid_of(d, "k.key");
    let o = conclave_in(
        d,
        &[
            "key",
            "split",
            "k.key",
            "--shares",
            "3",
            "--threshold",
            "2",
            "-o",
            "cards",
            "--holder",
            "alice",
            "--holder",
            "bob",
            "--holder",
            "carol",
            "--passphrase-fd",
            "0",
        ],
        "pw\n",
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let transcript = std::fs::read_to_string(d.join("transcript.jsonl")).unwrap();
    assert!(
        transcript.contains(&format!("key split {keyid} 2-of-3 to alice, bob, carol")),
        "{transcript}"
    );
    assert!(
        std::fs::read_to_string(d.join(card("cards", 2, 3)))
            .unwrap()
            .contains("Holder:       bob")
    );
    for k in 1..=3 {
        let words = words_of(d, &card("cards", k, 3));
        // No word sequence of a share, nor a card's name or digest, is in the transcript.
        assert!(!transcript.contains(&words[4..8].join(" ")));
        assert!(!transcript.contains(&format!("share-{k}-of-3")));
    }
    let o = conclave_in(d, &["transcript", "verify", "."], "");
    assert_eq!(o.code, 0, "{}", o.stderr);
}

fn reference(script: &str, args: &[&str]) -> Outcome {
    run(std::process::Command::new(python())
        .arg("-c")
        .arg(script)
        .args(args))
}

/// shamir-mnemonic recovers conclave's shares (the Ed25519 seed, whose public key is the key
/// file's), and conclave recovers shares shamir-mnemonic made (extendable or not).
#[test]
fn the_reference_implementation_and_conclave_recover_each_others_shares() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    three_of_five(d);
    let public = public_of(d, "k.key");
    let shares: Vec<String> = [5u8, 1, 3]
        .iter()
        .map(|&k| words_of(d, &card("cards", k, 5)).join(" "))
        .collect();
    let recover = r#"
import sys, shamir_mnemonic
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization
seed = shamir_mnemonic.combine_mnemonics(sys.argv[1:])
pub = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(
    serialization.Encoding.Raw, serialization.PublicFormat.Raw)
print(pub.hex())
"#;
    let refs: Vec<&str> = shares.iter().map(String::as_str).collect();
    let o = reference(recover, &refs);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        public.contains(o.stdout.trim()),
        "{} not in {public}",
        o.stdout
    );
    // Two shares are not enough for the reference either.
    let o = reference(recover, &refs[..2]);
    assert_ne!(o.code, 0);

    let make = r#"
import sys, os, shamir_mnemonic
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization
seed = os.urandom(32)
groups = shamir_mnemonic.generate_mnemonics(1, [(3, 5)], seed, extendable=sys.argv[1] == "1")
pub = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(
    serialization.Encoding.Raw, serialization.PublicFormat.Raw)
print(pub.hex())
for m in groups[0]:
    print(m)
"#;
    for extendable in ["1", "0"] {
        let o = reference(make, &[extendable]);
        assert_eq!(o.code, 0, "{}", o.stderr);
        let lines: Vec<&str> = o.stdout.lines().collect();
        let out = format!("from-reference-{extendable}.key");
        let typed = format!("{}\n{}\n{}\nnp\nnp\n", lines[2], lines[5], lines[4]);
        let c = combine(d, &[], &[], &out, &typed);
        assert_eq!(c.code, 0, "{}", c.stderr);
        assert!(
            public_of(d, &out).contains(lines[0]),
            "extendable={extendable}"
        );
    }
}

/// The SVG card's QR code, rasterised from its path (rectangles in millimetres) at 10 pixels
/// a millimetre, is read by zxing-cpp (interop venv) and carries exactly the card's words.
#[test]
fn the_printed_cards_qr_code_scans_to_its_words() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    three_of_five(d);
    let scan = r##"
import re, sys, numpy, zxingcpp
svg = open(sys.argv[1], encoding="utf-8").read()
path = re.search(r'<path fill="#000" d="([^"]+)"', svg).group(1)
img = numpy.full((2970, 2100), 255, dtype=numpy.uint8)
for x, y, w, h in re.findall(r"M([\d.]+) ([\d.]+)h([\d.]+)v([\d.]+)h-[\d.]+z", path):
    x0, y0 = round(float(x) * 10), round(float(y) * 10)
    img[y0:round((float(y) + float(h)) * 10), x0:round((float(x) + float(w)) * 10)] = 0
found = zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode)
if len(found) != 1:
    sys.exit(f"found {len(found)} QR codes")
print(found[0].text)
"##;
    for k in [1u8, 5] {
        let svg = d.join(format!("cards/share-{k}-of-5.svg"));
        let o = reference(scan, &[svg.to_str().unwrap()]);
        assert_eq!(o.code, 0, "{}", o.stderr);
        assert_eq!(o.stdout.trim(), words_of(d, &card("cards", k, 5)).join(" "));
    }
}
