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
    // The top-level help says where completions, man pages and --json are.
    let o = ok(run(conclave().arg("--help")));
    for said in [
        "conclave completions bash|zsh|fish",
        "conclave man -o DIR",
        "--json",
        "-o/--output",
    ] {
        assert!(
            o.stdout.contains(said),
            "--help lacks {said}:\n{}",
            o.stdout
        );
    }
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

// ---------------------------------------------------------------------------------------------
// --json: one JSON document on stdout, with the fields docs/formats.md lists
// ---------------------------------------------------------------------------------------------

/// Parse `o.stdout` as exactly one JSON document (conclave's strict reader: trailing text,
/// a second document or a human line mixed in fail) and check it has `fields`.
fn json_doc(what: &str, o: &Outcome, fields: &[&str]) -> conclave::cjson::Value {
    let v = conclave::cjson::parse(o.stdout.as_bytes()).unwrap_or_else(|e| {
        panic!(
            "{what}: stdout is not one JSON document ({e}):\n{}",
            o.stdout
        )
    });
    let m = v
        .as_object()
        .unwrap_or_else(|| panic!("{what}: not a JSON object:\n{}", o.stdout));
    for f in fields {
        assert!(m.contains_key(*f), "{what}: no field {f}:\n{}", o.stdout);
    }
    v
}

fn field<'a>(v: &'a conclave::cjson::Value, path: &[&str]) -> &'a conclave::cjson::Value {
    path.iter().fold(v, |v, k| {
        v.get(k).unwrap_or_else(|| {
            panic!(
                "no {k} in {}",
                String::from_utf8_lossy(&conclave::cjson::to_pretty(v))
            )
        })
    })
}

fn int_of(v: &conclave::cjson::Value) -> i64 {
    match v {
        conclave::cjson::Value::Int(i) => *i,
        other => panic!("not an integer: {other:?}"),
    }
}

fn bool_of(v: &conclave::cjson::Value) -> bool {
    match v {
        conclave::cjson::Value::Bool(b) => *b,
        other => panic!("not a boolean: {other:?}"),
    }
}

