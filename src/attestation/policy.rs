//! A PIV slot's PIN and touch policies: what the device enforces, what the slot certificate
//! attests, and what the enrolment record and `key generate --yubikey` spell. One type each,
//! shared by the YubiKey backend and the attestation check, so the policy shown before the
//! PIN prompt and the one checked in a record cannot drift apart.

use std::fmt;

/// A slot's PIN policy, as Yubico encodes it in extension 1.3.6.1.4.1.41482.3.8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinPolicy {
    /// The slot's default (see [`PinPolicy::slot_default`]); byte 0.
    Default,
    /// No PIN is needed to use the key: anyone holding the device can sign.
    Never,
    /// The PIN once per session.
    Once,
    /// The PIN before every use.
    Always,
    /// YubiKey Bio: a fingerprint match once per session.
    MatchOnce,
    /// YubiKey Bio: a fingerprint match for every use.
    MatchAlways,
    /// A byte Yubico has not documented; shown, never treated as a known policy.
    Unknown(u8),
}

impl PinPolicy {
    /// Decode the first byte of extension 1.3.6.1.4.1.41482.3.8 (Yubico PIV attestation).
    pub(crate) fn from_byte(b: u8) -> Self {
        match b {
            0 => PinPolicy::Default,
            1 => PinPolicy::Never,
            2 => PinPolicy::Once,
            3 => PinPolicy::Always,
            4 => PinPolicy::MatchOnce,
            5 => PinPolicy::MatchAlways,
            n => PinPolicy::Unknown(n),
        }
    }

    /// The spelling in enrolment records (`default`, `never`, `once`, `always`).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "default" => PinPolicy::Default,
            "never" => PinPolicy::Never,
            "once" => PinPolicy::Once,
            "always" => PinPolicy::Always,
            _ => return None,
        })
    }

    /// What `default` means for a slot (Yubico's PIV slot documentation): 9c (Digital
    /// Signature) asks for the PIN on every use, 9e (Card Authentication) never, the others
    /// once per session.
    pub fn slot_default(slot: u8) -> Self {
        match slot {
            0x9c => PinPolicy::Always,
            0x9e => PinPolicy::Never,
            _ => PinPolicy::Once,
        }
    }
}

impl fmt::Display for PinPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PinPolicy::Default => f.write_str("default"),
            PinPolicy::Never => f.write_str("never"),
            PinPolicy::Once => f.write_str("once"),
            PinPolicy::Always => f.write_str("always"),
            PinPolicy::MatchOnce => f.write_str("match-once"),
            PinPolicy::MatchAlways => f.write_str("match-always"),
            PinPolicy::Unknown(n) => write!(f, "unknown ({n})"),
        }
    }
}

/// A slot's touch policy (second byte of extension 1.3.6.1.4.1.41482.3.8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TouchPolicy {
    /// The slot's default (see [`TouchPolicy::slot_default`]); byte 0.
    Default,
    /// No touch needed: software on the machine can sign without the officer's knowledge.
    Never,
    /// A touch for every signature.
    Always,
    /// Touch is remembered for 15 seconds.
    Cached,
    /// A byte Yubico has not documented; shown, never treated as a known policy.
    Unknown(u8),
}

impl TouchPolicy {
    /// Decode the second byte of extension 1.3.6.1.4.1.41482.3.8 (Yubico PIV attestation).
    pub(crate) fn from_byte(b: u8) -> Self {
        match b {
            0 => TouchPolicy::Default,
            1 => TouchPolicy::Never,
            2 => TouchPolicy::Always,
            3 => TouchPolicy::Cached,
            n => TouchPolicy::Unknown(n),
        }
    }

    /// The spelling in enrolment records (`default`, `never`, `always`, `cached`).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "default" => TouchPolicy::Default,
            "never" => TouchPolicy::Never,
            "always" => TouchPolicy::Always,
            "cached" => TouchPolicy::Cached,
            _ => return None,
        })
    }

    /// Every PIV slot's default touch policy is `never`.
    pub fn slot_default(_slot: u8) -> Self {
        TouchPolicy::Never
    }

    /// Whether signing waits for a touch of the device.
    pub fn needs_touch(self) -> bool {
        matches!(self, TouchPolicy::Always | TouchPolicy::Cached)
    }
}

impl fmt::Display for TouchPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TouchPolicy::Default => f.write_str("default"),
            TouchPolicy::Never => f.write_str("never"),
            TouchPolicy::Always => f.write_str("always"),
            TouchPolicy::Cached => f.write_str("cached"),
            TouchPolicy::Unknown(n) => write!(f, "unknown ({n})"),
        }
    }
}
