//! What `key generate --pkcs11` and `sign --pkcs11` share: reading the URI, the PIN, and
//! turning device errors into one line and a hint (exit 3).

use conclave::display::escape;
use conclave::secret::Passphrase;
use conclave::signer::pkcs11::{DeviceError, PinState, Pkcs11Uri, Token, key_name};

use crate::cli::prompt::{Prompter, Try};
use crate::cli::{Failure, exit, shown};

/// clap value parser for `--pkcs11 URI`.
pub fn parse_uri(s: &str) -> Result<Pkcs11Uri, String> {
    Pkcs11Uri::parse(s).map_err(|e| format!("not a usable PKCS#11 URI: {e}"))
}

const MODULES: &str = "SoftHSM2: module-path=/usr/lib/softhsm/libsofthsm2.so (Debian package softhsm2); \
     OpenSC (Nitrokey HSM, smart cards): module-path=/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so \
     (Debian package opensc); YubiHSM 2: yubihsm_pkcs11.so from Yubico's yubihsm-shell";

/// A device error as an exit-3 failure with what to do about it.
pub fn device(e: DeviceError) -> Failure {
    use DeviceError::*;
    let hint: String = match &e {
        NoModulePath => {
            return Failure::usage(e.to_string()).hint(format!(
                "add ?module-path=PATH to the URI; {MODULES} (see docs/hardware.md)"
            ));
        }
        NoObject => {
            return Failure::usage(e.to_string()).hint(
                "add ;object=LABEL (the label of the key in the token) or ;id=%XX (its \
                       CKA_ID; ykcs11: %02 for PIV slot 9c) to the URI",
            );
        }
        ModuleMissing { .. } => {
            format!("install the module or correct module-path in the URI; {MODULES}")
        }
        ModuleNotAFile { .. } => format!(
            "module-path must name the module file itself (a .so), not a directory; {MODULES}"
        ),
        ModuleLoad { .. } => "the file is not a PKCS#11 module this machine can load (wrong \
             architecture, or a library it needs is missing: check with `ldd`)"
            .into(),
        ModuleInit { .. } => "the module could not start: check its configuration (SoftHSM2: \
             the SOFTHSM2_CONF file and its directories.tokendir; YubiHSM 2: the connector in \
             yubihsm_pkcs11.conf) and that the device is connected"
            .into(),
        NoToken { .. } => "check the token is connected and the URI's token=LABEL is its label \
             exactly (labels are case-sensitive; `pkcs11-tool --module PATH --list-slots` lists \
             them)"
            .into(),
        SeveralTokens { .. } => {
            "add ;serial=SERIAL to the URI to pick one token (`pkcs11-tool --module PATH \
             --list-slots` shows the serials)"
                .into()
        }
        TokenNotPresent { .. } => "connect the token (for smart-card readers, check pcscd is \
             running) and run the command again; nothing was signed or written"
            .into(),
        NotInitialised { .. } => "initialise the token and set its user PIN with the vendor's \
             tool first (SoftHSM2: softhsm2-util --init-token --free --label LABEL); see \
             docs/hardware.md"
            .into(),
        NoKey { .. } => "check the URI's object=LABEL against the keys on the token \
             (`pkcs11-tool --module PATH --list-objects --type pubkey`); enrol a key with \
             `conclave key generate --pkcs11 URI`"
            .into(),
        SeveralKeys { .. } => "add ;id=%XX... (the key's CKA_ID) to the URI to pick one".into(),
        KeyExists { .. } => "choose another object=LABEL; conclave never replaces or deletes \
             a key in a token"
            .into(),
        UnsupportedKey { .. } => "conclave signs with Ed25519 and ECDSA P-256 keys; enrol one \
             with `conclave key generate --pkcs11 URI [--type ecdsa-p256]`"
            .into(),
        KeyMismatch { .. } => "the token's contents changed between the check and the login: \
             stop, and find out why before anyone signs"
            .into(),
        SlotOccupied { .. } => "conclave never replaces a key: name an empty slot with \
             id=%XX in the URI (%01 9a, %02 9c, %03 9d, %04 9e, %05 to %18 retired slots 82 to \
             95; `ykman piv info` lists what each slot holds). No secret was asked for"
            .into(),
        ManagementKeyIncorrect { .. } => "type the YubiKey's PIV management key as hex (not the \
             PIN or PUK), or \"default\" if it was never changed; `ykman piv info` says whether \
             it is the default. A YubiKey counts no tries for the management key, so nothing is \
             locked"
            .into(),
        ManagementKeyForm { .. } => "Debian's ykcs11 (2.2) takes only 48-digit (3DES) \
             management keys; generate with `conclave key generate --yubikey` (factory-default \
             key), or with a newer ykcs11 (2.5 or later takes AES keys)"
            .into(),
        PinIncorrect { final_try, .. } => {
            let base = "nothing was signed or written. Check the PIN and try again, slowly: \
                 tokens lock the PIN after repeated wrong entries, and then only the token's \
                 security officer (SO PIN) can unlock it";
            if *final_try {
                format!("{base}. ONE MORE WRONG PIN LOCKS THIS TOKEN.")
            } else {
                base.into()
            }
        }
        PinLocked { .. } => "too many wrong PINs were entered. The token's security officer \
             must unlock it with the SO PIN (e.g. `pkcs11-tool --module PATH --login \
             --login-type so --init-pin`); until then, sign with a backup key. Nothing was \
             signed or written"
            .into(),
        PinExpired { .. } => "change the user PIN with the vendor's tool (e.g. `pkcs11-tool \
             --module PATH --login --change-pin`), then try again"
            .into(),
        Unsupported { .. } => "this token cannot make or use this kind of key; try `--type \
             ecdsa-p256` (most HSMs have P-256), or a token with Ed25519 (docs/hardware.md)"
            .into(),
        DataTooLong { .. } => "this token limits how much it signs with EdDSA; for metadata \
             this large, use an ECDSA P-256 key on it (conclave hashes the message itself)"
            .into(),
        WriteProtected { .. } => "the token is read-only; use a writable token".into(),
        Failed { .. } => "check the token is connected and run the command again; if it keeps \
             failing, see docs/hardware.md. Nothing was signed or written"
            .into(),
    };
    Failure {
        message: e.to_string(),
        hint: Some(hint),
        code: exit::DEVICE,
    }
}

