//! Command-line conventions through the real binary: `-o/--output` everywhere with the old
//! `--out` kept as a hidden alias, both rotate commands taking keys as ROLE=VALUE (the old
//! `delegation rotate --role NAME` spelling kept, hidden), shell completions and man pages
//! from the clap definitions, and `--version` with the commit and features.

mod common;

use std::path::Path;

use common::*;

fn ok(o: Outcome) -> Outcome {
    assert_eq!(o.code, 0, "stdout:\n{}\nstderr:\n{}", o.stdout, o.stderr);
    o
}

fn cli(dir: &Path, args: &[&str]) -> Outcome {
    conclave_in(dir, args, "")
}

/// A small verified repository in `dir`: root v1 (keys ed(1..=3), 2 of 3), targets (ed(4)),
/// snapshot (ed(5)) and timestamp (ed(6)).
fn small_repo(dir: &Path) {
    use conclave::signer::Signer;
    std::fs::create_dir_all(dir).unwrap();
    let (r1, r2, r3, t, s, ts) = (ed(1), ed(2), ed(3), ed(4), ed(5), ed(6));
    let v1 = root(
        1,
        FAR,
        &[
            ("root", &[&r1 as &dyn Signer, &r2, &r3], 2),
            ("targets", &[&t], 1),
            ("snapshot", &[&s], 1),
            ("timestamp", &[&ts], 1),
        ],
    );
    write(dir, "1.root.json", &signed(v1, &[&r1, &r2]));
    write(dir, "1.targets.json", &signed(targets(1, FAR), &[&t]));
    publish(dir, 1, &s, &ts);
}

fn keyid(n: u32) -> String {
    use conclave::signer::Signer;
    ed(n).public_key().keyid().as_str().to_string()
}

#[test]
fn output_is_spelled_dash_o_everywhere_and_the_old_out_still_works_hidden() {
    for sub in [
        &["ceremony", "genesis"][..],
        &["ceremony", "rehearse"],
        &["revoke"],
    ] {
        let o = ok(run(conclave().args(sub).arg("--help")));
        assert!(
            o.stdout.contains("-o, --output <"),
            "{sub:?}:\n{}",
            o.stdout
        );
        assert!(!o.stdout.contains("--out "), "{sub:?}:\n{}", o.stdout);
        assert!(!o.stdout.contains("--out <"), "{sub:?}:\n{}", o.stdout);
    }

    // revoke: -o, --output and --out all name the new directory.
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    small_repo(&d.join("repo"));
    let targets_key = keyid(4);
    for (flag, dir) in [("-o", "a"), ("--output", "b"), ("--out", "c")] {
        let o = ok(cli(
            d,
            &[
                "revoke",
                &targets_key,
                "--repo",
                "repo",
                "--add-key",
                &format!("targets={}", pubfile(d, 7)),
                flag,
                dir,
            ],
        ));
        assert!(
            d.join(dir).join("2.root.json").is_file(),
            "{flag}: {}",
            o.stdout
        );
    }
    let plan = std::fs::read_to_string(d.join("c/PLAN.txt")).unwrap();
    assert!(plan.contains("2.root.json"), "{plan}");
}

/// Write ed(n)'s public key as `key-N.pub` in `dir` and return its file name.
fn pubfile(dir: &Path, n: u32) -> String {
    use conclave::signer::Signer;
    let name = format!("key-{n}.pub");
    let bytes = conclave::cjson::to_pretty(&ed(n).public_key().to_value());
    std::fs::write(dir.join(&name), bytes).unwrap();
    name
}

#[test]
fn both_rotate_commands_take_keys_as_role_equals_value() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    small_repo(&d.join("repo"));
    let k7 = pubfile(d, 7);
    let k8 = pubfile(d, 8);

    // root rotate: ROLE=PUBFILE, ROLE=KEYID, ROLE=N.
    ok(cli(
        d,
        &[
            "root",
            "rotate",
            "repo/1.root.json",
            "--add-key",
            &format!("root={k7}"),
            "--remove-key",
            &format!("root={}", keyid(3)),
            "--threshold",
            "root=2",
            "-o",
            "2.root.json",
        ],
    ));

    // delegation rotate: a parent delegating to claimed (ed(7)), then the same ROLE=VALUE
    // flags; the old spelling (--role NAME, bare values) drafts the same bytes.
    let mut top = targets(1, FAR);
    delegate(&mut top, "claimed", &[&ed(7)], 1, &["*/*"], false);
    write(d, "targets.json", &signed(top, &[&ed(4)]));
    ok(cli(
        d,
        &[
            "delegation",
            "rotate",
            "targets.json",
            "--add-key",
            &format!("claimed={k8}"),
            "--remove-key",
            &format!("claimed={}", keyid(7)),
            "--threshold",
            "claimed=1",
            "-o",
            "new.json",
        ],
    ));
    ok(cli(
        d,
        &[
            "delegation",
            "rotate",
            "targets.json",
            "--role",
            "claimed",
            "--add-key",
            &k8,
            "--remove-key",
            &keyid(7),
            "--threshold",
            "1",
            "-o",
            "old.json",
        ],
    ));
    assert_eq!(
        std::fs::read(d.join("new.json")).unwrap(),
        std::fs::read(d.join("old.json")).unwrap()
    );
    let text = std::fs::read_to_string(d.join("new.json")).unwrap();
    assert!(
        text.contains(&keyid(8)) && !text.contains(&keyid(7)),
        "{text}"
    );

    // One role per command: a second role is refused, nothing written.
    let o = cli(
        d,
        &[
            "delegation",
            "rotate",
            "targets.json",
            "--add-key",
            &format!("claimed={k8}"),
            "--threshold",
            "unclaimed=2",
            "-o",
            "two.json",
        ],
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains("one delegated role per command"),
        "{}",
        o.stderr
    );
    assert!(!d.join("two.json").exists());
    // Bare values without --role say what is expected.
    let o = cli(
        d,
        &[
            "delegation",
            "rotate",
            "targets.json",
            "--add-key",
            &k8,
            "-o",
            "x.json",
        ],
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains("is not of the form ROLE=VALUE"),
        "{}",
        o.stderr
    );
    // --role is the old spelling: hidden from help, like --out.
    let o = ok(run(conclave().args(["delegation", "rotate", "--help"])));
    assert!(!o.stdout.contains("--role <NAME>"), "{}", o.stdout);
    assert!(
        o.stdout.contains("--add-key <ROLE=PUBFILE>"),
        "{}",
        o.stdout
    );
}

