//! `key generate --yubikey` and `sign --yubikey`: the pre-checks before the PIN prompt, the
//! PIN, and device errors as one line and a hint (exit 3).
//!
//! Without the `yubikey` cargo feature the flags still exist and say how to get a build that
//! has the backend, instead of an "unknown flag" error at the ceremony table.

use std::path::Path;

use crate::cli::Failure;
#[cfg(feature = "yubikey")]
use crate::cli::{
    exit,
    prompt::{Prompter, Try},
    shown,
};

/// clap value parser for `--pin-policy`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum PinPolicyArg {
    /// The PIN once per session (each conclave command is one session).
    Once,
    /// The PIN before every signature.
    Always,
    /// No PIN (not recommended for root keys).
    Never,
}

/// clap value parser for `--touch-policy`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum TouchPolicyArg {
    /// A touch of the key for every signature.
    Always,
    /// A touch, remembered for 15 seconds.
    Cached,
    /// No touch.
    Never,
}

#[cfg(not(feature = "yubikey"))]
fn not_built() -> Failure {
    Failure::usage("this conclave was built without YubiKey support").hint(
        "build it with the `yubikey` feature: install libpcsclite-dev and pkg-config (Debian), \
         then `cargo build --release --locked --features yubikey` (see docs/hardware.md)",
    )
}

#[cfg(not(feature = "yubikey"))]
pub fn generate(
    _: &str,
    _: &Path,
    _: PinPolicyArg,
    _: TouchPolicyArg,
    _: Option<u32>,
) -> Result<u8, Failure> {
    Err(not_built())
}

#[cfg(not(feature = "yubikey"))]
pub fn signer(
    _: &str,
    _: &mut crate::cli::prompt::Prompter,
    _: &dyn Fn(&conclave::metadata::KeyId) -> Result<(), Failure>,
    _: &crate::cli::names::Names,
    _: usize,
) -> Result<Box<dyn conclave::signer::Signer>, Failure> {
    Err(not_built())
}

#[cfg(feature = "yubikey")]
pub use enabled::*;

#[cfg(feature = "yubikey")]
mod enabled {
    use super::*;
    use conclave::attestation::{self, PinPolicy, TouchPolicy};
    use conclave::metadata::KeyId;
    use conclave::signer::Signer;
    use conclave::signer::yubikey::{SlotRef, YubiKeyError, YubiKeyToken};

    fn slot_ref(s: &str) -> Result<SlotRef, Failure> {
        SlotRef::parse(s).map_err(|e| {
            Failure::usage(format!("--yubikey {}: {e}", conclave::display::escape(s)))
                .hint("give --yubikey SERIAL or SERIAL:SLOT, e.g. --yubikey 12345678:9c")
        })
    }

