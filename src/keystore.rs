//! The encrypted key file format.
//!
//! A key file is a small JSON document:
//!
//! ```json
//! { "format": "conclave-key-file", "format_version": 1,
//!   "kdf": { "name": "argon2id", "profile": "rfc9106-64mib", "t_cost": 3, "m_cost_kib": 65536, "p_cost": 4 },
//!   "salt": "<32 bytes, hex>",
//!   "cipher": "xchacha20poly1305", "nonce": "<24 bytes, hex>",
//!   "public_key": { "keytype": "ed25519", "scheme": "ed25519", "keyval": { "public": "…" } },
//!   "ciphertext": "<hex>" }
//! ```
//!
//! The private key (an Ed25519 seed or a P-256 scalar, 32 bytes) is encrypted with
//! XChaCha20-Poly1305 under Argon2id(passphrase, salt). Everything except `ciphertext` — magic,
//! format version, KDF parameters, salt, nonce, the public key — is bound into the encryption
//! as associated data (its canonical JSON), so changing any of it makes decryption fail rather
//! than, say, pairing the private key with an attacker's public key. The public key is in
//! clear so `conclave key public` needs no passphrase. KDF parameters must be one of the
//! allowlisted profiles ([`crate::kdf::PROFILES`]) and are checked before any work is done.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use crate::cjson::{self, Map, Value};
use crate::kdf::Profile;
use crate::metadata::{Key, KeyAlgorithm};
use crate::secret::{Passphrase, SecretBytes, random};
use crate::signer::{Ed25519Signer, P256Signer, Signer};

/// The `format` value that marks a conclave key file.
pub const FORMAT: &str = crate::fsutil::KEY_FILE_FORMAT;
/// The only `format_version` this conclave reads and writes (bound into the AEAD with the
/// rest of the header).
pub const FORMAT_VERSION: i64 = 1;
const CIPHER: &str = "xchacha20poly1305";
const KDF: &str = "argon2id";
/// The largest key file conclave will read; real ones are under 1 KiB.
pub const MAX_FILE_SIZE: usize = crate::fsutil::KEY_FILE_MAX;

/// The algorithm of a new key: TUF's own [`KeyAlgorithm`], under the name callers use.
pub use crate::metadata::KeyAlgorithm as KeyType;

/// Why a key file could not be read, decrypted or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// The bytes are not a well-formed key file: not JSON, a field missing or malformed, or a
    /// header not in canonical form.
    #[error("not a conclave key file ({0})")]
    NotKeyFile(String),
    /// The file's `format_version` is not [`FORMAT_VERSION`].
    #[error(
        "key file format version {0} is not supported (this conclave reads version {FORMAT_VERSION})"
    )]
    UnsupportedVersion(i64),
    /// The Argon2id parameters are not an allowlisted profile (or not the profile named): refused
    /// before any work, so a tampered file cannot make conclave spend unbounded memory or time.
    #[error(
        "the key derivation parameters (t={t}, m={m} KiB, p={p}) are not one of conclave's \
         allowed profiles; the file is damaged or has been tampered with"
    )]
    KdfNotAllowed {
        /// Argon2id time cost (passes).
        t: i64,
        /// Argon2id memory cost in KiB.
        m: i64,
        /// Argon2id parallelism (lanes).
        p: i64,
    },
    /// Decryption failed. Wrong passphrase and damaged file are one error on purpose: telling
    /// them apart would help an attacker probing a stolen file.
    #[error("wrong passphrase, or the key file is damaged")]
    Decrypt,
    /// The decrypted private key does not belong to the public key stored in the file.
    #[error("the decrypted private key does not belong to the public key in the file")]
    Mismatch,
    /// The random source, key derivation, encryption or key construction failed.
    #[error("{0}")]
    Crypto(String),
}

/// A parsed key file whose header has been checked; the private key is still encrypted.
pub struct KeyFile {
    profile: Profile,
    salt: Vec<u8>,
    nonce: [u8; 24],
    public: Key,
    algorithm: KeyAlgorithm,
    header: Map,
    ciphertext: Vec<u8>,
}

/// A fresh private key, in memory only.
pub fn generate_secret(key_type: KeyType) -> Result<SecretBytes, KeyFileError> {
    loop {
        let mut secret = Zeroizing::new([0u8; 32]);
        random(secret.as_mut()).map_err(|e| KeyFileError::Crypto(e.to_string()))?;
        // About one P-256 scalar in 2^32 is out of range; draw again.
        if key_type == KeyType::Ed25519 || p256::SecretKey::from_slice(secret.as_ref()).is_ok() {
            return Ok(secret);
        }
    }
}