#[test]
fn completions_for_bash_zsh_and_fish_name_the_subcommands() {
    for shell in ["bash", "zsh", "fish"] {
        let o = ok(run(conclave().args(["completions", shell])));
        assert!(o.stdout.len() > 1000, "{shell}: {}", o.stdout);
        for sub in [
            "sign",
            "merge",
            "status",
            "revoke",
            "rehearse",
            "plan-rotation",
        ] {
            assert!(o.stdout.contains(sub), "{shell} completion lacks {sub}");
        }
        // The documented spelling is completed; hidden old spellings are not offered.
        assert!(o.stdout.contains("output"), "{shell}");
        for hidden in ["--out ", "--out[", "--out=", "-l out "] {
            assert!(!o.stdout.contains(hidden), "{shell} offers {hidden}");
        }
        assert!(o.stderr.is_empty(), "{shell}: {}", o.stderr);
    }
    // bash itself accepts the script (a syntax error would exit non-zero).
    let tmp = tempfile::tempdir().unwrap();
    let o = ok(run(conclave().args(["completions", "bash"])));
    std::fs::write(tmp.path().join("c.bash"), &o.stdout).unwrap();
    ok(run(std::process::Command::new("bash")
        .arg("-n")
        .arg(tmp.path().join("c.bash"))));
    let o = run(conclave().args(["completions", "tcsh"]));
    assert_eq!(o.code, 2, "{}", o.stderr);
}

#[test]
fn man_writes_a_page_for_conclave_and_every_subcommand() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("man");
    let o = ok(run(conclave().args(["man", "-o"]).arg(&dir)));
    assert!(o.stdout.is_empty(), "{}", o.stdout);
    for page in [
        "conclave.1",
        "conclave-sign.1",
        "conclave-key-generate.1",
        "conclave-ceremony-genesis.1",
        "conclave-transcript-sign-head.1",
        "conclave-completions.1",
        "conclave-man.1",
    ] {
        let text =
            std::fs::read_to_string(dir.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        // A roff man page: the title macro naming the page, then the NAME section.
        let stem = page.trim_end_matches(".1");
        assert!(text.contains(&format!(".TH {stem} 1")), "{page}:\n{text}");
        assert!(text.contains(".SH NAME"), "{page}");
        assert!(text.contains(".SH SYNOPSIS"), "{page}");
    }
    assert!(!dir.join("conclave-help.1").exists());
    let sign = std::fs::read_to_string(dir.join("conclave-sign.1")).unwrap();
    assert!(sign.contains("passphrase"), "{sign}");
    // Run again: the pages are replaced, not refused.
    ok(run(conclave().args(["man", "-o"]).arg(&dir)));

    // groff (under man -l) reads them without a warning, when it is installed; without it the
    // header checks above are what is checked.
    if std::path::Path::new("/usr/bin/groff").exists() {
        for page in ["conclave.1", "conclave-revoke.1", "conclave-sign.1"] {
            let o = run(std::process::Command::new("groff")
                .args(["-man", "-Tutf8", "-ww", "-P-cbou"])
                .arg(dir.join(page)));
            assert_eq!(o.code, 0, "{page}: {}", o.stderr);
            assert!(o.stderr.is_empty(), "{page}: groff warns:\n{}", o.stderr);
            assert!(o.stdout.contains("NAME"), "{page}");
        }
    }
}

#[test]
fn version_names_the_commit_and_the_features() {
    let o = ok(run(conclave().arg("--version")));
    let line = o.stdout.trim();
    assert!(
        line.starts_with(&format!("conclave {} (commit ", env!("CARGO_PKG_VERSION"))),
        "{line}"
    );
    // The commit the binary was built from: this checkout's HEAD, or "unknown" outside git.
    let head = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(repo_root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    match head {
        Some(h) => assert!(
            line.contains(&format!("commit {}", &h[..12])),
            "{line} vs {h}"
        ),
        None => assert!(line.contains("commit unknown"), "{line}"),
    }
    if cfg!(feature = "yubikey") {
        assert!(line.ends_with("features: yubikey)"), "{line}");
    } else {
        assert!(line.ends_with("features: none)"), "{line}");
    }
    assert_eq!(ok(run(conclave().arg("-V"))).stdout.trim(), line);
}
