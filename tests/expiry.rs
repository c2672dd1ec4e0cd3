//! Issue 18, class 11, through the real binary: every builder checks the expiry of what it
//! drafts against the clock (refused in the past, with nothing written; refused more than 100
//! years ahead unless --allow-long-expiry; written with a warning beyond the role's PEP 458
//! bound), `sign` says how the draft stands ("in N days" or EXPIRED) and refuses an expired
//! draft before the key is unlocked unless --allow-expired, and `merge` warns.

mod common;

use std::path::Path;

use common::*;
use conclave::metadata::{Metadata, Targets};
use conclave::signer::Signer;

const PASS: &str = "expiry test passphrase";
const NINE_CENTURIES: &str = "2926-01-01";

fn cli(d: &Path, args: &[&str]) -> Outcome {
    conclave_in(d, args, "")
}

fn ok(o: Outcome) -> Outcome {
    assert_eq!(o.code, 0, "stdout:\n{}\nstderr:\n{}", o.stdout, o.stderr);
    o
}

/// The builder refused a past expiry for `role`, naming it, and wrote nothing at `out`.
fn refused_past(o: &Outcome, d: &Path, out: &str, role: &str) {
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains(&format!("role {role}: expiry "))
            && o.stderr.contains("is not in the future")
            && o.stderr.contains("nothing was written"),
        "{}",
        o.stderr
    );
    assert!(!d.join(out).exists(), "{out} was written");
}

/// The builder refused an expiry nine centuries ahead and wrote nothing at `out`.
fn refused_far(o: &Outcome, d: &Path, out: &str) {
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains("more than the 36500 days") && o.stderr.contains("--allow-long-expiry"),
        "{}",
        o.stderr
    );
    assert!(!d.join(out).exists(), "{out} was written");
}

/// The builder wrote `out` and warned that `role`'s expiry lies beyond its `days`-day bound.
fn warned(o: &Outcome, d: &Path, out: &str, role: &str, days: u32) {
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stderr
            .contains(&format!("warning: role {role}: expires "))
            && o.stderr
                .contains(&format!("beyond the {days} days of PEP 458")),
        "{}",
        o.stderr
    );
    assert!(d.join(out).exists(), "{out} was not written");
}

fn pubfile(d: &Path, name: &str, s: &dyn Signer) {
    std::fs::write(
        d.join(format!("{name}.pub")),
        conclave::cjson::to_pretty(&s.public_key().to_value()),
    )
    .unwrap();
}

const ROOT_KEYS: [&str; 8] = [
    "--key",
    "root=r.pub",
    "--key",
    "targets=t.pub",
    "--key",
    "snapshot=s.pub",
    "--key",
    "timestamp=ts.pub",
];

fn root_init(d: &Path, expires: &str, out: &str, extra: &[&str]) -> Outcome {
    let mut args = vec!["root", "init"];
    args.extend(ROOT_KEYS);
    args.extend(["--expires", expires, "-o", out]);
    args.extend(extra);
    cli(d, &args)
}

fn keys(d: &Path) {
    for (name, n) in [
        ("r", 1),
        ("t", 2),
        ("s", 3),
        ("ts", 4),
        ("dev", 5),
        ("dev2", 6),
    ] {
        pubfile(d, name, &ed(n));
    }
}

