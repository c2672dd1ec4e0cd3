//! Commands in a real pseudo-terminal (util-linux `script`, which tests/run-all.sh requires),
//! for tests that type at conclave's prompts as an officer would: /dev/tty is the pty, so the
//! terminal prompt (echo off, Ctrl-C as a key) is what runs.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A command running in a pseudo-terminal: what it has printed so far, and its keyboard.
pub struct Terminal {
    child: Child,
    keys: ChildStdin,
    screen: Arc<Mutex<String>>,
}

impl Terminal {
    /// Run `shell_command` with `sh -c` in a new pseudo-terminal (its controlling terminal,
    /// so /dev/tty is the pty), in `dir`.
    pub fn start(dir: &Path, shell_command: &str) -> Terminal {
        Terminal::start_with(dir, shell_command, &[])
    }

    /// [`Terminal::start`] with environment variables set (e.g. SOFTHSM2_CONF).
    pub fn start_with(dir: &Path, shell_command: &str, env: &[(&str, &Path)]) -> Terminal {
        let mut child = Command::new("script")
            // -q quiet, -f flush at once, -e the command's exit code, -c the command;
            // /dev/null: no typescript file.
            .args(["-qfec", shell_command, "/dev/null"])
            .current_dir(dir)
            .envs(env.iter().map(|(k, v)| (*k, *v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("`script` (util-linux) must be installed: tests/run-all.sh checks for it");
        let keys = child.stdin.take().unwrap();
        let mut out = child.stdout.take().unwrap();
        let screen = Arc::new(Mutex::new(String::new()));
        let s = Arc::clone(&screen);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 {
                    break;
                }
                s.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Terminal {
            child,
            keys,
            screen,
        }
    }

    pub fn screen(&self) -> String {
        self.screen.lock().unwrap().clone()
    }

    /// Wait until `text` has been printed `times` times in all.
    pub fn wait_for(&self, text: &str, times: usize) {
        let start = Instant::now();
        while self.screen().matches(text).count() < times {
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "waited 120 s for {text:?} (x{times}); the screen so far:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        // The prompt is printed just before the terminal is read: give conclave a moment to
        // be reading it (keys typed before are dropped, as type-ahead before a prompt should).
        std::thread::sleep(Duration::from_millis(300));
    }

    pub fn type_keys(&mut self, keys: &str) {
        self.keys.write_all(keys.as_bytes()).unwrap();
        self.keys.flush().unwrap();
    }

    /// Wait for the command to end; its exit code and everything it printed.
    pub fn finish(mut self) -> (i32, String) {
        let start = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "the command did not end; the screen so far:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        // Let the reader take the last output.
        std::thread::sleep(Duration::from_millis(200));
        let screen = self.screen();
        drop(self.keys);
        (status.code().unwrap_or(-1), screen)
    }
}
