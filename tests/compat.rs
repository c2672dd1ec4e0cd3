//! The compatibility lint (`conclave verify --clients ...`) against the clients' real
//! verdicts, on the vectors in tests/vectors/compat/.
//!
//! Each vector is a whole repository (root, timestamp, snapshot, targets, delegated roles)
//! made to run into one quirk of one client, and an expected.json holding what the lint
//! reports, what `conclave verify` says, and what tough 0.24.0 and python-tuf 7.0.1 really do
//! with it. The test checks all of it against the real clients every run, and rebuilds every
//! vector in memory to check the committed files are what this file makes (write them anew
//! with CONCLAVE_WRITE_VECTORS=1).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use conclave::cjson::{self, Map, Value};
use conclave::metadata::*;
use conclave::signer::Signer;

/// What a vector claims.
struct Expect {
    why: &'static str,
    /// (file, client, quirk) of every finding with `--clients all`.
    lint: Vec<(&'static str, &'static str, &'static str)>,
    /// `conclave verify` exit code without --clients, and the rule it names when it is 1.
    conclave: (i32, &'static str),
    /// The targets tough and python-tuf are asked for.
    targets: Vec<&'static str>,
    /// tough's verdict ("valid" / "invalid"), and text its error or a target's error holds.
    tough: (&'static str, &'static str),
    /// python-tuf's ngclient finding the targets: "valid" / "invalid".
    python_tuf: &'static str,
}

struct Case {
    name: &'static str,
    expect: Expect,
    files: BTreeMap<String, Vec<u8>>,
}

fn frame_root() -> Metadata<Root> {
    let (rk, tk, sk, tsk) = (ed(1), ed(10), ed(11), ed(12));
    signed(
        root(
            1,
            FAR,
            &[
                ("root", &[&rk], 1),
                ("targets", &[&tk], 1),
                ("snapshot", &[&sk], 1),
                ("timestamp", &[&tsk], 1),
            ],
        ),
        &[&rk],
    )
}

/// A repository: root, `top` signed by the targets key, `roles` as given, and snapshot and
/// timestamp over every targets file present.
fn repo(top: Targets, roles: Vec<(&str, Metadata<Targets>)>) -> BTreeMap<String, Vec<u8>> {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(d, "1.root.json", &frame_root());
    write(d, "1.targets.json", &signed(top, &[&ed(10)]));
    for (name, md) in roles {
        write(d, &format!("1.{name}.json"), &md);
    }
    publish(d, 1, &ed(11), &ed(12));
    std::fs::read_dir(d)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// `t` with its JSON edited before signing: what conclave's model keeps as read, written as
/// a client other than conclave may have written it.
fn edited(t: Targets, edit: impl FnOnce(&mut Map)) -> Targets {
    let bytes = Metadata::new(t).to_file_bytes();
    let mut v = cjson::parse(&bytes).unwrap();
    if let Value::Object(m) = &mut v
        && let Some(Value::Object(s)) = m.get_mut("signed")
    {
        edit(s);
    }
    Metadata::<Targets>::from_bytes(&cjson::to_pretty(&v))
        .unwrap()
        .signed
}

fn obj<'a>(m: &'a mut Map, path: &[&str]) -> &'a mut Map {
    let mut m = m;
    for p in path {
        m = match m.get_mut(*p) {
            Some(Value::Object(o)) => o,
            _ => panic!("no object at {p}"),
        };
    }
    m
}

fn first_role(s: &mut Map) -> &mut Map {
    match obj(s, &["delegations"]).get_mut("roles") {
        Some(Value::Array(a)) => match a.first_mut() {
            Some(Value::Object(o)) => o,
            _ => panic!("no role"),
        },
        _ => panic!("no roles"),
    }
}

fn with_target(path: &str) -> Targets {
    let mut t = targets(1, FAR);
    add_target(&mut t, path, format!("content of {path}").as_bytes());
    t
}

fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    let mut case = |name, expect, files| {
        out.push(Case {
            name,
            expect,
            files,
        })
    };