/// Say which token this is, and warn when the PIN is on its last tries. A locked PIN ends here,
/// before any prompt.
pub fn announce(token: &Token) -> Result<(), Failure> {
    eprintln!(
        "Token \"{}\": {}",
        escape(token.label()),
        escape(token.description())
    );
    match token.check_pin_usable().map_err(device)? {
        PinState::Ok | PinState::Locked => {}
        PinState::CountLow => eprintln!(
            "warning: a wrong PIN has been entered on this token since the last correct one; \
             tokens lock after repeated failures"
        ),
        PinState::FinalTry => eprintln!(
            "warning: ONE wrong PIN left: one more wrong PIN locks this token (only its \
             security officer can unlock it)"
        ),
    }
    Ok(())
}

/// `sign --pkcs11` (and `transcript sign-head --pkcs11`): find the key, show and check its
/// keyid, say which token it is and warn on its last PIN tries, and only then ask for the PIN.
/// A wrong PIN typed at the terminal is asked for again while the token allows more than one
/// more try: one that would lock the token ends the command, so the last try is always the
/// officer's own decision, taken by running the command again.
pub fn signer(
    uri: &Pkcs11Uri,
    prompter: &mut Prompter,
    check_allowed: &dyn Fn(&conclave::metadata::KeyId) -> Result<(), Failure>,
    names: &crate::cli::names::Names,
) -> Result<Box<dyn conclave::signer::Signer>, Failure> {
    // A key is named by its label, its id, or both (ykcs11 names a slot's key by id alone).
    let label = uri.object.as_deref();
    if label.is_none() && uri.id.is_none() {
        return Err(device(DeviceError::NoObject));
    }
    let token = Token::open(uri).map_err(device)?;
    let public = token.public_key(label, uri.id.as_deref()).map_err(device)?;
    let keyid = public.keyid();
    eprintln!(
        "Signing with key \"{}\" in token \"{}\" (keyid {}).",
        escape(&key_name(label, uri.id.as_deref())),
        escape(token.label()),
        names.keyid(&keyid)
    );
    check_allowed(&keyid)?;
    announce(&token)?;
    let attempt = |pin: &Passphrase| -> Result<Try<Box<dyn conclave::signer::Signer>>, Failure> {
        match token.signer(label, uri.id.as_deref(), &public, pin) {
            Ok(s) => Ok(Try::Done(Box::new(s))),
            Err(e @ DeviceError::PinIncorrect { final_try, .. }) => {
                let again = (!final_try).then(|| format!("{e} ({})", tries_left(&token)));
                Ok(Try::Wrong {
                    failure: device(e),
                    again,
                })
            }
            Err(e) => Err(device(e)),
        }
    };
    match pin_from_source(uri)? {
        Some(pin) => match attempt(&pin)? {
            Try::Done(s) => Ok(s),
            Try::Wrong { failure, .. } => Err(failure),
        },
        None => prompter.secret_tries(
            &format!("User PIN for token \"{}\"", escape(token.label())),
            attempt,
        ),
    }
}

/// What the token says of its PIN tries after a wrong PIN (PKCS#11 reports no count, only
/// whether tries are low or the next is the last).
fn tries_left(token: &Token) -> &'static str {
    match token.pin_state() {
        Ok(PinState::FinalTry) => "ONE try left: one more wrong PIN locks this token",
        Ok(PinState::Locked) => "the PIN is now locked",
        Ok(PinState::CountLow) => {
            "the token reports its PIN tries are low, not how many are left; tokens lock after \
             repeated wrong PINs"
        }
        Ok(PinState::Ok) | Err(_) => {
            "the token does not report how many tries are left; tokens lock after repeated \
             wrong PINs"
        }
    }
}

/// The user PIN from the URI's pin-source file, if it names one.
fn pin_from_source(uri: &Pkcs11Uri) -> Result<Option<Passphrase>, Failure> {
    let Some(path) = &uri.pin_source else {
        return Ok(None);
    };
    let bytes = zeroize::Zeroizing::new(crate::cli::read_file(path)?);
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Failure::usage(format!("pin-source {}: not UTF-8 text", shown(path))))?;
    let line = text.lines().next().unwrap_or("");
    if line.is_empty() {
        return Err(Failure::usage(format!(
            "pin-source {}: the first line (the PIN) is empty",
            shown(path)
        )));
    }
    Ok(Some(Passphrase::new(line.to_owned())))
}

/// The user PIN: from the URI's pin-source file, or asked for (terminal or --passphrase-fd).
pub fn pin(uri: &Pkcs11Uri, token: &Token, prompter: &mut Prompter) -> Result<Passphrase, Failure> {
    match pin_from_source(uri)? {
        Some(pin) => Ok(pin),
        None => prompter.secret(&format!("User PIN for token \"{}\"", escape(token.label()))),
    }
}
