//! The ceremony transcript (tamper evidence, head signatures) and the export bundle
//! (verified input only, byte-identical output, atomic creation), through real processes.

mod common;

use std::path::{Path, PathBuf};

use common::*;

fn ok(o: &Outcome) {
    assert_eq!(o.code, 0, "stdout:\n{}\nstderr:\n{}", o.stdout, o.stderr);
}

/// The line number of the first `error: ... line N:` message.
fn first_error_line(o: &Outcome) -> usize {
    let line = o
        .stderr
        .lines()
        .find(|l| l.starts_with("error:") && l.contains(": line "))
        .unwrap_or_else(|| panic!("no line error in:\n{}", o.stderr));
    let rest = &line[line.find(": line ").unwrap() + 7..];
    rest[..rest.find(':').unwrap()].parse().unwrap()
}

/// A ceremony directory whose transcript has five manual steps.
fn five_steps() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (i, who) in ["alice", "bob", "carol", "dave", "erin"].iter().enumerate() {
        let step = format!("step {}: key holder {who} presented the key", i + 1);
        ok(&conclave_in(
            dir.path(),
            &["transcript", "note", ".", "--step", &step, "--officer", who],
            "",
        ));
    }
    dir
}

fn lines_of(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("transcript.jsonl"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn write_lines(dir: &Path, lines: &[String]) {
    let mut s = lines.join("\n");
    s.push('\n');
    std::fs::write(dir.join("transcript.jsonl"), s).unwrap();
}

#[test]
fn an_untouched_transcript_verifies_and_prints_a_paper_record() {
    let dir = five_steps();
    let v = conclave_in(dir.path(), &["transcript", "verify", "."], "");
    ok(&v);
    assert!(
        v.stdout.contains("hash chain intact: 5 step(s)"),
        "{}",
        v.stdout
    );
    let last = conclave::cjson::parse(lines_of(dir.path())[4].as_bytes()).unwrap();
    let head = last.get("hash").unwrap().as_str().unwrap();
    assert!(v.stdout.contains(head), "{}", v.stdout);

    let p = conclave_in(dir.path(), &["transcript", "print", "transcript.jsonl"], "");
    ok(&p);
    assert!(p.stdout.contains("Initials") && p.stdout.contains("Witness"));
    assert!(p.stdout.contains("key holder carol presented the key"));
    assert!(p.stdout.contains("officer: erin"));
    assert_eq!(p.stdout.matches("__________  __________").count(), 5);
}

/// An attacker who edits a line and recomputes its hash (by the formula in docs/formats.md)
/// still breaks the link from the next line.
#[test]
fn an_edited_line_with_a_recomputed_hash_breaks_the_next_link() {
    use conclave::cjson::{self, Value};
    let dir = five_steps();
    let mut lines = lines_of(dir.path());
    let mut v = cjson::parse(lines[2].as_bytes()).unwrap();
    let Value::Object(m) = &mut v else { panic!() };
    m.insert("officer".into(), "mallory".into());
    m.remove("hash");
    let hash = conclave::ceremony::transcript::sha256_hex(&cjson::to_canonical(&v));
    let Value::Object(m) = &mut v else { panic!() };
    m.insert("hash".into(), hash.into());
    lines[2] = String::from_utf8(cjson::to_canonical(&v)).unwrap();
    write_lines(dir.path(), &lines);
    let o = conclave_in(dir.path(), &["transcript", "verify", "."], "");
    assert_eq!(o.code, 1, "{}", o.stdout);
    assert_eq!(first_error_line(&o), 4, "{}", o.stderr);
    assert!(o.stderr.contains("does not follow line 3"), "{}", o.stderr);
}

#[test]
fn every_kind_of_tampering_is_reported_at_its_line() {
    let dir = five_steps();
    let original = lines_of(dir.path());
    let cases: Vec<(&str, Vec<String>, usize)> = vec![
        (
            "edit a field",
            {
                let mut l = original.clone();
                l[2] = l[2].replace("\"officer\":\"carol\"", "\"officer\":\"mallory\"");
                assert_ne!(l[2], original[2]);
                l
            },
            3,
        ),
        (
            "edit the time",
            {
                let mut l = original.clone();
                let at = l[3].find("\"time\":\"").unwrap() + 8;
                l[3].replace_range(at..at + 4, "1999");
                l
            },
            4,
        ),
        (
            "delete a line",
            {
                let mut l = original.clone();
                l.remove(2);
                l
            },
            3,
        ),
        (
            "swap two lines",
            {
                let mut l = original.clone();
                l.swap(1, 2);
                l
            },
            2,
        ),
        (
            "insert a copied line",
            {
                let mut l = original.clone();
                l.insert(3, original[1].clone());
                l
            },
            4,
        ),
        ("delete the first line", original[1..].to_vec(), 1),
    ];
    for (what, lines, expected) in cases {
        write_lines(dir.path(), &lines);
        let o = conclave_in(dir.path(), &["transcript", "verify", "."], "");
        assert_eq!(o.code, 1, "{what}: not detected:\n{}{}", o.stdout, o.stderr);
        assert_eq!(first_error_line(&o), expected, "{what}:\n{}", o.stderr);
        // A broken transcript is neither printed nor appended to.
        let p = conclave_in(dir.path(), &["transcript", "print", "."], "");
        assert_eq!(p.code, 1, "{what}: printed:\n{}", p.stdout);
        let before = std::fs::read(dir.path().join("transcript.jsonl")).unwrap();
        let n = conclave_in(dir.path(), &["transcript", "note", ".", "--step", "x"], "");
        assert_eq!(n.code, 1, "{what}: appended:\n{}", n.stderr);
        assert_eq!(
            std::fs::read(dir.path().join("transcript.jsonl")).unwrap(),
            before
        );
    }

    // Cut off in the middle of the last line.
    let mut bytes = original.join("\n").into_bytes();
    bytes.truncate(bytes.len() - 40);
    std::fs::write(dir.path().join("transcript.jsonl"), &bytes).unwrap();
    let o = conclave_in(dir.path(), &["transcript", "verify", "."], "");
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert_eq!(first_error_line(&o), 5, "{}", o.stderr);
    assert!(o.stderr.contains("cut off"), "{}", o.stderr);
}

fn make_key(dir: &Path, name: &str, pass: &str) -> PathBuf {
    let o = conclave_in(
        dir,
        &[
            "key",
            "generate",
            "-o",
            name,
            "--profile",
            "rfc9106-64mib",
            "--passphrase-fd",
            "0",
        ],
        &format!("{pass}\n{pass}\n"),
    );
    ok(&o);
    dir.join(name)
}

#[test]
fn head_signatures_detect_removed_and_rewritten_lines() {
    let keys = tempfile::tempdir().unwrap();
    make_key(keys.path(), "witness.key", "correct horse battery");
    let key = keys.path().join("witness.key");
    let key = key.to_str().unwrap();
    // Head signatures count only from keys the verifier trusts: here, a witness's key.
    let public = conclave_in(keys.path(), &["key", "public", "witness.key"], "");
    ok(&public);
    let witness = keys.path().join("witness.pub.json");
    std::fs::write(&witness, &public.stdout).unwrap();
    let witness = witness.to_str().unwrap();

    let dir = five_steps();
    let sign = |dir: &Path, out: &str, pass: &str| {
        conclave_in(
            dir,
            &[
                "transcript",
                "sign-head",
                ".",
                "--key",
                key,
                "--passphrase-fd",
                "0",
                "-o",
                out,
            ],
            &format!("{pass}\n"),
        )
    };
    let s = sign(dir.path(), "head.sig", "correct horse battery");
    ok(&s);
    // The signing is recorded as line 6; the signature covers line 5.
    assert_eq!(lines_of(dir.path()).len(), 6);
    assert!(lines_of(dir.path())[5].contains("transcript head (line 5) signed"));
    let v = conclave_in(
        dir.path(),
        &[
            "transcript",
            "verify",
            ".",
            "--head-sig",
            "head.sig",
            "--witness-key",
            witness,
        ],
        "",
    );
    ok(&v);
    assert!(
        v.stdout.contains("signed the head at line 5"),
        "{}",
        v.stdout
    );
    assert!(
        v.stdout.contains("whose: witness key given as"),
        "{}",
        v.stdout
    );

    // A wrong passphrase signs nothing.
    let bad = sign(dir.path(), "other.sig", "wrong horse");
    assert_ne!(bad.code, 0);
    assert!(!dir.path().join("other.sig").exists());

    // A corrupted signature.
    let sig = std::fs::read_to_string(dir.path().join("head.sig")).unwrap();
    let pos = sig.find("\"sig\": \"").unwrap() + 8;
    let mut forged = sig.clone().into_bytes();
    forged[pos + 10] = if forged[pos + 10] == b'0' { b'1' } else { b'0' };
    std::fs::write(dir.path().join("forged.sig"), &forged).unwrap();
    let v = conclave_in(
        dir.path(),
        &[
            "transcript",
            "verify",
            ".",
            "--head-sig",
            "head.sig",
            "forged.sig",
            "--witness-key",
            witness,
        ],
        "",
    );
    assert_eq!(v.code, 1, "{}", v.stdout);
    assert!(
        v.stderr.contains("forged.sig") && v.stderr.contains("invalid"),
        "{}",
        v.stderr
    );

    // Truncation: dropping whole lines from the end leaves a valid chain, but not the head.
    let all = lines_of(dir.path());
    write_lines(dir.path(), &all[..4]);
    ok(&conclave_in(dir.path(), &["transcript", "verify", "."], ""));
    let v = conclave_in(
        dir.path(),
        &[
            "transcript",
            "verify",
            ".",
            "--head-sig",
            "head.sig",
            "--witness-key",
            witness,
        ],
        "",
    );
    assert_eq!(v.code, 1);
    assert!(
        v.stderr
            .contains("it signs line 5, but the transcript ends at line 4"),
        "{}",
        v.stderr
    );

    // A whole other history with as many lines: the signed line's hash differs.
    let other = tempfile::tempdir().unwrap();
    for i in 0..6 {
        ok(&conclave_in(
            other.path(),
            &["transcript", "note", ".", "--step", &format!("other {i}")],
            "",
        ));
    }
    std::fs::copy(dir.path().join("head.sig"), other.path().join("head.sig")).unwrap();
    let v = conclave_in(
        other.path(),
        &[
            "transcript",
            "verify",
            ".",
            "--head-sig",
            "head.sig",
            "--witness-key",
            witness,
        ],
        "",
    );
    assert_eq!(v.code, 1);
    assert!(
        v.stderr.contains("line 5") && v.stderr.contains("rewritten"),
        "{}",
        v.stderr
    );
}

/// Every file under `dir` with its bytes, by relative path.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                let rel = p.strip_prefix(base).unwrap().display().to_string();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[test]
fn exporting_the_same_repository_twice_gives_identical_bytes() {
    let work = tempfile::tempdir().unwrap();
    let repo = work.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    build_pypi_repo(&repo, 20);
    // The rstuf format refuses this PEP 458 layout; its determinism is checked in tests/rstuf.rs.
    for format in ["plain"] {
        let a = format!("{format}-a");
        let b = format!("{format}-b");
        ok(&conclave_in(
            work.path(),
            &["export", "repo", "-o", &a, "--format", format],
            "",
        ));
        ok(&conclave_in(
            work.path(),
            &["export", "repo", "-o", &b, "--format", format],
            "",
        ));
        let (ta, tb) = (tree(&work.path().join(&a)), tree(&work.path().join(&b)));
        assert_eq!(ta, tb, "{format}: two exports differ");
        let names: Vec<&str> = ta.iter().map(|(n, _)| n.as_str()).collect();
        for must in [
            "1.root.json",
            "2.root.json",
            "1.targets.json",
            "1.claimed.json",
        ] {
            assert!(
                names.contains(&must),
                "{format}: {must} missing from {names:?}"
            );
        }
        assert!(
            !names
                .iter()
                .any(|n| n.contains("snapshot") || n.contains("timestamp"))
        );
        // Metadata is copied byte for byte.
        for (n, bytes) in &ta {
            if n.ends_with(".json") && !n.starts_with("rstuf") {
                assert_eq!(bytes, &std::fs::read(repo.join(n)).unwrap(), "{n}");
            }
        }
        // SHA256SUMS lists every other file, sorted, in sha256sum's format.
        let sums = String::from_utf8(
            ta.iter()
                .find(|(n, _)| n == "SHA256SUMS")
                .unwrap()
                .1
                .clone(),
        )
        .unwrap();
        let listed: Vec<&str> = sums.lines().map(|l| &l[66..]).collect();
        let mut expected: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| *n != "SHA256SUMS")
            .collect();
        expected.sort();
        assert_eq!(listed, expected);
        for l in sums.lines() {
            let (h, n) = l.split_once("  ").unwrap();
            let bytes = &ta.iter().find(|(m, _)| m == n).unwrap().1;
            assert_eq!(h, conclave::ceremony::transcript::sha256_hex(bytes));
        }
        let summary = String::from_utf8(
            ta.iter()
                .find(|(n, _)| n == "SUMMARY.txt")
                .unwrap()
                .1
                .clone(),
        )
        .unwrap();
        assert!(summary.contains("ROOT CHAIN: versions 1 to 2"), "{summary}");
        assert!(
            summary.contains("root: threshold 2 of 3 key(s)"),
            "{summary}"
        );
        assert!(
            summary.contains("delegates to claimed: threshold 2 of 3 key(s)"),
            "{summary}"
        );
        // The bundle itself verifies.
        ok(&run(conclave().arg("verify").arg(work.path().join(&a))));
        assert_eq!(names.contains(&"rstuf/bootstrap.json"), format == "rstuf");
    }
}

#[test]
fn export_refuses_an_invalid_repository_and_an_existing_bundle() {
    let work = tempfile::tempdir().unwrap();
    let repo = work.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    build_pypi_repo(&repo, 3);

    // An existing BUNDLE, even empty, is never replaced.
    std::fs::create_dir(work.path().join("out")).unwrap();
    let o = conclave_in(work.path(), &["export", "repo", "-o", "out"], "");
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("already exists"), "{}", o.stderr);
    assert_eq!(
        std::fs::read_dir(work.path().join("out")).unwrap().count(),
        0
    );

    // claimed edited after signing: verification fails, nothing is written.
    let p = repo.join("1.claimed.json");
    let edited = std::fs::read_to_string(&p)
        .unwrap()
        .replacen("project-1/*", "project-1/**", 1);
    std::fs::write(&p, edited).unwrap();
    let o = conclave_in(work.path(), &["export", "repo", "-o", "bundle"], "");
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stderr.contains("1.claimed.json"), "{}", o.stderr);
    assert!(o.stderr.contains("nothing was exported"), "{}", o.stderr);
    let mut left: Vec<_> = std::fs::read_dir(work.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        ["out", "repo"],
        "no bundle and no temporary directory"
    );
}