    // TAP 15 succinct bins.
    let mut top = targets(1, FAR);
    let bins = delegate_bins(&mut top, "bins", 1, &ed(40));
    let bin = bins.bin_for("pkg/pkg-1.0.tar.gz");
    let roles = (0..bins.bin_count())
        .map(|i| {
            let name = bins.bin_name(i);
            let t = if name == bin {
                with_target("pkg/pkg-1.0.tar.gz")
            } else {
                targets(1, FAR)
            };
            (name, signed(t, &[&ed(40)]))
        })
        .collect::<Vec<_>>();
    let roles = roles.iter().map(|(n, m)| (n.as_str(), m.clone())).collect();
    case(
        "succinct-bins",
        Expect {
            why: "tough 0.24 has no TAP 15: the delegating file does not even parse",
            lint: vec![("1.targets.json", "tough", "succinct-bins")],
            conclave: (0, ""),
            targets: vec!["pkg/pkg-1.0.tar.gz"],
            tough: ("invalid", "missing field `roles`"),
            python_tuf: "valid",
        },
        repo(top, roles),
    );

    // A target path that is not in NFC ("e" + combining acute accent).
    case(
        "non-nfc-target-path",
        Expect {
            why: "tough's canonical JSON normalises strings to NFC, so it checks the \
                  signature over other bytes than were signed",
            lint: vec![("1.targets.json", "tough", "non-nfc-string")],
            conclave: (0, ""),
            targets: vec!["docs/cafe\u{301}.txt"],
            tough: ("invalid", "Signature threshold"),
            python_tuf: "valid",
        },
        repo(with_target("docs/cafe\u{301}.txt"), vec![]),
    );

    // Two target paths, one a prefix of the other continued by a space.
    let mut t = with_target("probe/a");
    add_target(&mut t, "probe/a b", b"the other one");
    case(
        "key-order-prefix-space",
        Expect {
            why: "tough's canonical JSON sorts \"probe/a b\" before \"probe/a\" (closing quote \
                  included), securesystemslib the other way",
            lint: vec![("1.targets.json", "tough", "key-order")],
            conclave: (0, ""),
            targets: vec!["probe/a"],
            tough: ("invalid", "Signature threshold"),
            python_tuf: "valid",
        },
        repo(t, vec![]),
    );

    // A delegation key with an unknown field, keyid computed without it (as RSTUF does).
    let k = ed(41);
    let mut top = targets(1, FAR);
    delegate(&mut top, "online", &[&k], 1, &["online/*"], true);
    let top = edited(top, |s| {
        let keys = obj(s, &["delegations", "keys"]);
        let key = keys.values_mut().next().unwrap();
        if let Value::Object(o) = key {
            o.insert("x-rstuf-online-key-uri".into(), "fn:online".into());
        }
    });
    case(
        "key-extra-field",
        Expect {
            why: "tough computes a keyid over the whole key object, unknown fields included, \
                  and refuses a keyid that differs",
            lint: vec![("1.targets.json", "tough", "keyid-over-whole-key")],
            conclave: (0, ""),
            targets: vec!["online/file.txt"],
            tough: ("invalid", "Invalid key ID"),
            python_tuf: "valid",
        },
        repo(
            top,
            vec![("online", signed(with_target("online/file.txt"), &[&k]))],
        ),
    );

    // An unknown field in a delegated role's entry.
    let k = ed(42);
    let mut top = targets(1, FAR);
    delegate(&mut top, "team", &[&k], 1, &["team/*"], true);
    let top = edited(top, |s| {
        first_role(s).insert("x-note".into(), "kept by conclave".into());
    });
    case(
        "delegated-role-extra-field",
        Expect {
            why: "tough keeps no unknown fields in a delegated role's entry, so it checks \
                  the delegator's signature over other bytes than were signed",
            lint: vec![("1.targets.json", "tough", "dropped-field")],
            conclave: (0, ""),
            targets: vec!["team/file.txt"],
            tough: ("invalid", "Signature threshold"),
            python_tuf: "valid",
        },
        repo(
            top,
            vec![("team", signed(with_target("team/file.txt"), &[&k]))],
        ),
    );