    /// A device error as an exit-3 failure with what to do about it.
    pub fn device(e: YubiKeyError) -> Failure {
        use YubiKeyError::*;
        let hint: String = match &e {
            NoPcsc { .. } => "conclave talks to YubiKeys through the PC/SC daemon pcscd, which \
                 is not running or not installed. Debian/Ubuntu: `sudo apt-get install pcscd` \
                 then `sudo systemctl start pcscd.socket` (or run `sudo pcscd` once); Fedora: \
                 `sudo dnf install pcsc-lite` then `sudo systemctl start pcscd.socket`. Then run \
                 the command again; nothing was signed or written"
                .into(),
            NotFound { present, .. } if !present.is_empty() => "this is not the YubiKey named \
                 on the command line: check the serial printed on the key (or `ykman list \
                 --serials`) against the ceremony plan, and insert the right one. No PIN was \
                 asked for and nothing was signed or written"
                .into(),
            NotFound { .. } => "insert the YubiKey (wait for its light), check the cable or \
                 hub, and run the command again. If it is inserted, check that its CCID \
                 (smart card) interface is enabled (`ykman config usb --list`) and that pcscd \
                 sees it (`pcsc_scan`). Nothing was signed or written"
                .into(),
            SlotEmpty { .. } => "check the slot in --yubikey SERIAL:SLOT (conclave's default is \
                 9c), or enrol a key with `conclave key generate --yubikey SERIAL:SLOT`"
                .into(),
            SlotInUse { .. } => "conclave never replaces a key on a YubiKey: choose another \
                 slot (--yubikey SERIAL:SLOT), or clear this one deliberately with `ykman piv \
                 keys delete` if its key is not enrolled anywhere"
                .into(),
            NotP256 { .. } => "conclave signs with ECDSA P-256 keys on YubiKeys; enrol one with \
                 `conclave key generate --yubikey SERIAL:SLOT` (into an empty slot)"
                .into(),
            WrongPin { tries, .. } => {
                let base = "nothing was signed or written. Check the PIN and try again, \
                     slowly (the factory PIN 123456 must be changed before a ceremony)";
                match tries {
                    1 => format!(
                        "{base}. ONE MORE WRONG PIN BLOCKS THE PIN; it can then only be \
                         unblocked with the PUK"
                    ),
                    _ => format!("{base}. After 3 wrong PINs in a row the PIN is blocked"),
                }
            }
            PinLocked { .. } => "too many wrong PINs were entered. Unblock the PIN with the \
                 PUK (`ykman piv access unblock-pin`), or sign with a backup key. Nothing was \
                 signed or written"
                .into(),
            PinLength { .. } => "check the PIN and type it again; it was not sent to the \
                 YubiKey, so no try was used"
                .into(),
            TouchTimeout { .. } => "this key needs a touch to sign: run the command again and \
                 touch the gold contact when its light blinks (within 15 seconds). Nothing was \
                 written"
                .into(),
            ManagementKey { .. } => "conclave generates keys with the factory-default 3DES \
                 PIV management key (010203...08). YubiKeys with firmware 5.7 or later ship an \
                 AES-192 management key instead: set the default value as a TDES key with \
                 `ykman piv access change-management-key --algorithm TDES`. Otherwise reset \
                 the PIV applet (`ykman piv reset`, which erases its keys). See \
                 docs/hardware.md. Nothing was generated"
                .into(),
            KeyMismatch { .. } => "the key in the slot changed between the check and the \
                 PIN: stop, and find out why before anyone signs"
                .into(),
            Policy { .. } => "choose --pin-policy once, always or never and --touch-policy \
                 always, cached or never. Nothing was generated"
                .into(),
            Record { .. } => "the key is on the YubiKey but no record was written: do not \
                 enrol this key; run the command again into another slot, or see \
                 docs/hardware.md"
                .into(),
            Failed { .. } => "check the YubiKey is inserted (and not in use by another \
                 program, e.g. gpg-agent or a browser: close them) and run the command again. \
                 Nothing was signed or written"
                .into(),
        };
        // The record's reason is part of the one line, as it was before the error was typed.
        let message = match &e {
            Record { source, .. } => format!("{e}: {source}"),
            _ => e.to_string(),
        };
        Failure {
            message,
            hint: Some(hint),
            code: exit::DEVICE,
        }
    }

    /// Say which key this is and how many PIN tries are left; a blocked PIN ends here.
    fn announce_pin(token: &mut YubiKeyToken) -> Result<(), Failure> {
        let tries = token.pin_retries().map_err(device)?;
        if tries == 0 {
            return Err(device(YubiKeyError::PinLocked {
                serial: token.serial(),
            }));
        }
        eprintln!("PIN tries left: {tries}.");
        if tries == 1 {
            eprintln!(
                "warning: ONE wrong PIN left: one more wrong PIN blocks the PIN (only the PUK \
                 unblocks it)"
            );
        }
        Ok(())
    }

    fn open(r: SlotRef) -> Result<YubiKeyToken, Failure> {
        let token = YubiKeyToken::open(r.serial).map_err(device)?;
        eprintln!(
            "YubiKey serial {} (firmware {}) in reader \"{}\".",
            token.serial(),
            token.firmware(),
            conclave::display::escape(token.reader())
        );
        Ok(token)
    }

    fn pin(prompter: &mut Prompter, r: SlotRef) -> Result<conclave::secret::Passphrase, Failure> {
        prompter.secret(&format!("PIV PIN for YubiKey {}", r.serial))
    }

