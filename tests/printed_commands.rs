//! Command lines conclave prints for people to run are run here exactly as printed, by `sh`,
//! in order: every command in a genesis's SIGNING-TASKS.txt (root, targets and claimed v1,
//! the merges, verify and export) and the commands `ceremony rehearse` ends with. A command
//! that needs a flag the printed line lacks (claimed v1's `--expires`), or a path that a shell
//! splits in two, fails here.

mod common;

use std::path::Path;

use common::*;

const PASS: &str = "printed commands test passphrase";

fn ok(o: Outcome) -> Outcome {
    assert_eq!(o.code, 0, "stdout:\n{}\nstderr:\n{}", o.stdout, o.stderr);
    o
}

/// Run `line` with `sh -c` in `dir`, with the conclave under test first on PATH and `stdin`.
fn sh(dir: &Path, line: &str, stdin: &str) -> Outcome {
    let bin = Path::new(env!("CARGO_BIN_EXE_conclave")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    run_with_stdin(
        std::process::Command::new("sh")
            .arg("-c")
            .arg(line)
            .current_dir(dir)
            .env("PATH", path),
        stdin,
    )
}

/// The command lines in `text`, in order: lines (or the part of a line after "Then:" or
/// "Finally:") that start with `conclave `.
fn command_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .map(|l| {
            l.strip_prefix("Then: ")
                .or_else(|| l.strip_prefix("Finally: "))
                .unwrap_or(l)
        })
        .filter(|l| l.starts_with("conclave "))
        .map(str::to_owned)
        .collect()
}

/// A key file for an officer, `NAME.key` in `dir`, and its public key `NAME.pub.json`.
fn officer_key(dir: &Path, name: &str) {
    let o = generate_key_file(dir, name, PASS);
    std::fs::write(dir.join(format!("{name}.pub.json")), o.stdout).unwrap();
}

/// An online key's public key file (no one signs with it here).
fn online_key(dir: &Path, name: &str, n: u32) {
    use conclave::signer::Signer;
    std::fs::write(
        dir.join(format!("{name}.pub.json")),
        conclave::cjson::to_pretty(&ed(n).public_key().to_value()),
    )
    .unwrap();
}

/// A plan with the PyPI layout: root 2 of 3, targets 1 of 1, claimed 2 of 3, online keys for
/// the rest. Officers keep their key files in "officer keys/" (a space: the printed commands
/// must quote it).
fn pypi_plan() -> String {
    let mut t = String::from(
        "[ceremony]\nformat = 1\nname = \"printed commands\"\nrehearsal = true\n\n\
         [officers.alice]\nname = \"Alice\"\n[officers.bob]\nname = \"Bob\"\n\
         [officers.carol]\nname = \"Carol\"\n\n",
    );
    for (key, officer) in [
        ("alice-root", "alice"),
        ("bob-root", "bob"),
        ("carol-root", "carol"),
        ("alice-targets", "alice"),
        ("alice-claimed", "alice"),
        ("bob-claimed", "bob"),
        ("carol-claimed", "carol"),
    ] {
        t.push_str(&format!(
            "[keys.{key}]\nofficer = \"{officer}\"\nsource = \"key-file\"\n\
             key_file = \"officer keys/{key}.key\"\npublic_key = \"{key}.pub.json\"\n\n"
        ));
    }
    for key in ["snapshot", "timestamp", "recently-claimed", "unclaimed"] {
        t.push_str(&format!(
            "[keys.{key}]\nsource = \"online\"\npublic_key = \"{key}.pub.json\"\n\n"
        ));
    }
    t.push_str(
        "[roles.root]\nkeys = [\"alice-root\", \"bob-root\", \"carol-root\"]\nthreshold = 2\nexpires = \"365d\"\n\
         [roles.targets]\nkeys = [\"alice-targets\"]\nthreshold = 1\nexpires = \"365d\"\n\
         [roles.snapshot]\nkeys = [\"snapshot\"]\n[roles.timestamp]\nkeys = [\"timestamp\"]\n\n\
         [pypi]\nbins = 16\n\
         [pypi.claimed]\nkeys = [\"alice-claimed\", \"bob-claimed\", \"carol-claimed\"]\nthreshold = 2\nexpires = \"90d\"\n\
         [pypi.recently-claimed]\nkeys = [\"recently-claimed\"]\n\
         [pypi.unclaimed]\nkeys = [\"unclaimed\"]\n",
    );
    t
}

