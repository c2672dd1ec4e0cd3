//! Passphrase strength through the real binary: `key derive` refuses weak passphrases (each
//! class the estimator knows), says why and how to make a good one; a generated passphrase
//! passes; key files warn with the same estimate. Passphrases go in on `--passphrase-fd 0`.

mod common;

use common::*;

fn derive(dir: &std::path::Path, pass: &str) -> Outcome {
    conclave_in(
        dir,
        &[
            "key",
            "derive",
            "--identity",
            "pypi.org/root/alice",
            "--passphrase-fd",
            "0",
        ],
        &format!("{pass}\n{pass}\n"),
    )
}

/// Refused with exit 2, nothing on stdout, the reason and the way out on stderr, and the
/// passphrase never echoed.
fn refused(dir: &std::path::Path, pass: &str, reason: &str) {
    let o = derive(dir, pass);
    assert_eq!(o.code, 2, "{pass}: {}", o.stderr);
    assert!(o.stdout.is_empty(), "{pass}: {}", o.stdout);
    assert!(
        o.stderr
            .contains("error: this passphrase is too weak for a derived key: "),
        "{pass}: {}",
        o.stderr
    );
    assert!(
        o.stderr.contains(reason),
        "{pass}: wanted {reason:?}\n{}",
        o.stderr
    );
    assert!(
        o.stderr.contains("hint: ") && o.stderr.contains("`conclave passphrase generate`"),
        "{}",
        o.stderr
    );
    assert!(
        !o.stderr.contains(pass),
        "the passphrase was echoed: {}",
        o.stderr
    );
    // Refused before the 2 GiB key stretching starts.
    assert!(!o.stderr.contains("Stretching"), "{}", o.stderr);
}

#[test]
fn derive_refuses_each_weak_class_and_says_why() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // A word repeated eight times: 47 characters, one guess from a word list.
    refused(
        d,
        "horse horse horse horse horse horse horse horse",
        "it uses the same word twice (words 1 and 2)",
    );
    // Words of the list, repeated: the old "list words count 12.9 bits each" rule took it.
    refused(
        d,
        "abacus abacus abacus abacus abacus abacus abacus abacus",
        "the same word twice",
    );
    refused(
        d,
        "Staple1 staple2 st@ple3 STAPLE4 staple5 staple6 staple7 staple8",
        "the same word twice",
    );
    refused(d, &"x".repeat(64), "it is the same character repeated");
    refused(
        d,
        "hunter2hunter2hunter2hunter2hunter2hunter2",
        "it is the same group of characters repeated",
    );
    refused(
        d,
        "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/",
        "a keyboard pattern",
    );
    refused(d, "19850719 1990-03-14 2001/12/25 07.04.1776", "a date");
    refused(
        d,
        "P@ssw0rd M0nk3y Dr@g0n L3tm31n Sh@d0w F00tb@ll B@s3b@ll",
        "common words or passwords",
    );
    // zxcvbn's own warning and suggestions reach the officer for the weakest.
    refused(d, "password1", "zxcvbn: This is");
    let o = derive(d, "password1");
    assert!(o.stderr.contains("zxcvbn suggests: "), "{}", o.stderr);
    // Seven words a person picks are not dice throws.
    refused(
        d,
        "happy sunny garden flower yellow orange purple",
        "at least 90 are needed",
    );
    // Six generated words are 77.5 bits: counted exactly, and short.
    let six = conclave_in(d, &["passphrase", "generate", "--words", "6"], "");
    assert_eq!(six.code, 0, "{}", six.stderr);
    refused(
        d,
        six.stdout.trim(),
        "6 random words from the list are about 78 bits; at least 90 are needed; nothing",
    );
}

#[test]
fn a_generated_passphrase_derives_a_key() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let g = conclave_in(d, &["passphrase", "generate"], "");
    assert_eq!(g.code, 0, "{}", g.stderr);
    let words: Vec<&str> = g.stdout.trim().split(' ').collect();
    assert_eq!(words.len(), 8);
    let mut distinct = words.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 8, "each word once: {words:?}");
    assert!(g.stderr.is_empty(), "no warning for 8 words: {}", g.stderr);
    let o = derive(d, g.stdout.trim());
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stdout.contains("\"keytype\": \"ed25519\""),
        "{}",
        o.stdout
    );
    // 30 random printable characters are enough too (zxcvbn counts each as 3.3 bits).
    let o = derive(d, "Xk9#mP2$vL5@nQ8&wR3!a7%bT4^Zq0u");
    assert_eq!(o.code, 0, "{}", o.stderr);
}

#[test]
fn key_files_warn_with_the_same_estimate() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let weak = generate_key_file(d, "weak", "horse horse horse horse");
    assert!(
        weak.stderr.contains(
            "warning: this passphrase looks weak: it uses the same word twice (words 1 and 2)"
        ),
        "{}",
        weak.stderr
    );
    assert!(
        weak.stderr.contains("`conclave passphrase generate`"),
        "{}",
        weak.stderr
    );
    let walk = generate_key_file(d, "walk", "qwertyuiopasdfgh");
    assert!(
        walk.stderr
            .contains("warning: this passphrase looks weak: "),
        "{}",
        walk.stderr
    );
    let g = conclave_in(d, &["passphrase", "generate"], "");
    let strong = generate_key_file(d, "strong", g.stdout.trim());
    assert!(!strong.stderr.contains("warning"), "{}", strong.stderr);
    // change-passphrase checks the new passphrase the same way.
    let o = conclave_in(
        d,
        &[
            "key",
            "change-passphrase",
            "strong.key",
            "-o",
            "again.key",
            "--passphrase-fd",
            "0",
        ],
        &format!("{}\nP@ssw0rd1\nP@ssw0rd1\n", g.stdout.trim()),
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stderr.contains("warning: this passphrase looks weak: "),
        "{}",
        o.stderr
    );
    assert!(!o.stderr.contains("P@ssw0rd1"), "{}", o.stderr);
}