    /// `sign --yubikey`: open by serial, read the slot's key, check it may sign, show the PIN
    /// tries and touch; only then ask for the PIN. A wrong PIN typed at the terminal is asked
    /// for again, with the tries left, while more than one try is left: the try that would
    /// block the PIN is the officer's own decision, taken by running the command again.
    pub fn signer(
        spec: &str,
        prompter: &mut Prompter,
        check_allowed: &dyn Fn(&KeyId) -> Result<(), Failure>,
        names: &crate::cli::names::Names,
        signatures: usize,
    ) -> Result<Box<dyn Signer>, Failure> {
        let r = slot_ref(spec)?;
        let mut token = open(r)?;
        let info = token.slot(r.slot).map_err(device)?.ok_or_else(|| {
            device(YubiKeyError::SlotEmpty {
                serial: r.serial,
                slot: r.slot,
            })
        })?;
        let keyid = info.public_key.keyid();
        eprintln!(
            "Signing with the key in slot {:02x} (keyid {}; PIN policy {}, touch policy {}).",
            r.slot,
            names.keyid(&keyid),
            info.pin_policy,
            info.touch_policy
        );
        check_allowed(&keyid)?;
        if signatures > 1 {
            round_notice(r.serial, info.pin_policy, info.touch_policy, signatures)?;
        }
        let signer = if info.pin_policy == PinPolicy::Never {
            token
                .signer(r.slot, &info.public_key, None)
                .map_err(device)?
        } else {
            announce_pin(&mut token)?;
            // Signing takes the token; a try after a wrong PIN opens it again.
            let mut token = Some(token);
            let prompt = format!("PIV PIN for YubiKey {}", r.serial);
            prompter.secret_tries(&prompt, |pin| {
                let t = match token.take() {
                    Some(t) => t,
                    None => YubiKeyToken::open(r.serial).map_err(device)?,
                };
                match t.signer(r.slot, &info.public_key, Some(pin)) {
                    Ok(s) => Ok(Try::Done(s)),
                    Err(e @ YubiKeyError::WrongPin { tries, .. }) => Ok(Try::Wrong {
                        again: (tries > 1).then(|| e.to_string()),
                        failure: device(e),
                    }),
                    Err(e) => Err(device(e)),
                }
            })?
        };
        if info.touch_policy.needs_touch() {
            eprintln!(
                "Touch the key now: touch the YubiKey's gold contact when its light blinks \
                 (within 15 seconds)."
            );
        }
        Ok(Box::new(signer))
    }

    /// Before a round's PIN prompt: what the slot's policies mean for `signatures` signatures.
    /// PIN policy `always` wants the PIN before every signature, which a round (one PIN entry)
    /// cannot give: refused before the PIN is asked for, rather than failing at the second
    /// draft.
    fn round_notice(
        serial: u32,
        pin: PinPolicy,
        touch: TouchPolicy,
        signatures: usize,
    ) -> Result<(), Failure> {
        if matches!(pin, PinPolicy::Always | PinPolicy::MatchAlways) {
            return Err(Failure::usage(format!(
                "YubiKey {serial}: the key's PIN policy is {pin}, so the device wants the PIN \
                 before each of the round's {signatures} signatures; a round asks for it once"
            ))
            .hint(
                "sign the drafts one file at a time, or sign rounds with a key enrolled with \
                 --pin-policy once (docs/hardware.md)",
            ));
        }
        eprintln!(
            "This round makes {signatures} signatures with this key; the PIN is asked for once."
        );
        match touch {
            TouchPolicy::Always => eprintln!(
                "Touch policy always: the YubiKey waits for a touch before EACH signature: \
                 {signatures} touches, each within 15 seconds of its light blinking. For rounds \
                 this large, keys enrolled with --touch-policy cached need a touch at most every \
                 15 seconds instead."
            ),
            TouchPolicy::Cached => eprintln!(
                "Touch policy cached: touch the YubiKey when its light blinks; a touch is \
                 remembered for 15 seconds, so touch again whenever it blinks during the round."
            ),
            _ => eprintln!("Touch policy {touch}: no touch is needed to sign."),
        }
        Ok(())
    }

