//! The minimum-firmware policy: no new root, targets or claimed key on a YubiKey whose key
//! Yubico security advisory YSA-2024-03 ("EUCLEAK") says can be cloned, unless the plan
//! waives it with a reason.
//!
//! YSA-2024-03: the ECDSA implementation of YubiKeys with firmware below 5.7.0 leaks, through
//! a timing side channel, enough to recover the private key for someone who holds the device
//! for a while with lab equipment. A clone signs like the original and leaves no trace, which
//! for a root key is exactly the threat the ceremony guards against. The firmware cannot be
//! updated: the only fix is a new YubiKey (5.7.0 or later) and a new key.
//!
//! The evidence is the enrolment record beside each YubiKey key's public key file, checked
//! against Yubico's roots ([`crate::attestation::EnrolmentRecord::verify`]): its firmware is
//! the one the device signed into the attestation, not a self-report. This module only
//! weighs the evidence the caller gathered (`ceremony check` reads the files).

use std::collections::BTreeMap;

use crate::attestation::{AttestedKey, Firmware, YSA_2024_03_FIXED_IN, ysa_2024_03_affected};
use crate::ceremony::plan::{Finding, KeySource, Level, Plan};
use crate::display::escape;

/// The roles whose new keys the policy covers: those that are offline and long-lived.
pub const ROLES: [&str; 3] = ["root", "targets", "claimed"];

/// What was found about a plan key's YubiKey.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeviceEvidence {
    /// No enrolment record beside the public key file.
    NoRecord {
        /// Where the record was looked for.
        path: String,
    },
    /// The record does not verify (its chain, or what it says against its chain).
    Invalid {
        /// The record.
        path: String,
        /// Why it does not verify.
        reason: String,
    },
    /// The record verifies against Yubico's roots.
    Verified {
        /// The attested serial.
        serial: u32,
        /// The attested firmware.
        firmware: Firmware,
        /// The attested key's kind.
        key: AttestedKey,
    },
}

/// One key the policy covers: its name, officer label and roles.
struct Covered<'a> {
    name: &'a str,
    officer: String,
    roles: Vec<&'a str>,
}

/// The non-retired YubiKey keys of root, targets and claimed, in plan order.
fn covered(plan: &Plan) -> Vec<Covered<'_>> {
    let mut out: Vec<Covered<'_>> = Vec::new();
    for (role, rp) in plan.all_roles() {
        if !ROLES.contains(&role) {
            continue;
        }
        for name in &rp.keys {
            let Some(k) = plan.keys.get(name) else {
                continue;
            };
            if k.retired || !matches!(k.source, KeySource::YubiKey { .. }) {
                continue;
            }
            match out.iter_mut().find(|c| c.name == name.as_str()) {
                Some(c) => c.roles.push(role),
                None => out.push(Covered {
                    name,
                    officer: k
                        .officer
                        .as_deref()
                        .map_or_else(|| "(no officer)".into(), |o| plan.officer_label(o)),
                    roles: vec![role],
                }),
            }
        }
    }
    out
}

/// The keys the policy covers, by name: `ceremony check` gathers evidence for these.
pub fn keys_to_check(plan: &Plan) -> Vec<String> {
    covered(plan).iter().map(|c| c.name.to_owned()).collect()
}

