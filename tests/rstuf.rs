//! Issue 20: conclave against the real RSTUF 1.0 (worker v1.0.2, API v1.0.1).
//!
//! `tests/interop/rstuf/setup.sh` (run by tests/run-all.sh) unpacks both from
//! ../shared/third-party/rstuf after checking SHA256SUMS and installs their Pipfile.lock pins
//! in target/rstuf-venv. This file starts a real Redis and a real PostgreSQL on loopback once,
//! runs every scenario against them (a fresh database and Redis state each), and stops them.
//! `tests/interop/rstuf/driver.py` runs the API's FastAPI app in-process (its models and routes
//! validate every payload) with each queued task run at once by the worker's
//! `MetadataRepository`, and python-tuf's ngclient as the client. Nothing here is skipped: a
//! missing service or venv fails the test, naming what to install.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::*;

const PASS: &str = "rstuf test passphrase";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn rstuf_python() -> PathBuf {
    let p = std::env::var_os("CONCLAVE_RSTUF_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/rstuf-venv/bin/python"));
    assert!(
        p.exists(),
        "the RSTUF venv is missing at {} — run `bash tests/interop/rstuf/setup.sh` (tests/run-all.sh \
         does), or set CONCLAVE_RSTUF_PYTHON",
        p.display()
    );
    p
}

fn rstuf_src(prefix: &str) -> PathBuf {
    let dir = repo_root().join("target/rstuf-src");
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e} — run tests/interop/rstuf/setup.sh", dir.display()))
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix}* in {}", dir.display()))
}

/// The newest Debian PostgreSQL server binaries.
fn pg_bin() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is not installed: apt-get install postgresql (tests/run-all.sh does)")
        .map(|e| e.unwrap().path().join("bin"))
        .filter(|b| b.join("initdb").exists())
        .collect();
    found.sort();
    found
        .pop()
        .expect("no /usr/lib/postgresql/*/bin/initdb: apt-get install postgresql")
}

/// Run a command as the `postgres` user when we are root (PostgreSQL refuses to run as root).
fn as_postgres(bin: &Path, args: &[&str]) -> Command {
    if unsafe_is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin).args(args);
        c
    } else {
        let mut c = Command::new(bin);
        c.args(args);
        c
    }
}

fn unsafe_is_root() -> bool {
    let o = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&o.stdout).trim() == "0"
}

/// Redis and PostgreSQL on loopback, for the whole file; stopped when dropped.
struct Services {
    dir: tempfile::TempDir,
    redis: Child,
    redis_port: u16,
    pg_port: u16,
    pg_data: PathBuf,
    databases: u32,
}

impl Services {
    fn start() -> Services {
        let dir = tempfile::tempdir().unwrap();
        let redis_port = free_port();
        let redis = Command::new("redis-server")
            .args(["--port", &redis_port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is not installed: apt-get install redis-server");
        let pg_root = dir.path().join("pg");
        std::fs::create_dir(&pg_root).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        if unsafe_is_root() {
            assert!(
                Command::new("chown")
                    .args(["postgres"])
                    .arg(&pg_root)
                    .status()
                    .unwrap()
                    .success()
            );
        }
        let pg_data = pg_root.join("data");
        let bin = pg_bin();
        let pg_port = free_port();
        let st = as_postgres(
            &bin.join("initdb"),
            &[
                "-D",
                pg_data.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "postgres",
            ],
        )
        .stdout(Stdio::null())
        .status()
        .unwrap();
        assert!(st.success(), "initdb failed");
        let opts = format!(
            "-p {pg_port} -k {} -c listen_addresses=127.0.0.1",
            pg_root.display()
        );
        let log = pg_root.join("log");
        let st = as_postgres(
            &bin.join("pg_ctl"),
            &[
                "-D",
                pg_data.to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-o",
                &opts,
                "-w",
                "start",
            ],
        )
        .stdout(Stdio::null())
        .status()
        .unwrap();
        assert!(st.success(), "PostgreSQL did not start");
        // Redis answers once it listens.
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", redis_port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Services {
            dir,
            redis,
            redis_port,
            pg_port,
            pg_data,
            databases: 0,
        }
    }

    /// A fresh RSTUF: Redis emptied, a new database with the worker's tables, new storage.
    fn fresh(&mut self, work: &Path) -> Rstuf {
        self.databases += 1;
        let db = format!("rstuf{}", self.databases);
        let st = Command::new("redis-cli")
            .args(["-p", &self.redis_port.to_string(), "flushall"])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(st.success(), "redis-cli flushall failed");
        let st = as_postgres(
            &pg_bin().join("createdb"),
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &self.pg_port.to_string(),
                "-U",
                "postgres",
                &db,
            ],
        )
        .status()
        .unwrap();
        assert!(st.success(), "createdb failed");
        for sub in ["storage", "keys", "data"] {
            std::fs::create_dir_all(work.join(sub)).unwrap();
        }
        let r = Rstuf {
            work: work.to_path_buf(),
            redis_port: self.redis_port,
            db_url: format!("postgresql://postgres@127.0.0.1:{}/{db}", self.pg_port),
        };
        r.ok(&["migrate"]);
        r
    }
}

