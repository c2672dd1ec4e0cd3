//! `key generate --pkcs11` on a YubiKey through Yubico's ykcs11: a PIV slot named by `id`,
//! the PIV management key for the security-officer login, then the PIN.

use conclave::display::escape;
use conclave::secret::Passphrase;
use conclave::signer::Signer;
use conclave::signer::pkcs11::piv::FACTORY_DEFAULT_MANAGEMENT_KEY;
use conclave::signer::pkcs11::{ManagementKey, PivSlot, Pkcs11Uri, Token};

use crate::cli::keyfile::{KeyTypeArg, describe_new_key};
use crate::cli::pkcs11::{announce, device, pin};
use crate::cli::prompt::{Prompter, Try};
use crate::cli::{Failure, exit, print_public_key};

/// What an officer types instead of the 48 digits to use the factory-default key: a
/// deliberate word, so the default is never assumed for them.
const DEFAULT_WORD: &str = "default";

/// Generate an ECDSA P-256 key in an empty PIV slot. Everything checkable without a secret
/// comes first (key type, slot id, no label, slot empty, PIN not locked); then the
/// management key and the PIN are asked for, and both are checked before anything is
/// generated.
pub fn generate(
    uri: &Pkcs11Uri,
    token: &Token,
    key_type: Option<KeyTypeArg>,
    passphrase_fd: Option<u32>,
) -> Result<u8, Failure> {
    if matches!(key_type, Some(KeyTypeArg::Ed25519)) {
        return Err(Failure::usage(
            "conclave makes ECDSA P-256 keys only on a YubiKey (through ykcs11 as with --yubikey)",
        )
        .hint(
            "drop --type, or give --type ecdsa-p256; docs/hardware.md explains why not Ed25519",
        ));
    }
    let slot = PivSlot::from_id(uri.id.as_deref()).map_err(|e| {
        Failure::usage(format!("{e}; nothing was generated")).hint(
            "name a PIV key slot by its ykcs11 id: id=%01 (9a), %02 (9c, signature, the \
             default), %03 (9d), %04 (9e), %05 to %18 (retired slots 82 to 95); see \
             docs/hardware.md",
        )
    })?;
    if let Some(label) = &uri.object {
        return Err(Failure::usage(format!(
            "object=\"{}\": ykcs11 names a YubiKey's keys by slot (id) alone and ignores \
             labels; nothing was generated",
            escape(label)
        ))
        .hint(format!(
            "drop object= from the URI and keep id=%{:02X} ({}); sign with the same URI",
            slot.id(),
            slot
        )));
    }
    announce(token)?;
    token.refuse_occupied_slot(slot).map_err(device)?;
    // Nothing is written, so only an explicit --ceremony-dir records the new key; a broken
    // transcript stops here, before anything is asked for.
    let recorder = crate::cli::record::Recorder::find(&[], &[])?;
    let mut prompter = Prompter::new(passphrase_fd)?;
    let management_key = management_key(token, &mut prompter)?;
    let pin = pin(uri, token, &mut prompter)?;
    eprintln!(
        "Checking the PIN and the management key, then generating an ECDSA P-256 key in PIV \
         {slot} of \"{}\" (with the slot's default PIN and touch policies: ykcs11 sets none)...",
        escape(token.label())
    );
    let signer = token
        .generate_piv(slot, &management_key, &pin)
        .map_err(device)?;
    drop(pin);
    self_test(&signer, slot)?;
    eprintln!(
        "Created the key in PIV {slot} of \"{}\" (serial {}); the private key cannot leave it.",
        escape(token.label()),
        escape(token.serial())
    );
    if management_key.is_factory_default() {
        eprintln!(
            "warning: this YubiKey still has the factory-default PIV management key, which is \
             published: anyone holding the YubiKey can replace its keys without the PIN. \
             Change it after enrolment (`ykman piv access change-management-key --generate \
             --protect`)."
        );
    }
    describe_new_key(signer.public_key());
    eprintln!(
        "Next: check the key's attestation (docs/hardware.md), keep the YubiKey and its PIN \
         safe, and give the public key above (stdout) to whoever drafts the root. To sign, \
         name this slot in the URI: ;id=%{:02X}.",
        slot.id()
    );
    print_public_key(signer.public_key());
    let keyid = signer.public_key().keyid().to_string();
    crate::cli::record::step(
        &recorder,
        format!(
            "key generate --pkcs11 token {} serial {} PIV slot {:02x} {keyid}",
            escape(token.label()),
            escape(token.serial()),
            slot.slot()
        ),
        &[],
        &[],
        vec![keyid],
    )?;
    Ok(exit::OK)
}

/// Ask for the PIV management key. Its form is checked here, before it reaches ykcs11: a
/// PIN typed at this prompt would otherwise be VERIFYed by ykcs11 and could cost a PIN try.
fn management_key(token: &Token, prompter: &mut Prompter) -> Result<ManagementKey, Failure> {
    let prompt = format!(
        "PIV management key for \"{}\" (48 hex digits; type \"{DEFAULT_WORD}\" for the \
         factory default {FACTORY_DEFAULT_MANAGEMENT_KEY} if this YubiKey's was never changed)",
        escape(token.label())
    );
    if prompter.interactive() {
        eprintln!(
            "Generating through ykcs11 needs the YubiKey's PIV management key (the security \
             officer's key, not the PIN or PUK): `ykman piv info` says whether it is still the \
             factory default. It is not shown or stored."
        );
    }
    prompter.secret_tries(&prompt, |typed: &Passphrase| {
        if typed.expose().trim() == DEFAULT_WORD {
            return Ok(Try::Done(ManagementKey::factory_default()));
        }
        match ManagementKey::parse(typed) {
            Ok(key) => Ok(Try::Done(key)),
            Err(e) => {
                let message = format!("{e}; nothing was sent to the YubiKey");
                Ok(Try::Wrong {
                    failure: Failure::usage(&message).hint(format!(
                        "type the management key in hex, or \"{DEFAULT_WORD}\" for the factory \
                         default; see docs/hardware.md"
                    )),
                    again: Some(message),
                })
            }
        }
    })
}

/// Sign and verify once, so a key that cannot sign is found at enrolment, not at the
/// ceremony.
fn self_test(signer: &dyn Signer, slot: PivSlot) -> Result<(), Failure> {
    conclave::signer::sign_checked(signer, b"conclave enrolment self-test").map_err(|e| {
        Failure {
            message: format!("the new key in PIV {slot} was generated but cannot sign: {e}"),
            hint: Some(
                "do not enrol this key; it stays in the slot (replace it with `ykman piv keys \
                 generate`, or generate into another id); see docs/hardware.md"
                    .into(),
            ),
            code: exit::DEVICE,
        }
    })?;
    Ok(())
}
