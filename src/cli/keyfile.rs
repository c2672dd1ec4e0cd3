//! What `key` and `key split` / `key combine` share: reading and writing key files, the KDF
//! profiles, and describing a key to the officer.

use std::path::Path;

use conclave::display::escape;
use conclave::kdf::{self, Profile};
use conclave::keystore::KeyFile;
use conclave::metadata::Key;

use crate::cli::{Failure, read_file, shown};

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum KeyTypeArg {
    Ed25519,
    #[value(name = "ecdsa-p256")]
    EcdsaP256,
}

pub fn profile_by_name(name: &str) -> Result<Profile, Failure> {
    Profile::by_name(name).ok_or_else(|| {
        Failure::usage(format!("unknown --profile \"{}\"", escape(name))).hint(format!(
            "the profiles are: {}",
            kdf::PROFILES
                .iter()
                .map(|p| format!("{} ({})", p.name, p.summary))
                .collect::<Vec<_>>()
                .join("; ")
        ))
    })
}

pub fn refuse_existing(path: &Path) -> Result<(), Failure> {
    if std::fs::symlink_metadata(path).is_ok() {
        return Err(Failure::usage(format!(
            "{}: already exists; conclave never overwrites a key file",
            shown(path)
        ))
        .hint("choose a new file name"));
    }
    Ok(())
}

pub fn load_key_file(path: &Path) -> Result<KeyFile, Failure> {
    let bytes = read_file(path)?;
    KeyFile::parse(&bytes).map_err(|e| Failure::failed(format!("{}: {e}", shown(path))))
}

pub fn write_key_file(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    crate::cli::record::wrote(path);
    conclave::fsutil::create_new_private(path, bytes).map_err(|e| {
        Failure::usage(format!(
            "{}: cannot create: {}",
            shown(path),
            crate::cli::io_reason(&e)
        ))
    })
}

pub fn announce_kdf(profile: Profile) {
    eprintln!(
        "Stretching the passphrase with Argon2id ({}: {} MiB, {} pass(es)); this takes a few seconds...",
        profile.name,
        profile.m_cost_kib / 1024,
        profile.t_cost
    );
}

pub fn describe_new_key(public: &Key) {
    let id = public.keyid();
    // The first 8 bytes of the keyid as words: enough to tell keys apart when read aloud.
    let (_, words) = conclave::ceremony::review::digest_for_reading(&id.as_str()[..16]);
    eprintln!("Key type: {}/{}", public.keytype, public.scheme);
    eprintln!("Keyid:    {id}");
    eprintln!(
        "Fingerprint (first 8 bytes of the keyid as words; write it on the key's record): {}",
        words.join(" ")
    );
}
