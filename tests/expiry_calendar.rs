//! `conclave expiry`: the expiry calendar of a repository, through the real binary; its
//! iCalendar file read back by Python's `icalendar` (an independent parser).

mod common;

use common::*;

/// A repository with root v1 (superseded) and v2, targets, a claimed role and timestamp:
/// as of 2027-01-01, timestamp is overdue, targets due (45 days left, 60-day window),
/// claimed fine (90 days left, 30-day window), root v2 fine.
fn repository(dir: &std::path::Path) {
    let k = ed(1);
    let roles: &[(&str, &[&dyn conclave::signer::Signer], u32)] = &[
        ("root", &[&k], 1),
        ("targets", &[&k], 1),
        ("snapshot", &[&k], 1),
        ("timestamp", &[&k], 1),
    ];
    write(
        dir,
        "1.root.json",
        &signed(root(1, "2027-01-10T00:00:00Z", roles), &[&k]),
    );
    write(
        dir,
        "2.root.json",
        &signed(root(2, "2027-12-01T00:00:00Z", roles), &[&k]),
    );
    write(
        dir,
        "3.targets.json",
        &signed(targets(3, "2027-02-15T00:00:00Z"), &[&k]),
    );
    write(
        dir,
        "5.claimed.json",
        &signed(targets(5, "2027-04-01T00:00:00Z"), &[&k]),
    );
    let ts = conclave::metadata::Timestamp {
        common: common(7, "2026-12-31T00:00:00Z"),
        meta: std::collections::BTreeMap::from([("snapshot.json".into(), meta_for(1, b"x"))]),
        extra: Default::default(),
    };
    write(dir, "timestamp.json", &signed(ts, &[&k]));
}

#[test]
fn an_overdue_and_a_due_role_are_reported_and_exit_1() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    repository(&repo);
    let o = run(conclave().args(["expiry", "--at", "2027-01-01"]).arg(&repo));
    assert_eq!(o.code, 1, "{}\n{}", o.stdout, o.stderr);
    let line = |role: &str| {
        o.stdout
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(role))
            .unwrap_or_else(|| panic!("no line for {role}:\n{}", o.stdout))
            .to_owned()
    };
    assert!(
        line("timestamp").trim_start().starts_with("OVERDUE"),
        "{}",
        o.stdout
    );
    assert!(
        line("targets").trim_start().starts_with("DUE"),
        "{}",
        o.stdout
    );
    assert!(line("targets").contains("re-sign from 2026-12-17T00:00:00Z (60 days before)"));
    assert!(
        line("claimed").trim_start().starts_with("ok"),
        "{}",
        o.stdout
    );
    assert!(
        line("root").contains("root v2 "),
        "the superseded v1 is not listed"
    );
    assert!(
        o.stderr.contains("2 role(s) need signing now"),
        "{}",
        o.stderr
    );

    // Nothing due a year earlier... except what a wide --within catches.
    let o = run(conclave().args(["expiry", "--at", "2026-06-01"]).arg(&repo));
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    let o = run(conclave()
        .args(["expiry", "--at", "2026-06-01", "--within", "250d"])
        .arg(&repo));
    assert_eq!(o.code, 1, "{}\n{}", o.stdout, o.stderr);

    // JSON: the same verdicts as data.
    let o = run(conclave()
        .args(["expiry", "--json", "--at", "2027-01-01"])
        .arg(&repo));
    assert_eq!(o.code, 1);
    let v = conclave::cjson::parse(o.stdout.as_bytes()).expect("one JSON document");
    let text = String::from_utf8(conclave::cjson::to_canonical(&v)).unwrap();
    for needle in [
        r#""role":"timestamp","standing":"overdue""#,
        r#""role":"targets","standing":"due""#,
        r#""role":"claimed","standing":"ok""#,
    ] {
        assert!(text.contains(needle), "{needle} in {text}");
    }
}

#[test]
fn the_ics_parses_in_python_icalendar_with_one_event_per_role() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    repository(&repo);
    let ics = tmp.path().join("resign.ics");
    let o = run(conclave()
        .args(["expiry", "--at", "2027-01-01", "--ics"])
        .arg(&ics)
        .arg(&repo));
    assert_eq!(o.code, 1, "{}", o.stderr);
    let script = r#"
import sys, icalendar
cal = icalendar.Calendar.from_ical(open(sys.argv[1], 'rb').read())
for ev in cal.walk('VEVENT'):
    print(str(ev['SUMMARY']), ev['DTSTART'].dt.isoformat(), str(ev['UID']), len(ev.subcomponents))
"#;
    let o = run(std::process::Command::new(python())
        .arg("-c")
        .arg(script)
        .arg(&ics));
    assert_eq!(o.code, 0, "{}", o.stderr);
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(
        lines.len(),
        4,
        "root, targets, claimed, timestamp:\n{}",
        o.stdout
    );
    assert!(
        lines.contains(
            &"Re-sign targets (expires 2027-02-15T00:00:00Z) 2026-12-17 conclave-resign-targets-v3-2027-02-15T00:00:00Z 1"
        ),
        "{}",
        o.stdout
    );
    // The overdue timestamp's event is today (as of --at).
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Re-sign timestamp") && l.contains(" 2027-01-01 ")),
        "{}",
        o.stdout
    );
}

#[test]
fn bad_input_is_named_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("broken.json");
    std::fs::write(&bad, b"{\"signed\": ").unwrap();
    let ics = tmp.path().join("out.ics");
    let o = run(conclave().arg("expiry").arg("--ics").arg(&ics).arg(&bad));
    assert_ne!(o.code, 0);
    assert!(o.stderr.contains("broken.json"), "{}", o.stderr);
    assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
    assert!(!ics.exists());
    let o = run(conclave().args(["expiry", "--within", "soon"]).arg(&bad));
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("--within soon"), "{}", o.stderr);
}

/// `verify` and `status` mention a role inside its re-signing window (a note: the exit code
/// is the verifier's).
#[test]
fn verify_and_status_mention_roles_due_for_re_signing() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    repository(&repo);
    let o = run(conclave().args(["verify", "--at", "2027-01-01"]).arg(&repo));
    assert!(
        o.stderr
            .contains("role targets v3 expires 2027-02-15T00:00:00Z")
            && o.stderr
                .contains("inside its 60-day re-signing window since 2026-12-17"),
        "{}",
        o.stderr
    );
    assert!(
        !o.stderr.contains("role claimed v5 expires"),
        "claimed is not due: {}",
        o.stderr
    );

    // status: a root expiring in 20 days is inside root's 60-day window.
    let soon = conclave::ceremony::plan::resolve_when("20d", conclave::metadata::Expires::now())
        .unwrap()
        .to_string();
    let k = ed(1);
    let roles: &[(&str, &[&dyn conclave::signer::Signer], u32)] = &[
        ("root", &[&k], 1),
        ("targets", &[&k], 1),
        ("snapshot", &[&k], 1),
        ("timestamp", &[&k], 1),
    ];
    let d = tmp.path().join("soon");
    std::fs::create_dir(&d).unwrap();
    write(&d, "1.root.json", &signed(root(1, &soon, roles), &[&k]));
    let o = run(conclave().args(["status"]).arg(d.join("1.root.json")));
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stderr.contains("role root v1 expires") && o.stderr.contains("60-day re-signing window"),
        "{}",
        o.stderr
    );
}