impl Drop for Services {
    fn drop(&mut self) {
        let _ = self.redis.kill();
        let _ = self.redis.wait();
        let _ = as_postgres(
            &pg_bin().join("pg_ctl"),
            &[
                "-D",
                self.pg_data.to_str().unwrap(),
                "-m",
                "immediate",
                "stop",
            ],
        )
        .stdout(Stdio::null())
        .status();
        let _ = &self.dir;
    }
}

/// One RSTUF instance: the driver with its environment.
struct Rstuf {
    work: PathBuf,
    redis_port: u16,
    db_url: String,
}

impl Rstuf {
    fn driver(&self, args: &[&str]) -> Outcome {
        let mut c = Command::new(rstuf_python());
        c.arg(repo_root().join("tests/interop/rstuf/driver.py"))
            .args(args)
            .current_dir(&self.work)
            .env("RSTUF_API_SRC", rstuf_src("repository-service-tuf-api"))
            .env(
                "RSTUF_WORKER_SRC",
                rstuf_src("repository-service-tuf-worker"),
            )
            .env("RSTUF_REDIS_SERVER", "redis://127.0.0.1")
            .env("RSTUF_REDIS_SERVER_PORT", self.redis_port.to_string())
            .env(
                "RSTUF_BROKER_SERVER",
                format!("redis://127.0.0.1:{}/2", self.redis_port),
            )
            .env("RSTUF_DB_SERVER", &self.db_url)
            .env("RSTUF_STORAGE_BACKEND", "LocalStorage")
            .env(
                "RSTUF_LOCAL_STORAGE_BACKEND_PATH",
                self.work.join("storage"),
            )
            .env("RSTUF_ONLINE_KEY_DIR", self.work.join("keys"))
            .env("DATA_DIR", self.work.join("data"));
        run(&mut c)
    }

    fn ok(&self, args: &[&str]) -> String {
        let o = self.driver(args);
        assert_eq!(
            o.code, 0,
            "driver {args:?}:\nstdout:\n{}\nstderr:\n{}",
            o.stdout, o.stderr
        );
        o.stdout
    }
}

fn ok(o: Outcome) -> Outcome {
    assert_eq!(o.code, 0, "stdout:\n{}\nstderr:\n{}", o.stdout, o.stderr);
    o
}

