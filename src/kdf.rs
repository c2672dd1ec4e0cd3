//! Argon2id with a fixed allowlist of parameter profiles.
//!
//! Parameters come from files that may have been tampered with. A header asking for 4 TiB of
//! memory or a billion passes must not make conclave allocate or spin, so only the named
//! profiles below are ever run; anything else is refused before any work is done.

use argon2::{Algorithm, Argon2, Params, Version};
use zeroize::Zeroizing;

use crate::secret::SecretBytes;

/// Why a key could not be derived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KdfError {
    /// The argon2 crate refused the profile's parameters (cannot happen for the built-in
    /// profiles, kept typed rather than panicking).
    #[error("argon2 parameters: {0}")]
    Params(argon2::Error),
    /// Hashing failed, e.g. the working memory could not be used.
    #[error("argon2id failed: {0}")]
    Failed(argon2::Error),
    /// The working memory could not be allocated.
    #[error(
        "Argon2id needs {mib} MiB of memory and this machine could not give it; close other \
         programs and try again"
    )]
    OutOfMemory {
        /// The memory asked for, in MiB.
        mib: u32,
    },
}

/// A named set of Argon2id parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Profile {
    /// The name written in key files and accepted on the command line, e.g. `rfc9106-2gib`.
    pub name: &'static str,
    /// Passes over memory.
    pub t_cost: u32,
    /// Memory in KiB.
    pub m_cost_kib: u32,
    /// Lanes.
    pub p_cost: u32,
    /// One line for officers: where the parameters come from and what they cost.
    pub summary: &'static str,
}

/// RFC 9106 §4, first recommendation: t=1, m=2 GiB, p=4.
pub const RFC9106_2GIB: Profile = Profile {
    name: "rfc9106-2gib",
    t_cost: 1,
    m_cost_kib: 2 * 1024 * 1024,
    p_cost: 4,
    summary: "RFC 9106 first recommendation: 2 GiB of memory, 1 pass, 4 lanes (the default)",
};

/// RFC 9106 §4, second recommendation: t=3, m=64 MiB, p=4.
pub(crate) const RFC9106_64MIB: Profile = Profile {
    name: "rfc9106-64mib",
    t_cost: 3,
    m_cost_kib: 64 * 1024,
    p_cost: 4,
    summary: "RFC 9106 second recommendation, for machines short of memory: 64 MiB, 3 passes, 4 lanes",
};

/// Every profile conclave will run.
pub const PROFILES: [Profile; 2] = [RFC9106_2GIB, RFC9106_64MIB];

impl Profile {
    /// The allowlisted profile called `name`, if any; `None` for any other name.
    pub fn by_name(name: &str) -> Option<Profile> {
        PROFILES.into_iter().find(|p| p.name == name)
    }

    /// The allowlisted profile with exactly these parameters, if any.
    pub fn matching(t_cost: i64, m_cost_kib: i64, p_cost: i64) -> Option<Profile> {
        PROFILES.into_iter().find(|p| {
            i64::from(p.t_cost) == t_cost
                && i64::from(p.m_cost_kib) == m_cost_kib
                && i64::from(p.p_cost) == p_cost
        })
    }

    /// Argon2id (version 0x13) of `passphrase` with `salt`, 32 bytes out.
    pub fn derive(&self, passphrase: &[u8], salt: &[u8]) -> Result<SecretBytes, KdfError> {
        let params = Params::new(self.m_cost_kib, self.t_cost, self.p_cost, Some(32))
            .map_err(KdfError::Params)?;
        let mut out = Zeroizing::new([0u8; 32]);
        // Argon2's working memory is passphrase-derived: its first blocks let an attacker test
        // guesses without paying for the memory. Lock it where the OS allows (root, or a
        // raised RLIMIT_MEMLOCK); otherwise carry on (see memlock). Wiped when dropped.
        let blocks = crate::memlock::BlockMemory::zeroed(params.block_count()).ok_or(
            KdfError::OutOfMemory {
                mib: self.m_cost_kib / 1024,
            },
        )?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        argon
            .hash_password_into_with_memory(passphrase, salt, out.as_mut(), blocks)
            .map_err(KdfError::Failed)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_allowlisted_parameters_are_accepted() {
        assert_eq!(Profile::matching(3, 65536, 4), Some(RFC9106_64MIB));
        assert_eq!(Profile::matching(1, 2097152, 4), Some(RFC9106_2GIB));
        assert_eq!(Profile::matching(3, 65536 * 1024, 4), None);
        assert_eq!(Profile::matching(1_000_000, 65536, 4), None);
        assert_eq!(Profile::matching(3, 65536, 1), None);
        assert!(Profile::by_name("weak").is_none());
    }

    #[test]
    fn rfc9106_64mib_known_answer() {
        // Computed independently with the reference implementation (Debian `argon2`):
        // echo -n "password" | argon2 somesaltsomesalt -id -t 3 -k 65536 -p 4 -l 32 -r
        let out = RFC9106_64MIB
            .derive(b"password", b"somesaltsomesalt")
            .unwrap();
        assert_eq!(hex::encode(out.as_ref()), KAT_64MIB);
    }

    const KAT_64MIB: &str = "81db97a7e67a891784a2599bc879f957cb3512d273984bd97d8a18fc59ff01e2";
}