    /// `key generate --yubikey SERIAL[:SLOT] -o PUBFILE`.
    pub fn generate(
        spec: &str,
        output: &Path,
        pin_policy: PinPolicyArg,
        touch_policy: TouchPolicyArg,
        passphrase_fd: Option<u32>,
    ) -> Result<u8, Failure> {
        let r = slot_ref(spec)?;
        let record = attestation::record_path(output);
        for p in [output, record.as_path()] {
            if std::fs::symlink_metadata(p).is_ok() {
                return Err(Failure::usage(format!(
                    "{}: already exists; nothing was generated",
                    shown(p)
                ))
                .hint("choose a new -o file name (the enrolment record goes beside it)"));
            }
        }
        let mut token = open(r)?;
        // An occupied slot is refused before the PIN is asked for.
        if token.slot(r.slot).map_err(device)?.is_some() {
            return Err(device(YubiKeyError::SlotInUse {
                serial: r.serial,
                slot: r.slot,
            }));
        }
        // In a ceremony directory (or with --ceremony-dir) the new key is recorded with its
        // files; a broken transcript stops here, before the PIN is asked for.
        let recorder = crate::cli::record::Recorder::find(&[output], &[])?;
        announce_pin(&mut token)?;
        let pin_p = match pin_policy {
            PinPolicyArg::Once => PinPolicy::Once,
            PinPolicyArg::Always => PinPolicy::Always,
            PinPolicyArg::Never => PinPolicy::Never,
        };
        let touch_p = match touch_policy {
            TouchPolicyArg::Always => TouchPolicy::Always,
            TouchPolicyArg::Cached => TouchPolicy::Cached,
            TouchPolicyArg::Never => TouchPolicy::Never,
        };
        let mut prompter = Prompter::new(passphrase_fd)?;
        let pin = pin(&mut prompter, r)?;
        eprintln!(
            "Generating an ECDSA P-256 key in slot {:02x} on the YubiKey (PIN policy {}, touch \
             policy {})...",
            r.slot, pin_p, touch_p
        );
        let (record_data, signer) = token
            .generate(r.slot, pin_p, touch_p, &pin)
            .map_err(device)?;
        if touch_p.needs_touch() {
            eprintln!(
                "Touch the key now: a test signature checks the new key (touch the gold contact \
                 when its light blinks)."
            );
        }
        conclave::signer::sign_checked(&signer, b"conclave enrolment self-test").map_err(|e| {
            Failure {
                message: format!(
                    "the new key in slot {:02x} was generated but cannot sign: {e}",
                    r.slot
                ),
                hint: Some(
                    "do not enrol this key; run the command again into another slot, or see \
                     docs/hardware.md"
                        .into(),
                ),
                code: exit::DEVICE,
            }
        })?;
        let public = signer.public_key();
        let pub_bytes = conclave::cjson::to_pretty(&public.to_value());
        let create = |p: &Path, bytes: &[u8]| {
            crate::cli::record::wrote(p);
            conclave::fsutil::create_new_private(p, bytes).map_err(|e| {
                Failure::usage(format!(
                    "{}: cannot create: {}",
                    shown(p),
                    crate::cli::io_reason(&e)
                ))
                .hint("the key is on the YubiKey: run `conclave key generate` again into another slot, or fix the directory")
            })
        };
        create(output, &pub_bytes)?;
        create(&record, &record_data.to_bytes())?;
        eprintln!(
            "Created the key in slot {:02x} of YubiKey {}; the private key cannot leave it.",
            r.slot, r.serial
        );
        eprintln!("Wrote the public key to {}.", shown(output));
        eprintln!(
            "Wrote the enrolment record (attestation chain, serial, slot, policies) to {}.",
            shown(&record)
        );
        crate::cli::key::describe_new_key(public);
        eprintln!(
            "Next: check the record with `conclave key attest {}` (on any machine), keep the \
             YubiKey and its PIN safe, and give the public key to whoever drafts the root.",
            shown(&record)
        );
        crate::cli::print_public_key(public);
        let keyid = public.keyid().to_string();
        crate::cli::record::step(
            &recorder,
            format!("key generate --yubikey {}:{:02x} {keyid}", r.serial, r.slot),
            &[],
            &[output, &record],
            vec![keyid],
        )?;
        Ok(exit::OK)
    }
}