/// A signer for a private key of `algorithm`.
pub(crate) fn signer_for(
    algorithm: KeyAlgorithm,
    secret: &SecretBytes,
) -> Result<Box<dyn Signer>, KeyFileError> {
    Ok(match algorithm {
        KeyAlgorithm::Ed25519 => Box::new(Ed25519Signer::from_seed(secret)),
        KeyAlgorithm::EcdsaP256 => Box::new(
            P256Signer::from_scalar(secret).map_err(|e| KeyFileError::Crypto(e.to_string()))?,
        ),
    })
}

fn header(profile: Profile, salt: &[u8], nonce: &[u8], public: &Key) -> Map {
    let mut kdf = Map::new();
    kdf.insert("name".into(), KDF.into());
    kdf.insert("profile".into(), profile.name.into());
    kdf.insert("t_cost".into(), Value::Int(i64::from(profile.t_cost)));
    kdf.insert(
        "m_cost_kib".into(),
        Value::Int(i64::from(profile.m_cost_kib)),
    );
    kdf.insert("p_cost".into(), Value::Int(i64::from(profile.p_cost)));
    let mut h = Map::new();
    h.insert("format".into(), FORMAT.into());
    h.insert("format_version".into(), Value::Int(FORMAT_VERSION));
    h.insert("kdf".into(), Value::Object(kdf));
    h.insert("salt".into(), hex::encode(salt).into());
    h.insert("cipher".into(), CIPHER.into());
    h.insert("nonce".into(), hex::encode(nonce).into());
    h.insert("public_key".into(), public.to_value());
    h
}

fn cipher_for(
    profile: Profile,
    passphrase: &Passphrase,
    salt: &[u8],
) -> Result<XChaCha20Poly1305, KeyFileError> {
    let key = profile
        .derive(passphrase.expose().as_bytes(), salt)
        .map_err(|e| KeyFileError::Crypto(e.to_string()))?;
    XChaCha20Poly1305::new_from_slice(key.as_ref()).map_err(|e| KeyFileError::Crypto(e.to_string()))
}

/// Encrypt `secret` (of `key_type`) under `passphrase` and return the key file's bytes and
/// the public key.
pub fn seal(
    key_type: KeyType,
    secret: &SecretBytes,
    profile: Profile,
    passphrase: &Passphrase,
) -> Result<(Vec<u8>, Key), KeyFileError> {
    let public = signer_for(key_type, secret)?.public_key().clone();
    let mut salt = [0u8; 32];
    let mut nonce = [0u8; 24];
    random(&mut salt).map_err(|e| KeyFileError::Crypto(e.to_string()))?;
    random(&mut nonce).map_err(|e| KeyFileError::Crypto(e.to_string()))?;
    let h = header(profile, &salt, &nonce, &public);
    let aad = cjson::to_canonical(&Value::Object(h.clone()));
    let ciphertext = cipher_for(profile, passphrase, &salt)?
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: secret.as_ref(),
                aad: &aad,
            },
        )
        .map_err(|_| KeyFileError::Crypto("encryption failed".into()))?;
    let mut file = h;
    file.insert("ciphertext".into(), hex::encode(ciphertext).into());
    Ok((cjson::to_pretty(&Value::Object(file)), public))
}

fn field<'a>(m: &'a Map, name: &str) -> Result<&'a Value, KeyFileError> {
    m.get(name)
        .ok_or_else(|| KeyFileError::NotKeyFile(format!("missing \"{name}\"")))
}

fn string<'a>(m: &'a Map, name: &str) -> Result<&'a str, KeyFileError> {
    field(m, name)?
        .as_str()
        .ok_or_else(|| KeyFileError::NotKeyFile(format!("\"{name}\" must be a string")))
}

fn int(m: &Map, name: &str) -> Result<i64, KeyFileError> {
    match field(m, name)? {
        Value::Int(i) => Ok(*i),
        _ => Err(KeyFileError::NotKeyFile(format!(
            "\"{name}\" must be an integer"
        ))),
    }
}

fn hex_field(m: &Map, name: &str, len: usize) -> Result<Vec<u8>, KeyFileError> {
    let raw = hex::decode(string(m, name)?)
        .map_err(|_| KeyFileError::NotKeyFile(format!("\"{name}\" is not hex")))?;
    if raw.len() != len {
        return Err(KeyFileError::NotKeyFile(format!(
            "\"{name}\" must be {len} bytes, found {}",
            raw.len()
        )));
    }
    Ok(raw)
}