/// `pubfile` with RSTUF's online-key fields added, written to `out`, by
/// `conclave rstuf online-key`.
fn with_uri(d: &Path, pubfile: &str, uri: &str, out: &str) {
    let o = ok(conclave_in(
        d,
        &[
            "rstuf",
            "online-key",
            pubfile,
            "--uri",
            uri,
            "--name",
            "online",
            "-o",
            out,
        ],
        "",
    ));
    assert!(o.stderr.contains("x-rstuf-online-key-uri"), "{}", o.stderr);
    let key = std::fs::read_to_string(d.join(out)).unwrap();
    assert!(key.contains("\"x-rstuf-key-name\": \"online\""), "{key}");
    // Never over an existing file.
    let o = conclave_in(
        d,
        &["rstuf", "online-key", pubfile, "--uri", uri, "-o", out],
        "",
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    let o = conclave_in(
        d,
        &[
            "rstuf",
            "online-key",
            pubfile,
            "--uri",
            "file:/k",
            "-o",
            "x.pub",
        ],
        "",
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains("not a URI of the schemes"),
        "{}",
        o.stderr
    );
    assert!(!d.join("x.pub").exists());
}

/// Two root officers' key files (r1, r2) and root v1 (2 of 2) in `d/repo`, with targets,
/// snapshot and timestamp on the online key `online.pub` — the rstuf profile.
fn rstuf_root(d: &Path, online: &str) {
    for k in ["r1", "r2"] {
        let o = generate_key_file(d, k, PASS);
        std::fs::write(d.join(format!("{k}.pub")), o.stdout).unwrap();
    }
    let (ko, ks, kt) = (
        format!("targets={online}"),
        format!("snapshot={online}"),
        format!("timestamp={online}"),
    );
    ok(conclave_in(
        d,
        &[
            "root",
            "init",
            "--key",
            "root=r1.pub",
            "--key",
            "root=r2.pub",
            "--key",
            &ko,
            "--key",
            &ks,
            "--key",
            &kt,
            "--threshold",
            "root=2",
            "--expires",
            "365d",
            "-o",
            "draft.json",
        ],
        "",
    ));
    for k in ["r1", "r2"] {
        ok(conclave_in(
            d,
            &[
                "sign",
                "draft.json",
                "--key",
                &format!("{k}.key"),
                "--passphrase-fd",
                "0",
                "-o",
                &format!("{k}.sig"),
            ],
            &format!("{PASS}\n"),
        ));
    }
    std::fs::create_dir_all(d.join("repo")).unwrap();
    ok(conclave_in(
        d,
        &[
            "merge",
            "draft.json",
            "r1.sig",
            "r2.sig",
            "-o",
            "repo/1.root.json",
        ],
        "",
    ));
}

/// conclave's payload bootstraps the real worker; what RSTUF then publishes verifies in
/// python-tuf from conclave's 1.root.json, and a target RSTUF published downloads.
fn bootstrap_publish_and_client(services: &mut Services) {
    let work = tempfile::tempdir().unwrap();
    let d = work.path();
    let rstuf = services.fresh(d);
    rstuf.ok(&["online-key", "online", "online-bare.pub"]);
    with_uri(d, "online-bare.pub", "fn:online", "online.pub");
    rstuf_root(d, "online.pub");
    ok(conclave_in(
        d,
        &["export", "repo", "-o", "bundle", "--format", "rstuf"],
        "",
    ));
    // The same repository always gives the same bytes.
    ok(conclave_in(
        d,
        &["export", "repo", "-o", "bundle2", "--format", "rstuf"],
        "",
    ));
    for f in ["rstuf/bootstrap.json", "SHA256SUMS"] {
        assert_eq!(
            std::fs::read(d.join("bundle").join(f)).unwrap(),
            std::fs::read(d.join("bundle2").join(f)).unwrap()
        );
    }
    rstuf.ok(&["validate", "bundle/rstuf/bootstrap.json"]);
    let out = rstuf.ok(&["bootstrap", "bundle/rstuf/bootstrap.json"]);
    assert!(out.contains("Bootstrap finished"), "{out}");
    std::fs::write(d.join("pkg.txt"), b"a package RSTUF published\n").unwrap();
    rstuf.ok(&["publish", "packages/pkg-1.0.txt", "pkg.txt"]);
    let out = rstuf.ok(&[
        "client",
        "repo/1.root.json",
        "packages/pkg-1.0.txt",
        "pkg.txt",
    ]);
    assert!(out.contains("\"ok\": true"), "{out}");
    other_clients_on_what_rstuf_published(d);
    // A root RSTUF published under another root does not load: the client checks for real.
    let o = rstuf.driver(&["client", "draft.json", "packages/pkg-1.0.txt", "pkg.txt"]);
    assert_ne!(
        o.code, 0,
        "an unsigned root must not be trusted:\n{}",
        o.stdout
    );
}

/// tuf-js loads what RSTUF published from conclave's 1.root.json and finds the target with
/// the bytes published; tough refuses the root, as `verify --clients tough` predicts: its
/// keyid covers the whole key object, RSTUF's `x-rstuf-online-key-uri` included.
fn other_clients_on_what_rstuf_published(d: &Path) {
    let storage = d.join("storage");
    let artifacts = d.join("artifacts/packages");
    std::fs::create_dir_all(&artifacts).unwrap();
    std::fs::copy(d.join("pkg.txt"), artifacts.join("pkg-1.0.txt")).unwrap();
    let (node, script) = node_verifier();
    let o = run(Command::new(node)
        .arg(script)
        .arg(&storage)
        .arg("--root")
        .arg(d.join("repo/1.root.json"))
        .arg("--target")
        .arg("packages/pkg-1.0.txt")
        .arg("--artifacts")
        .arg(d.join("artifacts")));
    assert_eq!(o.code, 0, "tuf-js:\n{}\n{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("packages/pkg-1.0.txt"), "{}", o.stdout);
    // A byte changed in what RSTUF published: tuf-js refuses it (the check is real).
    let copy = d.join("storage-tampered");
    std::fs::create_dir(&copy).unwrap();
    for e in std::fs::read_dir(&storage).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), copy.join(e.file_name())).unwrap();
    }
    let ts = copy.join("timestamp.json");
    let mut v = conclave::cjson::parse(&std::fs::read(&ts).unwrap()).unwrap();
    if let conclave::cjson::Value::Object(m) = &mut v
        && let Some(conclave::cjson::Value::Object(signed)) = m.get_mut("signed")
    {
        signed.insert("x-tampered".into(), conclave::cjson::Value::Int(1));
    } else {
        panic!("timestamp.json has no signed object");
    }
    std::fs::write(&ts, conclave::cjson::to_pretty(&v)).unwrap();
    let (node, script) = node_verifier();
    let o = run(Command::new(node)
        .arg(script)
        .arg(&copy)
        .arg("--root")
        .arg(d.join("repo/1.root.json"))
        .arg("--target")
        .arg("packages/pkg-1.0.txt"));
    assert_ne!(
        o.code, 0,
        "tuf-js accepted a tampered timestamp:\n{}",
        o.stdout
    );
    // tough: 1.root.json in the directory is its trust anchor.
    let (o, v) = tough(&storage, &["packages/pkg-1.0.txt"], None);
    assert_eq!(
        o.code, 1,
        "tough loaded an rstuf-profile root:\n{}",
        o.stdout
    );
    assert!(o.stdout.contains("Invalid key ID"), "{}", o.stdout);
    assert_eq!(
        v.get("verdict").and_then(conclave::cjson::Value::as_str),
        Some("invalid")
    );
    // conclave's lint says so (exit 1: a client that must load it would not).
    let lint = conclave_in(
        d,
        &["verify", "storage", "--clients", "tough", "--json"],
        "",
    );
    assert_eq!(lint.code, 1, "{}", lint.stderr);
    assert!(
        lint.stdout.contains("\"quirk\": \"keyid-over-whole-key\""),
        "{}",
        lint.stdout
    );
}