#[test]
fn root_init_and_rotate_check_the_expiry_against_the_clock() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    keys(d);

    refused_past(
        &root_init(d, "2001-01-01", "a.json", &[]),
        d,
        "a.json",
        "root",
    );
    refused_far(&root_init(d, NINE_CENTURIES, "b.json", &[]), d, "b.json");
    // Far, but not absurd: written, with PEP 458's bound read out.
    warned(
        &root_init(d, "800d", "c.json", &[]),
        d,
        "c.json",
        "root",
        366,
    );
    // Nine centuries when it is really meant: written, and warned about.
    let o = root_init(d, NINE_CENTURIES, "d.json", &["--allow-long-expiry"]);
    warned(&o, d, "d.json", "root", 366);
    // Within the bound: no warning at all.
    let o = ok(root_init(d, "365d", "e.json", &[]));
    assert!(!o.stderr.contains("warning"), "{}", o.stderr);

    // A rotation keeps the previous expiry unless told otherwise: an expired one is refused,
    // with the hint that --expires renews it.
    write(
        d,
        "old.json",
        &Metadata::new(root(
            1,
            PAST,
            &[
                ("root", &[&ed(1)], 1),
                ("targets", &[&ed(2)], 1),
                ("snapshot", &[&ed(3)], 1),
                ("timestamp", &[&ed(4)], 1),
            ],
        )),
    );
    let rotate = |extra: &[&str], out: &str| {
        let mut args = vec!["root", "rotate", "old.json", "--add-key", "targets=dev.pub"];
        args.extend(extra);
        args.extend(["-o", out]);
        cli(d, &args)
    };
    let o = rotate(&[], "v2.json");
    refused_past(&o, d, "v2.json", "root");
    assert!(
        o.stderr
            .contains("without --expires, a new version keeps the previous version's expiry"),
        "{}",
        o.stderr
    );
    refused_past(
        &rotate(&["--expires", "2020-01-01"], "v2.json"),
        d,
        "v2.json",
        "root",
    );
    refused_far(
        &rotate(&["--expires", NINE_CENTURIES], "v2.json"),
        d,
        "v2.json",
    );
    warned(
        &rotate(&["--expires", "400d"], "v2.json"),
        d,
        "v2.json",
        "root",
        366,
    );
}

