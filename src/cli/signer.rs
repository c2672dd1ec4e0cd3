//! The officer's key, for every command that signs (`sign`, `transcript sign-head`): a key
//! file, a passphrase-derived key, a key in a PKCS#11 token or on a YubiKey. One set of flags
//! and one way of opening them, so every kind of key signs everything, checked the same way:
//! the keyid shown and checked before any passphrase or PIN is asked for, and a wrong one asked
//! for again at the terminal ([`Prompter::secret_tries`]).

use std::path::PathBuf;

use conclave::display::escape;
use conclave::keystore::KeyFileError;
use conclave::metadata::KeyId;
use conclave::signer::Signer;

use crate::cli::prompt::{Prompter, Try};
use crate::cli::{Failure, exit, shown};

/// Which key signs: exactly one of these.
#[derive(clap::Args)]
#[group(id = "signer", required = true, multiple = false)]
pub struct KeyArgs {
    /// Sign with this key file.
    #[arg(long, value_name = "KEYFILE")]
    pub key: Option<PathBuf>,
    /// Sign with the key derived from a passphrase for this identity (e.g. pypi.org/root/alice).
    #[arg(long, value_name = "ID")]
    pub derive: Option<String>,
    /// Sign with a key in a PKCS#11 token, e.g.
    /// 'pkcs11:token=NAME;object=LABEL?module-path=/usr/lib/softhsm/libsofthsm2.so'; the key
    /// is named by object=LABEL, id=%XX (its CKA_ID) or both (Yubico's ykcs11: id alone,
    /// %02 for PIV slot 9c). The key's keyid is shown, and checked against the keys allowed to sign, before the PIN
    /// is asked for (or read from the URI's pin-source=file:PATH).
    #[arg(long, value_name = "URI", value_parser = crate::cli::pkcs11::parse_uri)]
    pub pkcs11: Option<conclave::signer::pkcs11::Pkcs11Uri>,
    /// Sign with the key in a YubiKey's PIV slot, e.g. 12345678 or 12345678:9c (the serial
    /// printed on the key; slot 9c by default). The YubiKey is found by serial, and the slot's
    /// keyid shown and checked against the keys allowed to sign, before the PIN is asked for.
    /// Needs a conclave built with the `yubikey` feature and a running pcscd.
    #[arg(long, value_name = "SERIAL[:SLOT]")]
    pub yubikey: Option<String>,
}

/// Open the signer the officer named, checking its keyid with `check_allowed` before any
/// passphrase or PIN is asked for. `names` puts the key's name and officer beside its keyid.
pub fn open(
    k: &KeyArgs,
    prompter: &mut Prompter,
    check_allowed: &dyn Fn(&KeyId) -> Result<(), Failure>,
    names: &crate::cli::names::Names,
    signatures: usize,
) -> Result<Box<dyn Signer>, Failure> {
    if let Some(spec) = &k.yubikey {
        return crate::cli::yubikey::signer(spec, prompter, check_allowed, names, signatures);
    }
    if let Some(path) = &k.key {
        let kf = crate::cli::key::load_key_file(path)?;
        let keyid = kf.public_key().keyid();
        eprintln!(
            "Signing with key file {} (keyid {}).",
            shown(path),
            names.keyid(&keyid)
        );
        check_allowed(&keyid)?;
        let prompt = format!("Passphrase for {} (to sign)", shown(path));
        return prompter.secret_tries(&prompt, |pass| {
            eprintln!("Unlocking the key (Argon2id, {})...", kf.profile().name);
            match kf.signer(pass) {
                Ok(s) => Ok(Try::Done(s)),
                Err(e @ KeyFileError::Decrypt) => {
                    let message = format!("{}: {e}", shown(path));
                    Ok(Try::Wrong {
                        failure: Failure::failed(&message),
                        again: Some(message),
                    })
                }
                Err(e) => Err(Failure::failed(format!("{}: {e}", shown(path)))),
            }
        });
    }
    if let Some(id) = &k.derive {
        conclave::signer::derived::check_identity(id)
            .map_err(|e| Failure::usage(format!("--derive: {e}")))?;
        let prompt = format!("Passphrase for derived key {} (to sign)", escape(id));
        return prompter.secret_tries(&prompt, |pass| {
            eprintln!("Deriving the key (Argon2id, 2 GiB)...");
            let s = conclave::signer::derived::derive(id, pass).map_err(Failure::usage)?;
            let keyid = s.public_key().keyid();
            eprintln!("Derived keyid {}.", names.keyid(&keyid));
            // A mistyped passphrase derives another key: the only sign of it is a key that
            // may not sign.
            Ok(match check_allowed(&keyid) {
                Ok(()) => Try::Done(Box::new(s) as Box<dyn Signer>),
                Err(f) => Try::Wrong {
                    again: Some(format!(
                        "{} (a mistyped passphrase gives a different key)",
                        f.message
                    )),
                    failure: f.hint(
                        "a mistyped passphrase or identity gives a different key: check both and try again",
                    ),
                },
            })
        });
    }
    if let Some(uri) = &k.pkcs11 {
        return crate::cli::pkcs11::signer(uri, prompter, check_allowed, names);
    }
    Err(Failure::usage(
        "give --key KEYFILE, --derive ID, --pkcs11 URI or --yubikey SERIAL[:SLOT]",
    ))
}

/// The failure for a signature that could not be made: a device error when a token failed.
pub fn sign_failure(k: &KeyArgs, e: conclave::signer::SignError) -> Failure {
    let mut f = Failure::failed(e.to_string());
    // The token failed while signing (removed, refused the mechanism): a device error.
    if k.pkcs11.is_some() && matches!(e, conclave::signer::SignError::Backend(_)) {
        f.code = exit::DEVICE;
        f = f.hint("check the token is connected and run the command again; nothing was written");
    }
    if k.yubikey.is_some() && matches!(e, conclave::signer::SignError::Backend(_)) {
        f.code = exit::DEVICE;
        f = f.hint(
            "if the key needs a touch, touch its gold contact when the light blinks; check the \
             YubiKey is inserted and run the command again. Nothing was written",
        );
    }
    f
}