/// A root without the online key's URI is refused by conclave before anything is written;
/// the same root given to RSTUF as-is (shown with the driver) fails in the worker.
fn refusal_matches_what_the_worker_does(services: &mut Services) {
    let work = tempfile::tempdir().unwrap();
    let d = work.path();
    let rstuf = services.fresh(d);
    rstuf.ok(&["online-key", "online", "online.pub"]);
    rstuf_root(d, "online.pub");
    let o = conclave_in(
        d,
        &["export", "repo", "-o", "bundle", "--format", "rstuf"],
        "",
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stderr.contains("x-rstuf-online-key-uri"), "{}", o.stderr);
    assert!(!d.join("bundle").exists());
    // What the old export wrote for such a root: RSTUF's API takes it, the worker cannot sign.
    ok(conclave_in(d, &["export", "repo", "-o", "plain"], ""));
    raw_bootstrap(d, "plain/1.root.json", "raw.json");
    rstuf.ok(&["validate", "raw.json"]);
    let o = rstuf.driver(&["bootstrap", "raw.json"]);
    assert_ne!(
        o.code, 0,
        "the worker ran a root without the URI:\n{}",
        o.stdout
    );
}

/// A bootstrap payload for the root in `root` (bins, RSTUF's defaults but 4 bins), written to
/// `out` as RSTUF's CLI would write it: how a partly signed root reaches RSTUF, which export
/// (verified repositories only) never writes.
fn raw_bootstrap(d: &Path, root: &str, out: &str) {
    let root = conclave::cjson::parse(&std::fs::read(d.join(root)).unwrap()).unwrap();
    let payload = format!(
        "{{\"settings\": {{\"roles\": {{\"root\": {{\"expiration\": 365}}, \"targets\": \
         {{\"expiration\": 365}}, \"snapshot\": {{\"expiration\": 1}}, \"timestamp\": \
         {{\"expiration\": 1}}, \"bins\": {{\"expiration\": 1, \"number_of_delegated_bins\": 4}}}}}}, \
         \"metadata\": {{\"root\": {}}}}}",
        String::from_utf8(conclave::cjson::to_canonical(&root)).unwrap()
    );
    std::fs::write(d.join(out), payload).unwrap();
}

/// A root update payload (`{"metadata": {"root": ...}}`) for the root in `root`.
fn raw_update(d: &Path, root: &str, out: &str) {
    let root = conclave::cjson::parse(&std::fs::read(d.join(root)).unwrap()).unwrap();
    let payload = format!(
        "{{\"metadata\": {{\"root\": {}}}}}",
        String::from_utf8(conclave::cjson::to_canonical(&root)).unwrap()
    );
    std::fs::write(d.join(out), payload).unwrap();
}

/// `conclave sign FILE --key K.key -o OUT` (with more args).
fn sign_as(d: &Path, file: &str, key: &str, out: &str, more: &[&str]) {
    let k = format!("{key}.key");
    let mut args = vec!["sign", file, "--key", &k, "--passphrase-fd", "0", "-o", out];
    args.extend_from_slice(more);
    ok(conclave_in(d, &args, &format!("{PASS}\n")));
}

/// `conclave rstuf sign PENDING --key K.key -o OUT` (with more args).
fn rstuf_sign(d: &Path, pending: &str, key: &str, out: &str, more: &[&str]) -> Outcome {
    let k = format!("{key}.key");
    let mut args = vec![
        "rstuf",
        "sign",
        pending,
        "--key",
        &k,
        "--passphrase-fd",
        "0",
        "-o",
        out,
    ];
    args.extend_from_slice(more);
    conclave_in(d, &args, &format!("{PASS}\n"))
}

fn root_version(client_out: &str) -> u64 {
    let last = client_out.trim().lines().last().unwrap_or_default();
    let v = conclave::cjson::parse(last.as_bytes()).unwrap();
    match v.get("root_version") {
        Some(conclave::cjson::Value::Int(n)) => *n as u64,
        other => panic!("no root_version in {client_out}: {other:?}"),
    }
}