impl KeyFile {
    /// Parse and check a key file's header. No passphrase is needed and no KDF is run.
    pub fn parse(bytes: &[u8]) -> Result<Self, KeyFileError> {
        if bytes.len() > MAX_FILE_SIZE {
            return Err(KeyFileError::NotKeyFile(format!(
                "larger than {MAX_FILE_SIZE} bytes"
            )));
        }
        let value = cjson::parse(bytes).map_err(|e| KeyFileError::NotKeyFile(e.to_string()))?;
        let Value::Object(mut map) = value else {
            return Err(KeyFileError::NotKeyFile("not a JSON object".into()));
        };
        if string(&map, "format")? != FORMAT {
            return Err(KeyFileError::NotKeyFile(
                "\"format\" is not conclave-key-file".into(),
            ));
        }
        let version = int(&map, "format_version")?;
        if version != FORMAT_VERSION {
            return Err(KeyFileError::UnsupportedVersion(version));
        }
        let ciphertext = hex::decode(string(&map, "ciphertext")?)
            .map_err(|_| KeyFileError::NotKeyFile("\"ciphertext\" is not hex".into()))?;
        // 32 bytes of key plus the 16-byte Poly1305 tag.
        if ciphertext.len() != 48 {
            return Err(KeyFileError::NotKeyFile(format!(
                "\"ciphertext\" must be 48 bytes, found {}",
                ciphertext.len()
            )));
        }
        map.remove("ciphertext");
        let expected_fields = [
            "format",
            "format_version",
            "kdf",
            "salt",
            "cipher",
            "nonce",
            "public_key",
        ];
        if let Some(extra) = map.keys().find(|k| !expected_fields.contains(&k.as_str())) {
            return Err(KeyFileError::NotKeyFile(format!(
                "unexpected field \"{}\"",
                crate::display::escape(extra)
            )));
        }
        let Value::Object(kdf) = field(&map, "kdf")? else {
            return Err(KeyFileError::NotKeyFile("\"kdf\" must be an object".into()));
        };
        if string(kdf, "name")? != KDF {
            return Err(KeyFileError::NotKeyFile("the KDF is not argon2id".into()));
        }
        let (t, m, p) = (
            int(kdf, "t_cost")?,
            int(kdf, "m_cost_kib")?,
            int(kdf, "p_cost")?,
        );
        let profile = Profile::matching(t, m, p).ok_or(KeyFileError::KdfNotAllowed { t, m, p })?;
        if string(kdf, "profile")? != profile.name {
            return Err(KeyFileError::KdfNotAllowed { t, m, p });
        }
        if string(&map, "cipher")? != CIPHER {
            return Err(KeyFileError::NotKeyFile(
                "the cipher is not xchacha20poly1305".into(),
            ));
        }
        let salt = hex_field(&map, "salt", 32)?;
        let nonce: [u8; 24] = hex_field(&map, "nonce", 24)?
            .try_into()
            .expect("length checked");
        let public = Key::from_value(field(&map, "public_key")?.clone(), "public_key")
            .map_err(|e| KeyFileError::NotKeyFile(e.to_string()))?;
        let algorithm = public.algorithm().ok_or_else(|| {
            KeyFileError::NotKeyFile("the public key's type is not supported".into())
        })?;
        // The header is rebuilt from the parsed values; it must be exactly what was stored,
        // or the associated data would not be what the file shows.
        if header(profile, &salt, &nonce, &public) != map {
            return Err(KeyFileError::NotKeyFile(
                "the header is not in canonical form".into(),
            ));
        }
        Ok(KeyFile {
            profile,
            salt,
            nonce,
            public,
            algorithm,
            header: map,
            ciphertext,
        })
    }

    /// The public key stored in clear (readable without the passphrase). It is authenticated
    /// only by a successful [`KeyFile::unseal`], as part of the associated data.
    pub fn public_key(&self) -> &Key {
        &self.public
    }

    /// The allowlisted KDF profile the file's parameters matched.
    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// Decrypt the private key. Wrong passphrase and damaged file are one error on purpose:
    /// telling them apart would help an attacker probing a stolen file.
    pub fn unseal(&self, passphrase: &Passphrase) -> Result<SecretBytes, KeyFileError> {
        let aad = cjson::to_canonical(&Value::Object(self.header.clone()));
        let plain = Zeroizing::new(
            cipher_for(self.profile, passphrase, &self.salt)?
                .decrypt(
                    &XNonce::from(self.nonce),
                    Payload {
                        msg: &self.ciphertext,
                        aad: &aad,
                    },
                )
                .map_err(|_| KeyFileError::Decrypt)?,
        );
        let mut secret = Zeroizing::new([0u8; 32]);
        secret.copy_from_slice(&plain);
        Ok(secret)
    }