#[test]
fn pypi_builders_and_delegation_rotate_check_every_draft() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    keys(d);
    let init = |expires: &str, out: &str, extra: &[&str]| {
        let mut args = vec![
            "pypi",
            "init",
            "--key",
            "claimed=r.pub",
            "--key",
            "recently-claimed=s.pub",
            "--key",
            "unclaimed=ts.pub",
            "--bins",
            "16",
            "--expires",
            expires,
            "-o",
            out,
        ];
        args.extend(extra);
        cli(d, &args)
    };
    let o = init("2001-01-01", "t1.json", &[]);
    refused_past(&o, d, "t1.json", "targets");
    assert!(!d.join("unclaimed.json").exists());
    refused_far(&init(NINE_CENTURIES, "t1.json", &[]), d, "t1.json");
    // 300 days: within a year for targets and unclaimed, beyond claimed's 6 months for claimed
    // and each of its 8 bins, which share one warning.
    let o = init(
        "300d",
        "t2.json",
        &[
            "--claimed-bins",
            "8",
            "--claimed-out",
            "claimed",
            "--unclaimed-out",
            "u2.json",
        ],
    );
    warned(&o, d, "t2.json", "claimed", 183);
    assert!(!o.stderr.contains("role targets: expires"), "{}", o.stderr);
    assert_eq!(
        o.stderr.matches("beyond the 183 days").count(),
        1,
        "{}",
        o.stderr
    );
    assert!(
        o.stderr
            .contains("(and 8 more draft(s) with the same expiry)"),
        "{}",
        o.stderr
    );
    // --claimed-expires dates claimed and its bins within their bound: no warning at all.
    let o = ok(init(
        "300d",
        "t3.json",
        &[
            "--claimed-bins",
            "8",
            "--claimed-out",
            "claimed3",
            "--claimed-expires",
            "180d",
            "--unclaimed-out",
            "u3.json",
        ],
    ));
    assert!(!o.stderr.contains("warning"), "{}", o.stderr);
    let hub: Metadata<Targets> =
        Metadata::from_bytes(&std::fs::read(d.join("claimed3/1.claimed.json")).unwrap()).unwrap();
    let t3: Metadata<Targets> =
        Metadata::from_bytes(&std::fs::read(d.join("t3.json")).unwrap()).unwrap();
    // (Each WHEN is read against the clock as its flag is parsed: allow a second between.)
    let apart = t3.signed.common.expires.unix() - hub.signed.common.expires.unix();
    assert!((apart - 120 * 86_400).abs() <= 2, "{apart}");
    // ... and in the past, is refused like --expires.
    let o = init(
        "300d",
        "t4.json",
        &[
            "--claimed-bins",
            "8",
            "--claimed-out",
            "claimed4",
            "--claimed-expires",
            "2001-01-01",
        ],
    );
    refused_past(&o, d, "t4.json", "claimed");
    assert!(!d.join("claimed4").exists());

    // pypi claim, version 1 and next versions.
    let request = format!(
        "{{\"project\": \"demo\", \"keys\": [{}], \"threshold\": 1}}\n",
        String::from_utf8(conclave::cjson::to_canonical(
            &ed(5).public_key().to_value()
        ))
        .unwrap()
    );
    std::fs::write(d.join("req.jsonl"), request).unwrap();
    let claim = |claimed: Option<&str>, expires: Option<&str>, out: &str| {
        let mut args = vec!["pypi", "claim", "--requests", "req.jsonl", "-o", out];
        if let Some(c) = claimed {
            args.extend(["--claimed", c]);
        }
        if let Some(e) = expires {
            args.extend(["--expires", e]);
        }
        cli(d, &args)
    };
    refused_past(
        &claim(None, Some("2001-01-01"), "c1.json"),
        d,
        "c1.json",
        "claimed",
    );
    refused_far(&claim(None, Some(NINE_CENTURIES), "c1.json"), d, "c1.json");
    warned(
        &claim(None, Some("200d"), "c1.json"),
        d,
        "c1.json",
        "claimed",
        183,
    );

    // An expired claimed role: a change that keeps its expiry is refused, for each builder.
    let mut expired = targets(1, PAST);
    delegate(
        &mut expired,
        "demo",
        &[&ed(5)],
        1,
        &["demo", "demo/*"],
        true,
    );
    write(d, "expired-claimed.json", &Metadata::new(expired));
    let o = claim(Some("expired-claimed.json"), None, "c2.json");
    refused_past(&o, d, "c2.json", "claimed");
    let o = cli(
        d,
        &[
            "pypi",
            "unclaim",
            "demo",
            "--claimed",
            "expired-claimed.json",
            "-o",
            "c3.json",
        ],
    );
    refused_past(&o, d, "c3.json", "claimed");
    let o = cli(
        d,
        &[
            "pypi",
            "revoke-developer-key",
            &ed(5).public_key().keyid().to_string(),
            "--claimed",
            "expired-claimed.json",
            "-o",
            "c4.json",
        ],
    );
    refused_past(&o, d, "c4.json", "claimed");
    // Renewed, the same change goes through.
    let o = cli(
        d,
        &[
            "pypi",
            "unclaim",
            "demo",
            "--claimed",
            "expired-claimed.json",
            "--expires",
            "90d",
            "-o",
            "c3.json",
        ],
    );
    ok(o);

    // delegation rotate: the role drafted is PARENT's (here targets, by its file name).
    let mut parent = targets(1, PAST);
    delegate(&mut parent, "claimed", &[&ed(5)], 1, &["*"], false);
    write(d, "1.targets.json", &Metadata::new(parent));
    let rotate = |extra: &[&str], out: &str| {
        let mut args = vec![
            "delegation",
            "rotate",
            "1.targets.json",
            "--role",
            "claimed",
            "--add-key",
            "dev2.pub",
        ];
        args.extend(extra);
        args.extend(["-o", out]);
        cli(d, &args)
    };
    refused_past(
        &rotate(&[], "2.targets.json"),
        d,
        "2.targets.json",
        "targets",
    );
    refused_far(
        &rotate(&["--expires", NINE_CENTURIES], "2.targets.json"),
        d,
        "2.targets.json",
    );
    warned(
        &rotate(&["--expires", "500d"], "2.targets.json"),
        d,
        "2.targets.json",
        "targets",
        366,
    );
    let next: Metadata<Targets> =
        Metadata::from_bytes(&std::fs::read(d.join("2.targets.json")).unwrap()).unwrap();
    assert_eq!(next.signed.common.version.get(), 2);
}