/// DAS (issue 20): RSTUF holds a bootstrap root one of two officers signed; the second signs
/// with `conclave rstuf sign` and the worker's sign_metadata finalises the bootstrap. Then the
/// root rotates twice through the worker's metadata update: version 2 with export's
/// `rstuf/update-2.json` (fully signed), version 3 partly signed and finished by
/// `conclave rstuf sign` against the root in use. python-tuf follows the whole chain from
/// conclave's 1.root.json.
fn das_bootstrap_and_root_rotations(services: &mut Services) {
    let work = tempfile::tempdir().unwrap();
    let d = work.path();
    let rstuf = services.fresh(d);
    rstuf.ok(&["online-key", "online", "online-bare.pub"]);
    with_uri(d, "online-bare.pub", "fn:online", "online.pub");
    rstuf_root(d, "online.pub");
    // Only r1's signature goes to RSTUF: the bootstrap waits for r2's.
    ok(conclave_in(
        d,
        &[
            "merge",
            "draft.json",
            "r1.sig",
            "--allow-partial",
            "-o",
            "partial.json",
        ],
        "",
    ));
    raw_bootstrap(d, "partial.json", "bootstrap.json");
    let out = rstuf.ok(&["bootstrap", "bootstrap.json"]);
    assert!(out.contains("pending signature"), "{out}");
    // The DAS round happens in a ceremony directory, whose transcript records it.
    std::fs::create_dir(d.join("cer")).unwrap();
    ok(conclave_in(
        d,
        &["transcript", "note", "cer", "--step", "DAS round"],
        "",
    ));
    rstuf.ok(&["pending", "cer/pending.json"]);

    // r2 signs with conclave. The worker checks for real: the same body with one hex digit of
    // the signature changed is refused.
    let o = rstuf_sign(d, "cer/pending.json", "r2", "cer/body.json", &[]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    for needle in [
        "You are about to sign pending role root version 1",
        "Payload digest",
        "root v1 (its own keys): 1 of 2 needed have signed",
        "Wrote the signature by",
    ] {
        assert!(
            o.stderr.contains(needle),
            "missing {needle:?}:\n{}",
            o.stderr
        );
    }
    let body = String::from_utf8(std::fs::read(d.join("cer/body.json")).unwrap()).unwrap();
    let v = conclave::cjson::parse(body.as_bytes()).unwrap();
    let sig = v
        .get("signature")
        .and_then(|s| s.get("sig"))
        .and_then(|s| s.as_str())
        .unwrap()
        .to_owned();
    let flipped = format!(
        "{}{}",
        if sig.starts_with('0') { "1" } else { "0" },
        &sig[1..]
    );
    std::fs::write(d.join("forged.json"), body.replace(&sig, &flipped)).unwrap();
    let o = rstuf.driver(&["sign", "forged.json"]);
    assert_ne!(
        o.code, 0,
        "the worker took a forged signature:\n{}",
        o.stdout
    );
    assert!(o.stdout.contains("Invalid signature"), "{}", o.stdout);
    // An existing payload is never replaced.
    let o = rstuf_sign(d, "cer/pending.json", "r2", "cer/body.json", &[]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert_eq!(
        std::fs::read_to_string(d.join("cer/body.json")).unwrap(),
        body
    );

    let t = std::fs::read_to_string(d.join("cer/transcript.jsonl")).unwrap();
    assert!(t.contains("rstuf sign root v1"), "{t}");
    let out = rstuf.ok(&["sign", "cer/body.json"]);
    assert!(out.contains("Bootstrap Finished"), "{out}");
    std::fs::write(d.join("pkg.txt"), b"published after DAS\n").unwrap();
    rstuf.ok(&["publish", "packages/pkg-1.0.txt", "pkg.txt"]);
    let out = rstuf.ok(&[
        "client",
        "repo/1.root.json",
        "packages/pkg-1.0.txt",
        "pkg.txt",
    ]);
    assert_eq!(root_version(&out), 1);

    // Root v2 (r3 joins, 2 of 3), fully signed, through export's update payload.
    let o = generate_key_file(d, "r3", PASS);
    std::fs::write(d.join("r3.pub"), o.stdout).unwrap();
    ok(conclave_in(
        d,
        &[
            "root",
            "rotate",
            "repo/1.root.json",
            "--add-key",
            "root=r3.pub",
            "--threshold",
            "root=2",
            "-o",
            "v2.json",
        ],
        "",
    ));
    for k in ["r1", "r2", "r3"] {
        let out = format!("v2.{k}.sig");
        sign_as(d, "v2.json", k, &out, &["--previous", "repo/1.root.json"]);
    }
    ok(conclave_in(
        d,
        &[
            "merge",
            "v2.json",
            "v2.r1.sig",
            "v2.r2.sig",
            "v2.r3.sig",
            "--previous",
            "repo/1.root.json",
            "-o",
            "repo/2.root.json",
        ],
        "",
    ));
    ok(conclave_in(
        d,
        &["export", "repo", "-o", "bundle", "--format", "rstuf"],
        "",
    ));
    let out = rstuf.ok(&["update", "bundle/rstuf/update-2.json"]);
    assert!(!out.contains("pending"), "{out}");
    let out = rstuf.ok(&[
        "client",
        "repo/1.root.json",
        "packages/pkg-1.0.txt",
        "pkg.txt",
    ]);
    assert_eq!(root_version(&out), 2, "{out}");

    // Root v3 (r1 leaves; r2 and r3, 2 of 2), signed by r2 only: RSTUF holds it pending, and
    // r3 signs it with conclave against the root in use.
    let r1 = conclave::metadata::Key::from_json(
        conclave::cjson::parse(&std::fs::read(d.join("r1.pub")).unwrap()).unwrap(),
    )
    .unwrap()
    .keyid();
    let remove = format!("root={}", r1.to_raw_string());
    ok(conclave_in(
        d,
        &[
            "root",
            "rotate",
            "repo/2.root.json",
            "--remove-key",
            &remove,
            "-o",
            "v3.json",
        ],
        "",
    ));
    sign_as(
        d,
        "v3.json",
        "r2",
        "v3.r2.sig",
        &["--previous", "repo/2.root.json"],
    );
    ok(conclave_in(
        d,
        &[
            "merge",
            "v3.json",
            "v3.r2.sig",
            "--previous",
            "repo/2.root.json",
            "--allow-partial",
            "-o",
            "v3-partial.json",
        ],
        "",
    ));
    raw_update(d, "v3-partial.json", "update-3.json");
    let out = rstuf.ok(&["update", "update-3.json"]);
    assert!(out.contains("pending signatures"), "{out}");
    rstuf.ok(&["pending", "pending3.json"]);
    // Without the root in use, conclave does not sign a root update.
    let o = rstuf_sign(d, "pending3.json", "r3", "body3.json", &[]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("--trusted-root"), "{}", o.stderr);
    assert!(!d.join("body3.json").exists());
    let o = rstuf_sign(
        d,
        "pending3.json",
        "r3",
        "body3.json",
        &["--trusted-root", "repo/2.root.json"],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stderr.contains("Changes since version 2"), "{}", o.stderr);
    let out = rstuf.ok(&["sign", "body3.json"]);
    assert!(out.contains("Metadata update finished"), "{out}");
    let out = rstuf.ok(&[
        "client",
        "repo/1.root.json",
        "packages/pkg-1.0.txt",
        "pkg.txt",
    ]);
    assert_eq!(root_version(&out), 3, "{out}");
}

/// A custom delegation (PEP 480's claimed, offline) through DAS: RSTUF bootstraps with
/// `claimed` delegated to r1's key, holds claimed v1 pending, and r1 signs it with
/// `conclave rstuf sign --trusted-root 1.root.json`, which checks RSTUF's
/// targets (the delegator) against the root first; the worker's sign_metadata finishes it.
fn das_custom_delegation(services: &mut Services) {
    let work = tempfile::tempdir().unwrap();
    let d = work.path();
    let rstuf = services.fresh(d);
    rstuf.ok(&["online-key", "online", "online-bare.pub"]);
    with_uri(d, "online-bare.pub", "fn:online", "online.pub");
    rstuf_root(d, "online.pub");
    let r1 = conclave::cjson::parse(&std::fs::read(d.join("r1.pub")).unwrap()).unwrap();
    let r1_id = conclave::metadata::Key::from_json(r1.clone())
        .unwrap()
        .keyid()
        .to_raw_string();
    let root = conclave::cjson::parse(&std::fs::read(d.join("repo/1.root.json")).unwrap()).unwrap();
    let canon =
        |v: &conclave::cjson::Value| String::from_utf8(conclave::cjson::to_canonical(v)).unwrap();
    let payload = format!(
        "{{\"settings\": {{\"roles\": {{\"root\": {{\"expiration\": 365}}, \"targets\": \
         {{\"expiration\": 365}}, \"snapshot\": {{\"expiration\": 1}}, \"timestamp\": \
         {{\"expiration\": 1}}, \"delegations\": {{\"keys\": {{\"{r1_id}\": {}}}, \"roles\": \
         [{{\"name\": \"claimed\", \"terminating\": true, \"keyids\": [\"{r1_id}\"], \
         \"threshold\": 1, \"paths\": [\"claimed/*\"], \"x-rstuf-expire-policy\": 90}}]}}}}}}, \
         \"metadata\": {{\"root\": {}}}}}",
        canon(&r1),
        canon(&root)
    );
    std::fs::write(d.join("bootstrap.json"), payload).unwrap();
    rstuf.ok(&["validate", "bootstrap.json"]);
    let out = rstuf.ok(&["bootstrap", "bootstrap.json"]);
    assert!(out.contains("Bootstrap finished"), "{out}");
    rstuf.ok(&["pending", "pending.json"]);
    // A delegation is checked against its delegator, itself checked against the root in use.
    let o = rstuf_sign(d, "pending.json", "r1", "claimed.json", &[]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("--trusted-root"), "{}", o.stderr);
    let mut args = vec!["--trusted-root", "repo/1.root.json"];
    // RSTUF 1.0 parks claimed v1 with python-tuf's default expiry (the moment it was made):
    // conclave says so and signs it only when told.
    let o = rstuf_sign(d, "pending.json", "r1", "claimed.json", &args);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stderr.contains("expired"), "{}", o.stderr);
    assert!(!d.join("claimed.json").exists());
    args.push("--allow-expired");
    let o = rstuf_sign(d, "pending.json", "r1", "claimed.json", &args);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("You are about to sign pending role claimed version 1"),
        "{}",
        o.stderr
    );
    // r2 is a root key, not a claimed key: refused before any passphrase.
    let o = rstuf_sign(d, "pending.json", "r2", "r2-claimed.json", &args);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr.contains("may not sign role claimed"),
        "{}",
        o.stderr
    );
    let out = rstuf.ok(&["sign", "claimed.json"]);
    assert!(out.contains("Role claimed signing complete"), "{out}");
}

