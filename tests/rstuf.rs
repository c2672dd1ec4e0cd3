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

/// `pubfile` with RSTUF's online-key fields added, written to `out`.
fn with_uri(d: &Path, pubfile: &str, uri: &str, out: &str) {
    let v = conclave::cjson::parse(&std::fs::read(d.join(pubfile)).unwrap()).unwrap();
    let conclave::cjson::Value::Object(mut m) = v else {
        panic!("not a key")
    };
    m.insert(
        "x-rstuf-online-key-uri".into(),
        conclave::cjson::Value::String(uri.into()),
    );
    m.insert(
        "x-rstuf-key-name".into(),
        conclave::cjson::Value::String("online".into()),
    );
    std::fs::write(
        d.join(out),
        conclave::cjson::to_pretty(&conclave::cjson::Value::Object(m)),
    )
    .unwrap();
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
    // A root RSTUF published under another root does not load: the client checks for real.
    let o = rstuf.driver(&["client", "draft.json", "packages/pkg-1.0.txt", "pkg.txt"]);
    assert_ne!(
        o.code, 0,
        "an unsigned root must not be trusted:\n{}",
        o.stdout
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
    let root =
        conclave::cjson::parse(&std::fs::read(d.join("plain/1.root.json")).unwrap()).unwrap();
    let payload = format!(
        "{{\"settings\": {{\"roles\": {{\"root\": {{\"expiration\": 365}}, \"targets\": \
         {{\"expiration\": 365}}, \"snapshot\": {{\"expiration\": 1}}, \"timestamp\": \
         {{\"expiration\": 1}}, \"bins\": {{\"expiration\": 1, \"number_of_delegated_bins\": 4}}}}}}, \
         \"metadata\": {{\"root\": {}}}}}",
        String::from_utf8(conclave::cjson::to_canonical(&root)).unwrap()
    );
    std::fs::write(d.join("raw.json"), payload).unwrap();
    rstuf.ok(&["validate", "raw.json"]);
    let o = rstuf.driver(&["bootstrap", "raw.json"]);
    assert_ne!(
        o.code, 0,
        "the worker ran a root without the URI:\n{}",
        o.stdout
    );
}

#[test]
fn conclave_and_the_real_rstuf() {
    let mut services = Services::start();
    bootstrap_publish_and_client(&mut services);
    refusal_matches_what_the_worker_does(&mut services);
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