/// A key generated in a ceremony directory is recorded with its keyid and key file; a key
/// derived with --ceremony-dir is recorded with its identity and keyid. No passphrase is ever
/// in the transcript.
#[test]
fn key_generation_and_derivation_are_recorded_with_their_keyids() {
    let dir = five_steps();
    let d = dir.path();
    let pass = "abacus abdomen abdominal abide abiding ability ablaze able";
    let g = conclave_in(
        d,
        &[
            "key",
            "generate",
            "-o",
            "alice.key",
            "--profile",
            "rfc9106-64mib",
            "--passphrase-fd",
            "0",
        ],
        &format!("{pass}\n{pass}\n"),
    );
    ok(&g);
    let generated = keyid_in(&g.stderr);
    let lines = lines_of(d);
    assert_eq!(lines.len(), 6, "{lines:?}");
    let last = &lines[5];
    assert!(
        last.contains(&format!("\"key generate {generated}\"")) && last.contains("alice.key"),
        "{last}"
    );

    // Elsewhere, derived with --ceremony-dir naming the ceremony directory.
    let away = tempfile::tempdir().unwrap();
    let ceremony = d.to_str().unwrap();
    let k = conclave_in(
        away.path(),
        &[
            "--ceremony-dir",
            ceremony,
            "key",
            "derive",
            "--identity",
            "pypi.org/root/alice",
            "--passphrase-fd",
            "0",
        ],
        &format!("{pass}\n{pass}\n"),
    );
    ok(&k);
    let derived = keyid_in(&k.stderr);
    let lines = lines_of(d);
    assert_eq!(lines.len(), 7, "{lines:?}");
    assert!(
        lines[6].contains(&format!("\"key derive pypi.org/root/alice {derived}\"")),
        "{}",
        lines[6]
    );
    let all = lines.join("\n");
    assert!(
        !all.contains("abacus"),
        "a passphrase reached the transcript"
    );
    let v = conclave_in(d, &["transcript", "verify", "."], "");
    ok(&v);
}