/// `ceremony rehearse --online rstuf`: its bootstrap payload bootstraps the real worker with
/// the online key it leaves in DIR/rstuf-online-keys/, its update payload rotates the root,
/// and what RSTUF publishes verifies in python-tuf from the rehearsal's 1.root.json.
fn rstuf_rehearsal_runs_in_the_worker(services: &mut Services) {
    let work = tempfile::tempdir().unwrap();
    let d = work.path();
    let rstuf = services.fresh(d);
    let o = ok(conclave_in(
        d,
        &["ceremony", "rehearse", "-o", "reh", "--online", "rstuf"],
        "",
    ));
    assert!(o.stdout.contains("RSTUF payloads in"), "{}", o.stdout);
    let list = std::fs::read_to_string(d.join("reh/keys/REHEARSAL-PASSPHRASES.txt")).unwrap();
    assert!(list.lines().any(|l| l.starts_with("alice-root ")), "{list}");
    // The worker's RSTUF_ONLINE_KEY_DIR is work/keys here: the rehearsal's key goes there
    // under the name its root gives (fn:online).
    std::fs::copy(
        d.join("reh/rstuf-online-keys/online"),
        d.join("keys/online"),
    )
    .unwrap();
    rstuf.ok(&["validate", "reh/bundle/rstuf/bootstrap.json"]);
    let out = rstuf.ok(&["bootstrap", "reh/bundle/rstuf/bootstrap.json"]);
    assert!(out.contains("Bootstrap finished"), "{out}");
    let out = rstuf.ok(&["update", "reh/bundle/rstuf/update-2.json"]);
    assert!(!out.contains("pending"), "{out}");
    rehearsal_claimed_through_das(d, &rstuf);
    let out = rstuf.ok(&[
        "client",
        "reh/bundle/1.root.json",
        "packages/pkg-1.0.txt",
        "pkg.txt",
    ]);
    assert_eq!(root_version(&out), 2, "{out}");
}

