//! A private SoftHSM2 installation for process-level tests (tests/hsm.rs, tests/yubikey.rs):
//! its own config and token directory, so tests run in parallel without seeing each other's
//! tokens. A missing SoftHSM fails the test loudly: it is never skipped.

use std::path::PathBuf;
use std::process::Command;

use super::*;

pub const PIN: &str = "4711-rehearsal";
pub const SO_PIN: &str = "so-pin-12345678";

/// The SoftHSM2 module, wherever this distribution put it.
pub fn softhsm_module() -> PathBuf {
    if let Some(p) = std::env::var_os("CONCLAVE_TEST_PKCS11_MODULE") {
        return PathBuf::from(p);
    }
    let candidates = [
        "/usr/lib/softhsm/libsofthsm2.so",
        "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/local/lib/softhsm/libsofthsm2.so",
    ];
    if let Some(p) = candidates.iter().map(PathBuf::from).find(|p| p.is_file()) {
        return p;
    }
    // Other layouts: ask dpkg where the package put it.
    if let Ok(out) = Command::new("dpkg").args(["-L", "libsofthsm2"]).output() {
        let listing = String::from_utf8_lossy(&out.stdout);
        if let Some(line) = listing.lines().find(|l| l.ends_with("/libsofthsm2.so")) {
            return PathBuf::from(line);
        }
    }
    panic!(
        "SoftHSM2 is not installed (no libsofthsm2.so found): run `bash tests/run-all.sh`, \
         which installs it, or `apt-get install softhsm2`; or set CONCLAVE_TEST_PKCS11_MODULE. \
         The HSM tests are never skipped."
    );
}

/// A private SoftHSM2 installation: its own config and token directory.
pub struct Hsm {
    pub tmp: tempfile::TempDir,
    pub conf: PathBuf,
    pub module: PathBuf,
}

impl Hsm {
    pub fn new() -> Hsm {
        let module = softhsm_module();
        let tmp = tempfile::tempdir().unwrap();
        let tokens = tmp.path().join("tokens");
        std::fs::create_dir(&tokens).unwrap();
        std::fs::create_dir(tmp.path().join("work")).unwrap();
        let conf = tmp.path().join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .unwrap();
        Hsm { tmp, conf, module }
    }

    pub fn work(&self) -> PathBuf {
        self.tmp.path().join("work")
    }

    pub fn init_token(&self, label: &str) {
        let out = Command::new("softhsm2-util")
            .args(["--init-token", "--free", "--label", label])
            .args(["--so-pin", SO_PIN, "--pin", PIN])
            .env("SOFTHSM2_CONF", &self.conf)
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run softhsm2-util ({e}): install SoftHSM2 (`apt-get install \
                     softhsm2`; tests/run-all.sh does); the HSM tests are never skipped"
                )
            });
        assert!(
            out.status.success(),
            "softhsm2-util --init-token failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `pkcs11:` URI for `object` in `token`, with spaces percent-encoded.
    pub fn uri(&self, token: &str, object: &str) -> String {
        format!(
            "pkcs11:token={};object={}?module-path={}",
            token.replace(' ', "%20"),
            object.replace(' ', "%20"),
            self.module.display()
        )
    }

    /// Run conclave in the work directory with this HSM's config and `input` on stdin.
    pub fn conclave(&self, args: &[&str], input: &str) -> Outcome {
        run_with_stdin(
            conclave()
                .args(args)
                .current_dir(self.work())
                .env("SOFTHSM2_CONF", &self.conf),
            input,
        )
    }

    /// `key generate --pkcs11`, saving the public key to `pubfile`.
    pub fn generate(&self, token: &str, object: &str, key_type: &str, pubfile: &str) -> Outcome {
        let uri = self.uri(token, object);
        let o = self.conclave(
            &[
                "key",
                "generate",
                "--pkcs11",
                &uri,
                "--type",
                key_type,
                "--passphrase-fd",
                "0",
            ],
            &format!("{PIN}\n"),
        );
        assert_eq!(o.code, 0, "stdout:\n{}\nstderr:\n{}", o.stdout, o.stderr);
        std::fs::write(self.work().join(pubfile), &o.stdout).unwrap();
        o
    }

    pub fn sign(&self, uri: &str, pin: &str, out: &str) -> Outcome {
        self.conclave(
            &[
                "sign",
                "draft.json",
                "--pkcs11",
                uri,
                "--passphrase-fd",
                "0",
                "-o",
                out,
            ],
            &format!("{pin}\n"),
        )
    }

    pub fn listing(&self) -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<_> = std::fs::read_dir(self.work())
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    }

    /// One token "Root A" with an Ed25519 key "alice", and a draft root it may sign alone.
    pub fn with_draft(&self) {
        self.init_token("Root A");
        self.generate("Root A", "alice", "ed25519", "alice.pub");
        let o = self.conclave(
            &[
                "root",
                "init",
                "--key",
                "root=alice.pub",
                "--key",
                "targets=alice.pub",
                "--key",
                "snapshot=alice.pub",
                "--key",
                "timestamp=alice.pub",
                "--expires",
                "365d",
                "-o",
                "draft.json",
            ],
            "",
        );
        assert_eq!(o.code, 0, "stdout:\n{}\nstderr:\n{}", o.stdout, o.stderr);
    }
}