#[test]
fn a_plan_dated_in_the_past_drafts_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    keys(d);
    let plan = |expires: &str| {
        format!(
            "[ceremony]\nformat = 1\nname = \"expiry\"\n\n\
             [officers.alice]\nname = \"Alice\"\n[officers.bob]\nname = \"Bob\"\n\n\
             [keys.alice-root]\nofficer = \"alice\"\nsource = \"key-file\"\npublic_key = \"r.pub\"\n\
             [keys.bob-root]\nofficer = \"bob\"\nsource = \"key-file\"\npublic_key = \"t.pub\"\n\
             [keys.online]\nsource = \"online\"\npublic_key = \"ts.pub\"\n\n\
             [roles.root]\nkeys = [\"alice-root\", \"bob-root\"]\nthreshold = 2\nexpires = \"{expires}\"\n\
             [roles.targets]\nkeys = [\"alice-root\"]\nthreshold = 1\nexpires = \"300d\"\n\
             [roles.snapshot]\nkeys = [\"online\"]\nexpires = \"1d\"\n\
             [roles.timestamp]\nkeys = [\"online\"]\nexpires = \"1d\"\n\n\
             [policy]\nallow_key_reuse = true\n"
        )
    };
    std::fs::write(d.join("past.toml"), plan("2001-01-01")).unwrap();
    let o = cli(
        d,
        &[
            "ceremony",
            "genesis",
            "--allow-network",
            "past.toml",
            "--out",
            "cer",
        ],
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("role root: expires 2001-01-01T00:00:00Z, which is already past"),
        "{}",
        o.stderr
    );
    assert!(!d.join("cer").exists());
    std::fs::write(d.join("long.toml"), plan("800d")).unwrap();
    let o = cli(d, &["ceremony", "check", "long.toml"]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("beyond the policy's 366 days (PEP 458: root, 1 year)"),
        "{}",
        o.stderr
    );
    // plan-rotation drafts the next root from a plan: the same bound, refused before -o.
    write(
        d,
        "1.root.json",
        &Metadata::new(root(
            1,
            FAR,
            &[
                ("root", &[&ed(1)], 1),
                ("targets", &[&ed(2)], 1),
                ("snapshot", &[&ed(4)], 1),
                ("timestamp", &[&ed(4)], 1),
            ],
        )),
    );
    let o = cli(
        d,
        &[
            "ceremony",
            "plan-rotation",
            "--root",
            "1.root.json",
            "--plan",
            "long.toml",
            "-o",
            "2.root.json",
        ],
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains("role root: expires")
            && o.stderr.contains("beyond the policy's 366 days"),
        "{}",
        o.stderr
    );
    assert!(!d.join("2.root.json").exists());
}

#[test]
fn sign_shows_the_expiry_and_refuses_an_expired_draft() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let k = generate_key_file(d, "k", PASS);
    std::fs::write(d.join("k.pub"), &k.stdout).unwrap();
    for (name, n) in [("t", 2), ("s", 3), ("ts", 4)] {
        pubfile(d, name, &ed(n));
    }
    let sign = |file: &str, out: &str, extra: &[&str]| {
        let mut args = vec![
            "sign",
            file,
            "--key",
            "k.key",
            "--passphrase-fd",
            "0",
            "-o",
            out,
        ];
        args.extend(extra);
        conclave_in(d, &args, &format!("{PASS}\n"))
    };

    // A fresh draft: the review says how long it has.
    let mut args = vec!["root", "init", "--key", "root=k.pub"];
    args.extend(&ROOT_KEYS[2..]);
    args.extend(["--expires", "365d", "-o", "fresh.json"]);
    ok(cli(d, &args));
    let o = ok(sign("fresh.json", "fresh.sig", &[]));
    assert!(
        o.stderr.contains("expiry:   in 364 days") || o.stderr.contains("expiry:   in 365 days"),
        "{}",
        o.stderr
    );
    assert!(!o.stderr.contains("WARNING"), "{}", o.stderr);

    // An expired draft (made by hand: no builder writes one): EXPIRED in the review, refused
    // before the passphrase is asked for, nothing written.
    let expired = Metadata::new(conclave::metadata::Root {
        common: common(1, PAST),
        ..Metadata::<conclave::metadata::Root>::from_bytes(
            &std::fs::read(d.join("fresh.json")).unwrap(),
        )
        .unwrap()
        .signed
    });
    write(d, "expired.json", &expired);
    let o = sign("expired.json", "expired.sig", &[]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stderr.contains("expiry:   EXPIRED "), "{}", o.stderr);
    assert!(
        o.stderr
            .contains("expired.json (role root) EXPIRED at 2001-01-01T00:00:00Z")
            && o.stderr.contains("nothing was signed")
            && o.stderr.contains("--allow-expired"),
        "{}",
        o.stderr
    );
    assert!(!o.stderr.contains("Passphrase"), "{}", o.stderr);
    assert!(!d.join("expired.sig").exists());

    // --allow-expired: signed, loudly.
    let o = ok(sign("expired.json", "expired.sig", &["--allow-expired"]));
    assert!(
        o.stderr
            .contains("WARNING: signing 1 EXPIRED draft(s) (--allow-expired)"),
        "{}",
        o.stderr
    );
    assert!(d.join("expired.sig").exists());

    // merge warns, and still merges (the signature is real).
    let o = ok(cli(
        d,
        &["merge", "expired.json", "expired.sig", "-o", "merged.json"],
    ));
    assert!(
        o.stderr
            .contains("warning: expired.json (role root) EXPIRED at 2001-01-01T00:00:00Z"),
        "{}",
        o.stderr
    );

    // A draft dated far ahead by hand: the review warns before anyone signs.
    let mut far = expired.signed.clone();
    far.common = common(1, "2926-01-01T00:00:00Z");
    write(d, "far.json", &Metadata::new(far));
    let o = ok(sign("far.json", "far.sig", &[]));
    assert!(
        o.stderr
            .contains("WARNING: role root: expires 2926-01-01T00:00:00Z")
            && o.stderr
                .contains("beyond the 366 days of PEP 458: root, 1 year"),
        "{}",
        o.stderr
    );
}