    /// Decrypt and return a signer, checking the key belongs to the stored public key.
    pub fn signer(&self, passphrase: &Passphrase) -> Result<Box<dyn Signer>, KeyFileError> {
        let secret = self.unseal(passphrase)?;
        let signer = signer_for(self.algorithm, &secret)?;
        if signer.public_key().keyid() != self.public.keyid() {
            return Err(KeyFileError::Mismatch);
        }
        Ok(signer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kdf::RFC9106_64MIB;

    fn pass(s: &str) -> Passphrase {
        Passphrase::new(s.into())
    }

    #[test]
    fn seal_and_unseal_round_trip_for_both_key_types() {
        for kt in [KeyType::Ed25519, KeyType::EcdsaP256] {
            let secret = generate_secret(kt).unwrap();
            let (bytes, public) =
                seal(kt, &secret, RFC9106_64MIB, &pass("hunter2 hunter2")).unwrap();
            let kf = KeyFile::parse(&bytes).unwrap();
            assert_eq!(kf.public_key(), &public);
            let signer = kf.signer(&pass("hunter2 hunter2")).unwrap();
            assert_eq!(signer.public_key(), &public);
            assert!(matches!(
                kf.signer(&pass("hunter3 hunter3")),
                Err(KeyFileError::Decrypt)
            ));
        }
    }

    #[test]
    fn every_flipped_byte_and_every_truncation_is_refused() {
        let secret = generate_secret(KeyType::Ed25519).unwrap();
        let (bytes, _) = seal(KeyType::Ed25519, &secret, RFC9106_64MIB, &pass("p")).unwrap();
        // Checking every byte with the KDF would take minutes; sample positions across the
        // whole file, and check those that still parse fail to decrypt.
        let mut decrypt_checked = 0;
        for i in (0..bytes.len()).step_by(7) {
            let mut bad = bytes.clone();
            bad[i] ^= 0x01;
            match KeyFile::parse(&bad) {
                Err(_) => {}
                Ok(kf) => {
                    decrypt_checked += 1;
                    assert!(kf.signer(&pass("p")).is_err(), "flip at {i} went unnoticed");
                }
            }
        }
        assert!(decrypt_checked > 0 || bytes.len() < 7);
        for len in [0, 1, bytes.len() / 2, bytes.len() - 2] {
            assert!(
                KeyFile::parse(&bytes[..len]).is_err(),
                "truncation to {len}"
            );
        }
    }

    #[test]
    fn kdf_parameters_outside_the_allowlist_are_refused_before_any_work() {
        let secret = generate_secret(KeyType::Ed25519).unwrap();
        let (bytes, _) = seal(KeyType::Ed25519, &secret, RFC9106_64MIB, &pass("p")).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let huge = text.replace("\"m_cost_kib\": 65536", "\"m_cost_kib\": 4294967295");
        assert!(matches!(
            KeyFile::parse(huge.as_bytes()),
            Err(KeyFileError::KdfNotAllowed { .. })
        ));
        let spin = text.replace("\"t_cost\": 3", "\"t_cost\": 1000000");
        assert!(matches!(
            KeyFile::parse(spin.as_bytes()),
            Err(KeyFileError::KdfNotAllowed { .. })
        ));
        let renamed = text.replace(
            "\"profile\": \"rfc9106-64mib\"",
            "\"profile\": \"rfc9106-2gib\"",
        );
        assert!(matches!(
            KeyFile::parse(renamed.as_bytes()),
            Err(KeyFileError::KdfNotAllowed { .. })
        ));
    }

    #[test]
    fn swapping_the_public_key_breaks_decryption() {
        let s1 = generate_secret(KeyType::Ed25519).unwrap();
        let s2 = generate_secret(KeyType::Ed25519).unwrap();
        let (f1, k1) = seal(KeyType::Ed25519, &s1, RFC9106_64MIB, &pass("p")).unwrap();
        let (_, k2) = seal(KeyType::Ed25519, &s2, RFC9106_64MIB, &pass("p")).unwrap();
        let text = String::from_utf8(f1)
            .unwrap()
            .replace(&*k1.public(), &k2.public());
        let kf = KeyFile::parse(text.as_bytes()).unwrap();
        assert!(matches!(kf.signer(&pass("p")), Err(KeyFileError::Decrypt)));
    }
}
