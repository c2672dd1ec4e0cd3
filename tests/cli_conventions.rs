//! Command-line conventions through the real binary: `-o/--output` everywhere with the old
//! `--out` kept as a hidden alias, both rotate commands taking keys as ROLE=VALUE (the old
//! `delegation rotate --role NAME` spelling kept, hidden).

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
