//! A wrong passphrase at the terminal is asked for again (issue 19): conclave runs in a real
//! pseudo-terminal (util-linux `script`, which tests/run-all.sh requires), and the test types
//! at its prompts as an officer would. Ctrl-C at the prompt cancels and leaves the terminal
//! echoing.
//!
//! `--passphrase-fd` still fails at once (a script cannot type another): tested here too.

mod common;

use std::path::Path;

use common::pty::Terminal;
use common::*;

const PASS: &str = "correct horse battery staple";

/// A key file (fast Argon2 profile) and a draft root v1 whose every role it is.
fn key_and_draft(dir: &Path) {
    let o = generate_key_file(dir, "alice", PASS);
    std::fs::write(dir.join("alice.pub.json"), o.stdout).unwrap();
    let mut args = vec!["root", "init", "--expires", "30d", "-o", "draft.json"];
    for role in ["root", "targets", "snapshot", "timestamp"] {
        args.push("--key");
        args.push(Box::leak(format!("{role}=alice.pub.json").into_boxed_str()));
    }
    let o = conclave_in(dir, &args, "");
    assert_eq!(o.code, 0, "{}", o.stderr);
}

fn sign_command() -> String {
    format!(
        "{} sign draft.json --key alice.key -o sig.json",
        env!("CARGO_BIN_EXE_conclave")
    )
}

#[test]
fn a_mistyped_passphrase_is_asked_again_and_the_second_try_signs() {
    let dir = tempfile::tempdir().unwrap();
    key_and_draft(dir.path());
    let mut t = Terminal::start(dir.path(), &sign_command());
    t.wait_for("Passphrase for alice.key (to sign): ", 1);
    t.type_keys("not the passphrase\r");
    t.wait_for("Passphrase for alice.key (to sign): ", 2);
    let screen = t.screen();
    assert!(
        screen.contains(
            "alice.key: wrong passphrase, or the key file is damaged. Try again (2 more tries; \
             an empty answer cancels)."
        ),
        "{screen}"
    );
    // Nothing typed is echoed.
    assert!(!screen.contains("not the passphrase"), "{screen}");
    t.type_keys(&format!("{PASS}\r"));
    let (code, screen) = t.finish();
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("Wrote the signature by"), "{screen}");
    assert!(!screen.contains(PASS), "{screen}");
    assert!(dir.path().join("sig.json").is_file());
}

#[test]
fn three_wrong_passphrases_end_the_command_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    key_and_draft(dir.path());
    let mut t = Terminal::start(dir.path(), &sign_command());
    for n in 1..=3 {
        t.wait_for("Passphrase for alice.key (to sign): ", n);
        t.type_keys("wrong\r");
    }
    let (code, screen) = t.finish();
    assert_eq!(code, 1, "{screen}");
    assert!(screen.contains("1 more try;"), "{screen}");
    assert!(
        screen.contains("error: alice.key: wrong passphrase, or the key file is damaged"),
        "{screen}"
    );
    assert_eq!(
        screen
            .matches("Passphrase for alice.key (to sign): ")
            .count(),
        3,
        "{screen}"
    );
    assert!(!dir.path().join("sig.json").exists());
}

#[test]
fn ctrl_c_at_the_prompt_cancels_and_leaves_the_terminal_echoing() {
    let dir = tempfile::tempdir().unwrap();
    key_and_draft(dir.path());
    // The same terminal, after conclave: its exit code and the terminal's modes.
    let mut t = Terminal::start(
        dir.path(),
        &format!("{}; echo \"exit=$?\"; stty -a", sign_command()),
    );
    t.wait_for("Passphrase for alice.key (to sign): ", 1);
    t.type_keys("half a pass");
    t.type_keys("\x03");
    let (code, screen) = t.finish();
    assert_eq!(code, 0, "{screen}");
    assert!(
        screen.contains("exit=4"),
        "Ctrl-C is 'cancelled' (4):\n{screen}"
    );
    let modes = screen.split("exit=4").nth(1).unwrap();
    let words: Vec<&str> = modes.split_whitespace().collect();
    assert!(
        words.contains(&"echo") && !words.contains(&"-echo"),
        "the terminal must echo again after Ctrl-C:\n{modes}"
    );
    assert!(
        words.contains(&"icanon") && words.contains(&"isig"),
        "line editing and signal keys must be back:\n{modes}"
    );
    assert!(!dir.path().join("sig.json").exists());
}

#[test]
fn passphrase_fd_fails_at_once_on_a_wrong_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    key_and_draft(dir.path());
    // The right passphrase on the next line is never read: a script cannot type again.
    let o = conclave_in(
        dir.path(),
        &[
            "sign",
            "draft.json",
            "--key",
            "alice.key",
            "-o",
            "sig.json",
            "--passphrase-fd",
            "0",
        ],
        &format!("wrong\n{PASS}\n"),
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("error: alice.key: wrong passphrase, or the key file is damaged"),
        "{}",
        o.stderr
    );
    assert!(!o.stderr.contains("Try again"), "{}", o.stderr);
    assert_eq!(o.stderr.matches("Unlocking the key").count(), 1);
    assert!(!dir.path().join("sig.json").exists());
}

#[test]
fn a_mistyped_current_passphrase_is_asked_again_when_changing_it() {
    let dir = tempfile::tempdir().unwrap();
    key_and_draft(dir.path());
    let mut t = Terminal::start(
        dir.path(),
        &format!(
            "{} key change-passphrase alice.key -o alice2.key",
            env!("CARGO_BIN_EXE_conclave")
        ),
    );
    t.wait_for("Current passphrase for alice.key: ", 1);
    t.type_keys("not it\r");
    t.wait_for("Current passphrase for alice.key: ", 2);
    t.type_keys(&format!("{PASS}\r"));
    let new = "a new passphrase for alice, long enough to be strong";
    t.wait_for("New passphrase for alice2.key: ", 1);
    t.type_keys(&format!("{new}\r"));
    t.wait_for("Repeat the passphrase for alice2.key: ", 1);
    t.type_keys(&format!("{new}\r"));
    let (code, screen) = t.finish();
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("Try again (2 more tries"), "{screen}");
    assert!(dir.path().join("alice2.key").is_file());
}