    // A target with an empty custom object.
    let top = edited(with_target("pkg/empty-custom.txt"), |s| {
        let t = obj(s, &["targets", "pkg/empty-custom.txt"]);
        t.insert("custom".into(), Value::Object(Map::new()));
    });
    case(
        "target-empty-custom",
        Expect {
            why: "tough leaves an empty \"custom\" out when it rebuilds the signed bytes",
            lint: vec![("1.targets.json", "tough", "empty-custom")],
            conclave: (0, ""),
            targets: vec!["pkg/empty-custom.txt"],
            tough: ("invalid", "Signature threshold"),
            python_tuf: "valid",
        },
        repo(top, vec![]),
    );

    // A delegated role missing from snapshot, before one that is listed.
    let (ka, kb) = (ed(43), ed(44));
    let mut top = targets(1, FAR);
    delegate(&mut top, "a", &[&ka], 1, &["a/*"], false);
    delegate(&mut top, "b", &[&kb], 1, &["b/*"], false);
    case(
        "delegated-role-missing-from-snapshot",
        Expect {
            why: "tough stops loading a level at the first delegated role snapshot does not \
                  list: b's target is invisible to it, though b is listed and valid",
            lint: vec![("1.targets.json", "tough", "missing-from-snapshot")],
            conclave: (0, ""),
            targets: vec!["b/file.txt"],
            tough: ("invalid", "Target file not delegated"),
            python_tuf: "valid",
        },
        repo(top, vec![("b", signed(with_target("b/file.txt"), &[&kb]))]),
    );

    // One key under two keyids, the alias carrying a field so that its keyid is the hash of
    // its whole object (tough checks that much), threshold 2, signed by the one key twice.
    out.push(same_key_twice_case());
    out.push(diamond_case());
    out
}

fn same_key_twice_case() -> Case {
    let k = ed(45);
    let mut top = targets(1, FAR);
    delegate(&mut top, "pair", &[&k], 2, &["pair/*"], true);
    let mut alias = k.public_key().to_value();
    if let Value::Object(o) = &mut alias {
        o.insert("x-alias".into(), "the same key again".into());
    }
    let alias_id = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(cjson::to_canonical(&alias)))
    };
    let top = edited(top, |s| {
        obj(s, &["delegations", "keys"]).insert(alias_id.clone(), alias.clone());
        if let Some(Value::Array(ids)) = first_role(s).get_mut("keyids") {
            ids.push(alias_id.as_str().into());
        }
    });
    let mut pair = signed(with_target("pair/file.txt"), &[&k]);
    let mut twin = pair.signatures[0].clone();
    twin.keyid = KeyId::new(&alias_id).unwrap();
    pair.signatures.push(twin);
    Case {
        name: "same-key-two-keyids",
        expect: Expect {
            why: "one key listed under two keyids meets a threshold of 2 alone in clients that \
                  count keyids; conclave counts keys and refuses",
            lint: vec![
                ("1.targets.json", "python-tuf", "same-key-twice"),
                ("1.targets.json", "tough", "same-key-twice"),
                ("1.targets.json", "go-tuf", "same-key-twice"),
            ],
            conclave: (1, "same-key-twice"),
            targets: vec!["pair/file.txt"],
            tough: ("valid", ""),
            python_tuf: "valid",
        },
        files: repo(top, vec![("pair", pair)]),
    }
}

fn diamond_case() -> Case {
    let (ka, kb, kc_a, kc_b) = (ed(46), ed(47), ed(48), ed(49));
    let mut top = targets(1, FAR);
    delegate(&mut top, "a", &[&ka], 1, &["shared/*"], false);
    delegate(&mut top, "b", &[&kb], 1, &["shared/*"], false);
    let mut a = targets(1, FAR);
    delegate(&mut a, "c", &[&kc_a], 1, &["shared/*"], false);
    let mut b = targets(1, FAR);
    delegate(&mut b, "c", &[&kc_b], 1, &["shared/*"], false);
    Case {
        name: "diamond-delegation",
        expect: Expect {
            why: "role c is delegated by a and by b with different keys and signed for a \
                  only; clients disagree on which delegation c is checked against",
            lint: vec![
                ("1.c.json", "python-tuf", "diamond-delegation"),
                ("1.c.json", "tough", "diamond-delegation"),
                ("1.c.json", "go-tuf", "diamond-delegation"),
            ],
            conclave: (1, "diamond-delegation"),
            targets: vec!["shared/file.txt"],
            tough: ("valid", ""),
            python_tuf: "valid",
        },
        files: repo(
            top,
            vec![
                ("a", signed(a, &[&ka])),
                ("b", signed(b, &[&kb])),
                ("c", signed(with_target("shared/file.txt"), &[&kc_a])),
            ],
        ),
    }
}