/// The rehearsal's bootstrap carries the plan's [pypi] as custom delegations: RSTUF holds
/// claimed pending, and a rehearsal claimed key signs it with `conclave rstuf sign` (its
/// passphrase from REHEARSAL-PASSPHRASES.txt) until the worker finishes it.
fn rehearsal_claimed_through_das(d: &Path, rstuf: &Rstuf) {
    let boot = std::fs::read_to_string(d.join("reh/bundle/rstuf/bootstrap.json")).unwrap();
    for role in ["claimed", "recently-claimed", "unclaimed"] {
        assert!(boot.contains(&format!("\"name\": \"{role}\"")), "{boot}");
    }
    assert!(boot.contains("\"x-rstuf-expire-policy\": 90"), "{boot}");
    assert!(!boot.contains("number_of_delegated_bins"), "{boot}");
    let summary = std::fs::read_to_string(d.join("reh/bundle/SUMMARY.txt")).unwrap();
    assert!(
        summary.contains("RSTUF holds claimed pending for offline signatures"),
        "{summary}"
    );
    // RSTUF 1.0 parks claimed v1 expired (python-tuf's default expiry). It puts each new
    // artifact into the first delegated role whose paths match, claimed, and then holds a
    // claimed with the artifact and x-rstuf-expire-policy's expiry pending: that one the
    // claimed key holders sign.
    std::fs::write(d.join("pkg.txt"), b"rehearsal package\n").unwrap();
    rstuf.ok(&["publish", "packages/pkg-1.0.txt", "pkg.txt"]);
    rstuf.ok(&["pending", "pending.json"]);
    let pending = std::fs::read_to_string(d.join("pending.json")).unwrap();
    assert!(pending.contains("\"claimed\""), "{pending}");
    assert!(pending.contains("packages/pkg-1.0.txt"), "{pending}");
    let list = std::fs::read_to_string(d.join("reh/keys/REHEARSAL-PASSPHRASES.txt")).unwrap();
    let pass = list
        .lines()
        .find_map(|l| l.strip_prefix("alice-claimed "))
        .unwrap_or_else(|| panic!("no alice-claimed passphrase in {list}"));
    let o = conclave_in(
        d,
        &[
            "rstuf",
            "sign",
            "pending.json",
            "--role",
            "claimed",
            "--trusted-root",
            "reh/bundle/2.root.json",
            "--key",
            "reh/keys/alice-claimed.key",
            "--passphrase-fd",
            "0",
            "-o",
            "claimed.alice.json",
        ],
        &format!("{pass}\n"),
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("  packages/pkg-1.0.txt  18 bytes, sha256 "),
        "{}",
        o.stderr
    );
    let out = rstuf.ok(&["sign", "claimed.alice.json"]);
    assert!(out.contains("Role claimed signing complete"), "{out}");
}

#[test]
fn conclave_and_the_real_rstuf() {
    let mut services = Services::start();
    bootstrap_publish_and_client(&mut services);
    refusal_matches_what_the_worker_does(&mut services);
    das_bootstrap_and_root_rotations(&mut services);
    das_custom_delegation(&mut services);
    rstuf_rehearsal_runs_in_the_worker(&mut services);
}