#[test]
fn a_round_with_an_expired_draft_is_refused_unless_allowed() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let k = generate_key_file(d, "admin", PASS);
    let admin =
        conclave::metadata::Key::from_json(conclave::cjson::parse(k.stdout.as_bytes()).unwrap())
            .unwrap();
    // claimed delegating two bins to the admin; the round holds both bins' next versions,
    // one of them expired.
    let mut claimed = targets(1, FAR);
    let d_ = claimed
        .delegations
        .get_or_insert_with(|| conclave::metadata::Delegations {
            keys: Default::default(),
            roles: conclave::metadata::DelegationRoles::List(vec![]),
            extra: Default::default(),
        });
    d_.keys.insert(admin.keyid(), admin.clone());
    let conclave::metadata::DelegationRoles::List(roles) = &mut d_.roles else {
        unreachable!()
    };
    for name in ["bin-a", "bin-b"] {
        roles.push(conclave::metadata::DelegatedRole {
            name: conclave::metadata::RoleName::delegated(name).unwrap(),
            keyids: vec![admin.keyid()],
            threshold: th(1),
            terminating: Some(false),
            paths: conclave::metadata::RolePaths::Patterns(vec![format!("{name}/*").into()]),
            extra: Default::default(),
        });
    }
    write(d, "claimed.json", &Metadata::new(claimed));
    std::fs::create_dir(d.join("round")).unwrap();
    write(
        d.join("round").as_path(),
        "2.bin-a.json",
        &Metadata::new(targets(2, "2099-01-01T00:00:00Z")),
    );
    write(
        d.join("round").as_path(),
        "2.bin-b.json",
        &Metadata::new(targets(2, PAST)),
    );
    let sign = |out: &str, extra: &[&str]| {
        let mut args = vec![
            "sign",
            "round",
            "--delegator",
            "claimed.json",
            "--key",
            "admin.key",
            "--passphrase-fd",
            "0",
            "-o",
            out,
        ];
        args.extend(extra);
        conclave_in(d, &args, &format!("{PASS}\n"))
    };
    let o = sign("sigs", &[]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr.contains("role bin-b, version 2, expires EXPIRED")
            && o.stderr
                .contains("2.bin-b.json (role bin-b) EXPIRED at 2001-01-01T00:00:00Z"),
        "{}",
        o.stderr
    );
    assert!(!d.join("sigs").exists());
    let o = ok(sign("sigs", &["--allow-expired"]));
    assert!(
        o.stderr.contains("WARNING: signing 1 EXPIRED draft(s)"),
        "{}",
        o.stderr
    );
    let o = ok(cli(
        d,
        &[
            "merge",
            "round",
            "sigs",
            "--delegator",
            "claimed.json",
            "-o",
            "out",
        ],
    ));
    assert!(
        o.stderr
            .contains("warning: 2.bin-b.json (role bin-b) EXPIRED"),
        "{}",
        o.stderr
    );
    assert!(!o.stderr.contains("warning: 2.bin-a.json"), "{}", o.stderr);
}
