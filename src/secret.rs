//! Secret values: passphrases, PINs, private key bytes.
//!
//! They zeroize on drop and have no `Debug`, `Display` or serialisation, so they cannot end up
//! in a log line, an error message or a file by accident. Their heap pages are locked in
//! memory where the operating system allows it ([`crate::memlock`]), so they stay out of swap.

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::memlock::PageLock;

/// A passphrase (or PIN) as the officer typed it.
pub struct Passphrase {
    // Dropped after `Drop::drop` has zeroized the text, before the text is freed.
    lock: PageLock,
    text: String,
}

impl Passphrase {
    /// Take ownership of `s` and lock its pages in memory where the OS allows. Pass the
    /// string itself, not a copy: a copy left behind is not zeroized.
    pub fn new(s: String) -> Self {
        Passphrase {
            lock: PageLock::new(s.as_bytes()),
            text: s,
        }
    }

    /// The text, for the KDF or the token. Do not copy it into a `String`, log or error
    /// message: only this value is zeroized on drop.
    pub fn expose(&self) -> &str {
        &self.text
    }

    /// Whether nothing was typed.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Whether the operating system locked this passphrase's memory (see [`crate::memlock`]).
    pub fn is_locked(&self) -> bool {
        self.lock.is_locked()
    }

    /// Compare two entries without leaking where they differ through timing.
    pub fn matches(&self, other: &Passphrase) -> bool {
        let (a, b) = (self.text.as_bytes(), other.text.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl Clone for Passphrase {
    fn clone(&self) -> Self {
        Passphrase::new(self.text.clone())
    }
}

impl Drop for Passphrase {
    fn drop(&mut self) {
        // Zeroes the spare capacity too.
        self.text.zeroize();
    }
}

impl ZeroizeOnDrop for Passphrase {}

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

/// The operating system's random source failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the operating system's random source failed: {0}")]
pub struct RandomError(getrandom::Error);

/// Fill `buf` from the operating system's CSPRNG.
pub fn random(buf: &mut [u8]) -> Result<(), RandomError> {
    getrandom::fill(buf).map_err(RandomError)
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