/// The PEP 458 layout (offline targets, distinct snapshot and timestamp keys, no URI) is
/// refused for RSTUF with every reason and its fix; `--format plain` still exports it.
#[test]
fn export_refuses_a_pep458_root_for_rstuf_naming_each_problem() {
    let work = tempfile::tempdir().unwrap();
    let repo = work.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    build_pypi_repo(&repo, 3);
    let o = conclave_in(
        work.path(),
        &["export", "repo", "-o", "b", "--format", "rstuf"],
        "",
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    for needle in [
        "RSTUF 1.0 cannot run this root",
        "role targets",
        "snapshot and timestamp",
        "x-rstuf-online-key-uri",
        "#244",
        "docs/rstuf.md",
    ] {
        assert!(
            o.stderr.contains(needle),
            "missing {needle:?} in:\n{}",
            o.stderr
        );
    }
    assert!(!work.path().join("b").exists());
    ok(conclave_in(work.path(), &["export", "repo", "-o", "p"], ""));
}

/// The plan's rstuf profile: `ceremony check` passes what RSTUF 1.0 runs, reading aloud what
/// it gives up, and refuses, with the reason, an online key without its URI.
#[test]
fn ceremony_check_explains_and_enforces_the_rstuf_profile() {
    let work = tempfile::tempdir().unwrap();
    let d = work.path();
    for k in ["r1", "r2", "online"] {
        let o = generate_key_file(d, k, PASS);
        std::fs::write(d.join(format!("{k}-bare.pub")), o.stdout).unwrap();
    }
    with_uri(d, "online-bare.pub", "fn:online", "online.pub");
    let plan = |online_pub: &str| {
        format!(
            "[ceremony]\nformat = 1\nname = \"rstuf\"\nprofile = \"rstuf\"\n\n\
             [officers.alice]\nname = \"Alice\"\n[officers.bob]\nname = \"Bob\"\n\n\
             [keys.alice-root]\nofficer = \"alice\"\nsource = \"key-file\"\npublic_key = \"r1-bare.pub\"\n\
             [keys.bob-root]\nofficer = \"bob\"\nsource = \"key-file\"\npublic_key = \"r2-bare.pub\"\n\
             [keys.online]\nsource = \"online\"\npublic_key = \"{online_pub}\"\n\n\
             [roles.root]\nkeys = [\"alice-root\", \"bob-root\"]\nthreshold = 2\nexpires = \"365d\"\n\
             [roles.targets]\nkeys = [\"online\"]\n[roles.snapshot]\nkeys = [\"online\"]\n\
             [roles.timestamp]\nkeys = [\"online\"]\n"
        )
    };
    std::fs::write(d.join("plan.toml"), plan("online.pub")).unwrap();
    let o = ok(conclave_in(d, &["ceremony", "check", "plan.toml"], ""));
    assert!(o.stdout.contains("Profile rstuf"), "{}", o.stdout);
    assert!(
        o.stderr.contains("targets is signed online") && o.stderr.contains("#244"),
        "{}",
        o.stderr
    );
    std::fs::write(d.join("bare.toml"), plan("online-bare.pub")).unwrap();
    let o = conclave_in(d, &["ceremony", "check", "bare.toml"], "");
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("carries no usable x-rstuf-online-key-uri, so RSTUF's worker could not sign"),
        "{}",
        o.stderr
    );
    // Genesis in the rstuf profile drafts root v1 only; signed and merged as its tasks say,
    // it exports for RSTUF.
    let o = ok(conclave_in(
        d,
        &[
            "ceremony",
            "genesis",
            "plan.toml",
            "-o",
            "cer",
            "--allow-network",
        ],
        "",
    ));
    assert!(o.stdout.contains("--format rstuf"), "{}", o.stdout);
    assert!(d.join("cer/drafts/1.root.json").is_file());
    assert!(!d.join("cer/drafts/1.targets.json").exists());
    for k in ["r1", "r2"] {
        let out = format!("cer/signatures/1.root.{k}.sig");
        sign_as(d, "cer/drafts/1.root.json", k, &out, &[]);
    }
    ok(conclave_in(
        d,
        &[
            "merge",
            "cer/drafts/1.root.json",
            "cer/signatures/1.root.r1.sig",
            "cer/signatures/1.root.r2.sig",
            "-o",
            "cer/repository/1.root.json",
        ],
        "",
    ));
    ok(conclave_in(
        d,
        &["export", "cer", "-o", "bundle", "--format", "rstuf"],
        "",
    ));
    assert!(d.join("bundle/rstuf/bootstrap.json").is_file());
    let t = std::fs::read_to_string(d.join("cer/transcript.jsonl")).unwrap();
    assert!(t.contains("(profile rstuf)"), "{t}");

    // The same layout as PEP 458 (the default profile): online targets are refused.
    std::fs::write(
        d.join("pep458.toml"),
        plan("online.pub").replace("profile = \"rstuf\"\n", ""),
    )
    .unwrap();
    let o = conclave_in(d, &["ceremony", "check", "pep458.toml"], "");
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("roles.targets"), "{}", o.stderr);
}