fn vectors() -> PathBuf {
    repo_root().join("tests/vectors/compat")
}

fn expected_json(e: &Expect) -> Value {
    let mut m = Map::new();
    m.insert("why".into(), e.why.into());
    m.insert(
        "lint".into(),
        Value::Array(
            e.lint
                .iter()
                .map(|(f, c, q)| {
                    let mut o = Map::new();
                    o.insert("file".into(), (*f).into());
                    o.insert("client".into(), (*c).into());
                    o.insert("quirk".into(), (*q).into());
                    Value::Object(o)
                })
                .collect(),
        ),
    );
    m.insert(
        "conclave_verify_exit".into(),
        Value::Int(e.conclave.0.into()),
    );
    m.insert("conclave_verify_rule".into(), e.conclave.1.into());
    m.insert(
        "targets".into(),
        Value::Array(e.targets.iter().map(|t| (*t).into()).collect()),
    );
    m.insert("tough_verdict".into(), e.tough.0.into());
    m.insert("tough_error_contains".into(), e.tough.1.into());
    m.insert("python_tuf_verdict".into(), e.python_tuf.into());
    Value::Object(m)
}

/// The committed vectors are what `cases()` makes (written anew with
/// CONCLAVE_WRITE_VECTORS=1).
#[test]
fn committed_vectors_are_what_this_file_makes() {
    let write = std::env::var_os("CONCLAVE_WRITE_VECTORS").is_some();
    for c in cases() {
        let dir = vectors().join(c.name);
        let expected = cjson::to_pretty(&expected_json(&c.expect));
        if write {
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(dir.join("repo")).unwrap();
            std::fs::write(dir.join("expected.json"), &expected).unwrap();
            for (name, bytes) in &c.files {
                std::fs::write(dir.join("repo").join(name), bytes).unwrap();
            }
            continue;
        }
        assert_eq!(
            std::fs::read(dir.join("expected.json")).ok().as_deref(),
            Some(expected.as_slice()),
            "{}: expected.json is stale (CONCLAVE_WRITE_VECTORS=1)",
            c.name
        );
        let mut on_disk: Vec<String> = std::fs::read_dir(dir.join("repo"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        assert_eq!(
            on_disk,
            c.files.keys().cloned().collect::<Vec<_>>(),
            "{}",
            c.name
        );
        for (name, bytes) in &c.files {
            assert_eq!(
                &std::fs::read(dir.join("repo").join(name)).unwrap(),
                bytes,
                "{}/{name} is stale (CONCLAVE_WRITE_VECTORS=1)",
                c.name
            );
        }
    }
}

fn lint_of(repo: &Path) -> (i32, Vec<(String, String, String)>) {
    let o = run(conclave()
        .args(["verify", "--clients", "all", "--json"])
        .arg(repo));
    let v = cjson::parse(o.stdout.as_bytes())
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", o.stdout, o.stderr));
    let Some(Value::Array(fs)) = v.get("compat").and_then(|c| c.get("findings")) else {
        panic!("no compat findings in {}", o.stdout)
    };
    let s = |f: &Value, k: &str| f.get(k).and_then(Value::as_str).unwrap().to_owned();
    let got = fs
        .iter()
        .map(|f| (s(f, "file"), s(f, "client"), s(f, "quirk")))
        .collect();
    (o.code, got)
}

/// Every committed vector: the lint's findings, conclave's verdict, and tough's and
/// python-tuf's real verdicts are the ones expected.json records.
#[test]
fn lint_predictions_match_the_real_clients() {
    let cases = cases();
    assert!(cases.len() >= 9);
    for c in cases {
        let dir = vectors().join(c.name);
        let repo = dir.join("repo");
        let e = &c.expect;

        let (code, got) = lint_of(&repo);
        let want: Vec<(String, String, String)> = e
            .lint
            .iter()
            .map(|(f, cl, q)| ((*f).into(), (*cl).into(), (*q).into()))
            .collect();
        assert_eq!(got, want, "{}: lint findings", c.name);
        assert_eq!(code, 1, "{}: findings must fail --clients all", c.name);
        let plain = run(conclave().arg("verify").arg(&repo));
        assert_eq!(
            plain.code, e.conclave.0,
            "{}: conclave verify\n{}",
            c.name, plain.stderr
        );
        assert!(
            plain.stderr.contains(e.conclave.1),
            "{}: conclave verify does not name {}:\n{}",
            c.name,
            e.conclave.1,
            plain.stderr
        );

        let (o, v) = tough(&repo, &e.targets, None);
        let verdict = v.get("verdict").and_then(Value::as_str).unwrap_or_default();
        assert_eq!(verdict, e.tough.0, "{}: tough\n{}", c.name, o.stdout);
        if e.tough.0 == "invalid" {
            assert!(
                o.stdout.contains(e.tough.1),
                "{}: tough's error lacks {:?}:\n{}",
                c.name,
                e.tough.1,
                o.stdout
            );
        }

        let py = run(Command::new(python())
            .arg(repo_root().join("tests/interop/python/tuf_resolve.py"))
            .arg(&repo)
            .args(&e.targets));
        let py_verdict = if py.code == 0 { "valid" } else { "invalid" };
        assert_eq!(
            py_verdict, e.python_tuf,
            "{}: python-tuf\n{}{}",
            c.name, py.stdout, py.stderr
        );
    }
}

/// The builders warn before writing what a known client would refuse: `root init` with a key
/// carrying an extra field (tough computes keyids over the whole key object), and
/// `pypi claim` with a developer key carrying one.
#[test]
fn builders_warn_before_writing_what_a_client_refuses() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let plain = ed(1).public_key().to_value();
    let mut odd = ed(2).public_key().to_value();
    if let Value::Object(m) = &mut odd {
        m.insert("x-example-note".into(), Value::from("an extra field"));
    }
    std::fs::write(d.join("plain.pub"), cjson::to_pretty(&plain)).unwrap();
    std::fs::write(d.join("odd.pub"), cjson::to_pretty(&odd)).unwrap();
    let mut args = vec!["root", "init", "--key", "root=plain.pub"];
    for r in ["targets=odd.pub", "snapshot=odd.pub", "timestamp=odd.pub"] {
        args.extend(["--key", r]);
    }
    args.extend(["--expires", "365d", "-o", "1.root.json"]);
    let o = conclave_in(d, &args, "");
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("warning: 1.root.json: role root: tough refuses it: keyid-over-whole-key"),
        "{}",
        o.stderr
    );
    // Without the extra field: no warning.
    let o = conclave_in(
        d,
        &[
            "root",
            "init",
            "--key",
            "root=plain.pub",
            "--key",
            "targets=plain.pub",
            "--key",
            "snapshot=plain.pub",
            "--key",
            "timestamp=plain.pub",
            "--expires",
            "365d",
            "-o",
            "plain.root.json",
        ],
        "",
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(!o.stderr.contains("warning:"), "{}", o.stderr);
    let line = |project: &str, key: &Value| {
        format!(
            "{{\"project\": \"{project}\", \"keys\": [{}], \"threshold\": 1}}\n",
            String::from_utf8(cjson::to_canonical(key)).unwrap()
        )
    };
    let requests = line("plain-project", &plain) + &line("odd-project", &odd);
    std::fs::write(d.join("requests.jsonl"), requests).unwrap();
    let o = conclave_in(
        d,
        &[
            "pypi",
            "claim",
            "--requests",
            "requests.jsonl",
            "--expires",
            "90d",
            "-o",
            "claimed.json",
        ],
        "",
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stderr.contains("warning: role claimed: key ")
            && o.stderr
                .contains("carries x-example-note: tough refuses it")
            && o.stderr.contains("keyid-over-whole-key"),
        "{}",
        o.stderr
    );
    assert_eq!(
        o.stderr.matches("keyid-over-whole-key").count(),
        1,
        "{}",
        o.stderr
    );
}
