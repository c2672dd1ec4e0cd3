//! Secret values: passphrases, PINs, private key bytes.
//!
//! They zeroize on drop and have no `Debug`, `Display` or serialisation, so they cannot end up
//! in a log line, an error message or a file by accident.

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// A passphrase (or PIN) as the officer typed it.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Passphrase(String);

impl Passphrase {
    pub fn new(s: String) -> Self {
        Passphrase(s)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Compare two entries without leaking where they differ through timing.
    pub fn matches(&self, other: &Passphrase) -> bool {
        let (a, b) = (self.0.as_bytes(), other.0.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

/// 32 secret bytes (an Ed25519 seed or a P-256 scalar).
pub type SecretBytes = Zeroizing<[u8; 32]>;

/// Turn off core dumps for this process, so a crash never writes key material to disk:
/// RLIMIT_CORE = 0 and (Linux) PR_SET_DUMPABLE = 0, which also keeps other processes of the
/// same user from attaching a debugger. Failures are ignored: not every OS has both.
pub fn harden_process() {
    let _ = rustix::process::setrlimit(
        rustix::process::Resource::Core,
        rustix::process::Rlimit {
            current: Some(0),
            maximum: Some(0),
        },
    );
    #[cfg(target_os = "linux")]
    {
        let _ =
            rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable);
    }
}

/// Fill `buf` from the operating system's CSPRNG.
pub fn random(buf: &mut [u8]) -> Result<(), String> {
    getrandom::fill(buf).map_err(|e| format!("the operating system's random source failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passphrase_comparison() {
        let a = Passphrase::new("correct horse".into());
        assert!(a.matches(&Passphrase::new("correct horse".into())));
        assert!(!a.matches(&Passphrase::new("correct horsE".into())));
        assert!(!a.matches(&Passphrase::new("correct".into())));
    }
}