#[test]
fn sign_merge_status_inspect_and_verify_print_one_json_document() {
    const PASS: &str = "json officer test passphrase";
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let officer = generate_key_file(d, "officer", PASS);
    std::fs::write(d.join("officer.pub"), &officer.stdout).unwrap();
    let others: Vec<String> = (11..14).map(|n| pubfile(d, n)).collect();
    ok(cli(
        d,
        &[
            "root",
            "init",
            "--key",
            "root=officer.pub",
            "--key",
            &format!("root={}", pubfile(d, 14)),
            "--threshold",
            "root=2",
            "--key",
            &format!("targets={}", others[0]),
            "--key",
            &format!("snapshot={}", others[1]),
            "--key",
            &format!("timestamp={}", others[2]),
            "--expires",
            "300d",
            "-o",
            "draft.json",
        ],
    ));

    // status --json: an array of reports, one per authority; nothing signed yet.
    let o = ok(cli(d, &["status", "draft.json", "--json"]));
    let v = conclave::cjson::parse(o.stdout.as_bytes()).unwrap();
    let conclave::cjson::Value::Array(reports) = &v else {
        panic!("{}", o.stdout)
    };
    assert!(!bool_of(field(&reports[0], &["met"])), "{}", o.stdout);

    // sign --json: what was signed, once the signature is written.
    let o = conclave_in(
        d,
        &[
            "sign",
            "draft.json",
            "--key",
            "officer.key",
            "--passphrase-fd",
            "0",
            "-o",
            "officer.sig",
            "--json",
        ],
        &format!("{PASS}\n"),
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v = json_doc(
        "sign",
        &o,
        &[
            "file",
            "role",
            "version",
            "expires",
            "payload_sha256",
            "keyid",
            "output",
            "review_file",
            "review_sha256",
        ],
    );
    assert_eq!(field(&v, &["role"]).as_str(), Some("root"));
    assert_eq!(field(&v, &["output"]).as_str(), Some("officer.sig"));
    let keyid = keyid_in(&officer.stderr);
    assert_eq!(field(&v, &["keyid"]).as_str(), Some(keyid.as_str()));
    assert!(
        o.stderr.contains("Payload digest"),
        "the review stays on stderr"
    );
    let payload = field(&v, &["payload_sha256"]).as_str().unwrap().to_owned();
    assert_eq!(payload.len(), 64);

    // merge --json below the threshold: the outcome, not written, exit 1.
    let o = cli(
        d,
        &[
            "merge",
            "draft.json",
            "officer.sig",
            "-o",
            "1.root.json",
            "--json",
        ],
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    let merge_fields = [
        "file",
        "role",
        "version",
        "output",
        "written",
        "complete",
        "new_keys_not_signed",
        "added",
        "already_present",
        "dropped",
        "reports",
    ];
    let v = json_doc("merge", &o, &merge_fields);
    assert!(!bool_of(field(&v, &["written"])) && !bool_of(field(&v, &["complete"])));
    assert!(!d.join("1.root.json").exists());
    // With --allow-partial: written, not complete, the signature added.
    let o = ok(cli(
        d,
        &[
            "merge",
            "draft.json",
            "officer.sig",
            "-o",
            "1.root.json",
            "--allow-partial",
            "--json",
        ],
    ));
    let v = json_doc("merge", &o, &merge_fields);
    assert!(bool_of(field(&v, &["written"])) && !bool_of(field(&v, &["complete"])));
    let conclave::cjson::Value::Array(added) = field(&v, &["added"]) else {
        panic!()
    };
    assert_eq!(field(&added[0], &["keyid"]).as_str(), Some(keyid.as_str()));
    assert_eq!(field(&added[0], &["from"]).as_str(), Some("officer.sig"));

    // inspect --json of the half-signed root: the same exit code as without --json.
    let o = cli(d, &["inspect", "1.root.json", "--json"]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    let v = json_doc(
        "inspect",
        &o,
        &[
            "file",
            "type",
            "role",
            "version",
            "expires",
            "expired",
            "spec_version",
            "key_problems",
            "consistent_snapshot",
            "roles",
            "keys",
            "targets",
            "delegations",
            "signature_keyids",
            "signatures",
            "ok",
        ],
    );
    assert_eq!(int_of(field(&v, &["version"])), 1);
    assert_eq!(int_of(field(&v, &["roles", "root", "threshold"])), 2);
    assert_eq!(field(&v, &["type"]).as_str(), Some("root"));
    assert!(!bool_of(field(&v, &["signatures", "met"])));
    assert!(!bool_of(field(&v, &["ok"])));

    // verify --json (one PATH: one object), failing as it fails without --json.
    let o = cli(d, &["verify", "1.root.json", "--json"]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    let v = json_doc(
        "verify",
        &o,
        &["path", "ok", "files", "problems", "warnings"],
    );
    assert!(!bool_of(field(&v, &["ok"])));

    // Strings from files are data in JSON, escaped as JSON requires: a target path holding
    // an escape sequence and a quote comes back exactly, and the document still parses.
    let mut t = targets(1, FAR);
    add_target(&mut t, "evil\u{1b}[2J\"name\u{202e}", b"x");
    write(d, "odd.json", &signed(t, &[]));
    let o = ok(cli(d, &["inspect", "odd.json", "--json"]));
    assert!(!o.stdout.contains('\u{1b}'), "a raw escape on stdout");
    let v = json_doc("inspect", &o, &["targets"]);
    let conclave::cjson::Value::Array(targets) = field(&v, &["targets"]) else {
        panic!()
    };
    assert_eq!(
        field(&targets[0], &["path"]).as_str(),
        Some("evil\u{1b}[2J\"name\u{202e}")
    );
}

#[test]
fn ceremony_check_plan_rotation_and_transcript_verify_print_one_json_document() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    small_repo(&d.join("repo"));
    for n in [1, 2, 3, 4, 5, 6, 7] {
        pubfile(d, n);
    }
    // A plan for the next root: ed(3) leaves, ed(7) joins.
    let mut plan = String::from(
        "[ceremony]\nformat = 1\nname = \"json\"\n\n[officers.alice]\nname = \"Alice\"\n\
         [officers.bob]\nname = \"Bob\"\n[officers.dave]\nname = \"Dave \\\"Q\\\" O'Brien\"\n\n",
    );
    for (key, n, officer) in [
        ("alice-root", 1, "alice"),
        ("bob-root", 2, "bob"),
        ("dave-root", 7, "dave"),
    ] {
        plan.push_str(&format!(
            "[keys.{key}]\nofficer = \"{officer}\"\nsource = \"key-file\"\n\
             key_file = \"my keys/{key}.key\"\npublic_key = \"key-{n}.pub\"\n\n"
        ));
    }
    plan.push_str(
        "[keys.targets]\nofficer = \"alice\"\nsource = \"key-file\"\npublic_key = \"key-4.pub\"\n\n\
         [keys.snapshot]\nsource = \"online\"\npublic_key = \"key-5.pub\"\n\n\
         [keys.timestamp]\nsource = \"online\"\npublic_key = \"key-6.pub\"\n\n\
         [roles.root]\nkeys = [\"alice-root\", \"bob-root\", \"dave-root\"]\nthreshold = 2\nexpires = \"300d\"\n\
         [roles.targets]\nkeys = [\"targets\"]\nexpires = \"300d\"\n\
         [roles.snapshot]\nkeys = [\"snapshot\"]\n[roles.timestamp]\nkeys = [\"timestamp\"]\n",
    );
    std::fs::write(d.join("plan.toml"), plan).unwrap();

    let o = ok(cli(d, &["ceremony", "check", "plan.toml", "--json"]));
    let v = json_doc(
        "ceremony check",
        &o,
        &[
            "plan",
            "sha256",
            "name",
            "rehearsal",
            "officers",
            "roles",
            "findings",
            "ok",
        ],
    );
    assert!(bool_of(field(&v, &["ok"])));
    assert_eq!(int_of(field(&v, &["roles", "root", "threshold"])), 2);
    assert_eq!(
        field(&v, &["officers", "dave"]).as_str(),
        Some("Dave \"Q\" O'Brien"),
        "the officer's name comes back exactly"
    );

    let o = ok(cli(
        d,
        &[
            "ceremony",
            "plan-rotation",
            "--root",
            "repo/1.root.json",
            "--plan",
            "plan.toml",
            "-o",
            "next root.json",
            "--json",
        ],
    ));
    let v = json_doc(
        "plan-rotation",
        &o,
        &[
            "root",
            "plan",
            "old_version",
            "new_version",
            "old_threshold",
            "new_threshold",
            "old_available",
            "new_available",
            "feasible",
            "keys",
            "tasks",
            "advice",
            "draft",
        ],
    );
    assert!(bool_of(field(&v, &["feasible"])));
    assert_eq!(int_of(field(&v, &["new_version"])), 2);
    let conclave::cjson::Value::Array(tasks) = field(&v, &["tasks"]) else {
        panic!()
    };
    // alice and bob (both roots) and dave (new); carol's ed(3) has no plan key but signs too.
    assert_eq!(tasks.len(), 4, "{}", o.stdout);
    let alice = tasks
        .iter()
        .find(|t| field(t, &["key"]).as_str() == Some("alice-root"))
        .unwrap();
    assert_eq!(
        field(alice, &["command"]).as_str(),
        Some(
            "conclave sign 'next root.json' --previous repo/1.root.json --key 'my keys/alice-root.key' -o alice-root.sig"
        )
    );
    assert!(d.join("next root.json").is_file());

    // transcript verify --json: intact, then broken (exit 1, still one document).
    std::fs::create_dir(d.join("cer")).unwrap();
    ok(cli(
        d,
        &["transcript", "note", "cer", "--step", "keys presented"],
    ));
    let o = ok(cli(d, &["transcript", "verify", "cer", "--json"]));
    let v = json_doc(
        "transcript verify",
        &o,
        &[
            "transcript",
            "ok",
            "intact",
            "steps",
            "first_time",
            "head",
            "problems",
            "head_signatures",
            "trusted_from",
        ],
    );
    assert_eq!(int_of(field(&v, &["steps"])), 1);
    assert_eq!(int_of(field(&v, &["head", "seq"])), 1);
    let t = std::fs::read_to_string(d.join("cer/transcript.jsonl")).unwrap();
    std::fs::write(
        d.join("cer/transcript.jsonl"),
        t.replace("keys presented", "keys presenteD"),
    )
    .unwrap();
    let o = cli(d, &["transcript", "verify", "cer", "--json"]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    let v = json_doc(
        "transcript verify (broken)",
        &o,
        &["ok", "intact", "problems"],
    );
    assert!(!bool_of(field(&v, &["ok"])) && !bool_of(field(&v, &["intact"])));
    assert_eq!(field(&v, &["steps"]), &conclave::cjson::Value::Null);
    assert!(o.stderr.contains("line 1"), "{}", o.stderr);
}

#[test]
fn revoke_json_is_one_document_and_the_readable_plan_goes_to_stderr() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    small_repo(&d.join("repo"));
    let o = ok(cli(
        d,
        &["revoke", &keyid(3), "--repo", "repo", "--dry-run", "--json"],
    ));
    json_doc(
        "revoke",
        &o,
        &[
            "keyid",
            "aliases",
            "feasible",
            "trusted_by",
            "drafts",
            "carried",
            "still_valid",
            "blockers",
            "warnings",
            "online",
            "notes",
        ],
    );
    assert!(o.stderr.contains("BLAST RADIUS"), "{}", o.stderr);
}