/// Apply the policy to the evidence (key name -> evidence; a covered key without an entry
/// counts as having no record). Errors must be fixed before genesis: the officers named must
/// replace their keys, or the plan must waive the policy with a reason.
pub fn check(plan: &Plan, evidence: &BTreeMap<String, DeviceEvidence>) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut push = |level, message: String| out.push(Finding { level, message });
    let policy = &plan.policy;
    let reason = policy
        .vulnerable_firmware_reason
        .as_deref()
        .filter(|r| !r.trim().is_empty());
    if policy.allow_vulnerable_firmware && reason.is_none() {
        push(
            Level::Error,
            "policy.allow_vulnerable_firmware = true needs policy.vulnerable_firmware_reason: \
             why the ceremony accepts keys that can be cloned (it is read out and recorded in \
             the transcript)"
                .into(),
        );
    }
    let mut must_replace: Vec<String> = Vec::new();
    for c in covered(plan) {
        let roles = c.roles.join(", ");
        let what = format!("key \"{}\" ({roles}; {})", c.name, c.officer);
        match evidence.get(c.name) {
            None => push(
                Level::Warning,
                format!(
                    "{what}: no enrolment record was checked, so its YubiKey's firmware is \
                     unknown (YSA-2024-03)"
                ),
            ),
            Some(DeviceEvidence::NoRecord { path }) => push(
                Level::Warning,
                format!(
                    "{what}: no enrolment record at {}, so its YubiKey's firmware is unknown \
                     (YSA-2024-03: ECDSA keys on firmware below {YSA_2024_03_FIXED_IN} can be \
                     cloned); ask for the record `key generate --yubikey` wrote",
                    escape(path)
                ),
            ),
            Some(DeviceEvidence::Invalid { path, reason }) => push(
                Level::Error,
                format!(
                    "{what}: its enrolment record {} does not verify: {}",
                    escape(path),
                    escape(reason)
                ),
            ),
            Some(DeviceEvidence::Verified {
                serial,
                firmware,
                key,
            }) => {
                if !ysa_2024_03_affected(*firmware, *key) {
                    push(
                        Level::Info,
                        format!(
                            "{what}: YubiKey {serial}, firmware {firmware}, {key} key: not \
                             affected by YSA-2024-03"
                        ),
                    );
                } else if let (true, Some(reason)) = (policy.allow_vulnerable_firmware, reason) {
                    push(
                        Level::Warning,
                        format!(
                            "{what}: YubiKey {serial}, firmware {firmware}, {key} key: affected \
                             by YSA-2024-03 (can be cloned with physical access); accepted by \
                             policy.allow_vulnerable_firmware: {}",
                            escape(reason)
                        ),
                    );
                } else {
                    push(
                        Level::Error,
                        format!(
                            "{what}: YubiKey {serial} has firmware {firmware} and an {key} key, \
                             which Yubico advisory YSA-2024-03 says can be cloned by someone \
                             with physical access; {} must replace it with a key generated on \
                             a YubiKey with firmware {YSA_2024_03_FIXED_IN} or later (or the \
                             plan must set policy.allow_vulnerable_firmware = true with a \
                             policy.vulnerable_firmware_reason)",
                            c.officer
                        ),
                    );
                    if !must_replace.contains(&c.officer) {
                        must_replace.push(c.officer.clone());
                    }
                }
            }
        }
    }
    if !must_replace.is_empty() {
        push(
            Level::Error,
            format!(
                "YSA-2024-03: these officers must replace their YubiKey keys before the \
                 ceremony: {}",
                must_replace.join(", ")
            ),
        );
    }
    out
}

/// The transcript note for a plan that waives the policy for affected keys, if it does.
pub fn waiver_note(plan: &Plan, evidence: &BTreeMap<String, DeviceEvidence>) -> Option<String> {
    let reason = plan.policy.vulnerable_firmware_reason.as_deref()?;
    if !plan.policy.allow_vulnerable_firmware {
        return None;
    }
    let waived: Vec<String> = covered(plan)
        .iter()
        .filter_map(|c| match evidence.get(c.name) {
            Some(DeviceEvidence::Verified {
                serial,
                firmware,
                key,
            }) if ysa_2024_03_affected(*firmware, *key) => Some(format!(
                "{} (YubiKey {serial}, firmware {firmware})",
                c.name
            )),
            _ => None,
        })
        .collect();
    (!waived.is_empty()).then(|| {
        format!(
            "YSA-2024-03 waived by policy.allow_vulnerable_firmware for {}: {}",
            waived.join(", "),
            reason
        )
    })
}