#[test]
fn every_command_in_genesis_signing_tasks_runs_as_printed() {
    let tmp = tempfile::tempdir().unwrap();
    let plan_dir = tmp.path().join("plan");
    std::fs::create_dir_all(&plan_dir).unwrap();
    let officer_keys = [
        "alice-root",
        "bob-root",
        "carol-root",
        "alice-targets",
        "alice-claimed",
        "bob-claimed",
        "carol-claimed",
    ];
    for k in officer_keys {
        officer_key(&plan_dir, k);
    }
    for (i, k) in ["snapshot", "timestamp", "recently-claimed", "unclaimed"]
        .iter()
        .enumerate()
    {
        online_key(&plan_dir, k, 100 + i as u32);
    }
    std::fs::write(plan_dir.join("plan.toml"), pypi_plan()).unwrap();

    let dir = tmp.path().join("ceremony");
    ok(run(conclave()
        .args(["ceremony", "genesis", "--allow-network"])
        .arg(plan_dir.join("plan.toml"))
        .arg("-o")
        .arg(&dir)));
    let tasks = std::fs::read_to_string(dir.join("SIGNING-TASKS.txt")).unwrap();

    // The officers bring their key files to where the plan says they keep them, and the
    // coordinator puts the first claim requests where step 3 says.
    std::fs::create_dir_all(dir.join("officer keys")).unwrap();
    for k in officer_keys {
        std::fs::copy(
            plan_dir.join(format!("{k}.key")),
            dir.join(format!("officer keys/{k}.key")),
        )
        .unwrap();
    }
    let dev = {
        use conclave::signer::Signer;
        ed(7).public_key().to_value()
    };
    std::fs::write(
        dir.join("requests.jsonl"),
        format!(
            "{{\"project\": \"sampleproject\", \"keys\": [{}], \"threshold\": 1}}\n",
            String::from_utf8(conclave::cjson::to_canonical(&dev)).unwrap()
        ),
    )
    .unwrap();

    let commands = command_lines(&tasks);
    // 3 root + 1 targets + 3 claimed signatures, 3 merges, the claim, the final line.
    assert_eq!(commands.len(), 12, "{tasks}");
    let claim = commands
        .iter()
        .find(|c| c.starts_with("conclave pypi claim"))
        .unwrap_or_else(|| panic!("no claim command in:\n{tasks}"));
    assert!(claim.contains("--expires 90d"), "{claim}");
    assert!(
        tasks.contains("--key 'officer keys/alice-root.key'"),
        "{tasks}"
    );
    for cmd in &commands {
        // Signing commands read the passphrase from a descriptor instead of the terminal.
        let (line, stdin) = if cmd.starts_with("conclave sign ") {
            (format!("{cmd} --passphrase-fd 0"), format!("{PASS}\n"))
        } else {
            (cmd.clone(), String::new())
        };
        let o = sh(&dir, &line, &stdin);
        assert_eq!(
            o.code, 0,
            "printed command failed: {cmd}\nstdout:\n{}\nstderr:\n{}",
            o.stdout, o.stderr
        );
    }
    for f in ["1.root.json", "1.targets.json", "1.claimed.json"] {
        assert!(dir.join("repository").join(f).is_file(), "{f} not merged");
    }
    assert!(dir.join("bundle/1.claimed.json").is_file());
    let o = ok(run(conclave().arg("verify").arg(dir.join("bundle"))));
    assert!(o.stdout.contains("claimed"), "{}", o.stdout);
    ok(run(conclave().args(["transcript", "verify"]).arg(&dir)));
}
