//! `conclave key generate | public | change-passphrase | derive` and `conclave passphrase generate`
//! (`key split` and `key combine` are in `shares.rs`).

use std::path::PathBuf;

use conclave::display::escape;
use conclave::kdf;
use conclave::keystore::{self, KeyType};
use conclave::passphrase;
use conclave::signer::Signer;
use conclave::signer::pkcs11::{DeviceError, Pkcs11KeyType, Pkcs11Uri, Token};

pub use crate::cli::keyfile::{KeyTypeArg, describe_new_key, load_key_file};
use crate::cli::keyfile::{announce_kdf, profile_by_name, refuse_existing, write_key_file};
use crate::cli::prompt::Prompter;
use crate::cli::{Failure, exit, print_public_key, shown};

/// Make and look after keys.
#[derive(clap::Subcommand)]
pub enum KeyCommand {
    Generate(Box<GenerateArgs>),
    Public(PublicArgs),
    ChangePassphrase(ChangeArgs),
    Derive(DeriveArgs),
    Id(IdArgs),
    Attest(crate::cli::attest::AttestArgs),
    Split(Box<crate::cli::shares::SplitArgs>),
    Combine(crate::cli::shares::CombineArgs),
}

/// Print the keyid of a public key file (TUF key JSON), e.g. for `root rotate --remove-key`.
#[derive(clap::Args)]
pub struct IdArgs {
    /// The public key file.
    pubfile: PathBuf,
}

/// Generate a random key in a new passphrase-protected key file, or in a PKCS#11 token.
///
/// With -o FILE, the private key is encrypted with XChaCha20-Poly1305 under a key stretched
/// from your passphrase with Argon2id. The file is created with mode 0600 and never
/// overwritten: if FILE exists, nothing happens.
///
/// With --pkcs11 URI, the key pair is generated inside the token (it never leaves it), under
/// the URI's object=LABEL; a label already in use is refused. The PIN comes from the URI's
/// pin-source=file:PATH, or is asked for (or read from --passphrase-fd). See docs/hardware.md.
///
/// A YubiKey through Yubico's ykcs11 (module-path=.../libykcs11.so; recognised by the token's
/// manufacturer and model) gets an ECDSA P-256 key in the empty PIV slot the URI's id names
/// (%01 9a, %02 9c, the default, %03 9d, %04 9e, %05-%18 retired slots; no object=). ykcs11
/// generates only for its security officer: conclave first asks for the PIV management key
/// (48 hex digits, or the word "default" for the factory default
/// 010203040506070801020304050607080102030405060708), then the PIN, and checks both before
/// generating. The key gets the slot's default PIN and touch policies. --yubikey is the
/// better way to enrol: it sets the policies and writes the attestation record.
///
/// With --yubikey SERIAL[:SLOT] -o PUBFILE, an ECDSA P-256 key is generated on the YubiKey's
/// PIV applet (slot 9c unless given), attested by the device, and its public key written to
/// PUBFILE; the enrolment record (serial, slot, policies, attestation chain) goes beside it,
/// PUBFILE with its last extension replaced by .enrolment.json. The slot must be empty, and
/// the PIV applet must have the factory-default management key. Needs a conclave built with
/// the `yubikey` feature and a running pcscd. See docs/hardware.md.
///
/// The public key (TUF key JSON) is printed on stdout; give it to `root init --key
/// ROLE=PUBFILE`.
#[derive(clap::Args)]
pub struct GenerateArgs {
    /// The key file to create.
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FILE",
        required_unless_present = "pkcs11",
        conflicts_with = "pkcs11"
    )]
    output: Option<PathBuf>,
    /// Generate the key on a YubiKey (PIV), e.g. 12345678 or 12345678:9c (the serial printed
    /// on the key; slot 9c by default). -o names the public key file to write.
    #[arg(long, value_name = "SERIAL[:SLOT]", conflicts_with = "pkcs11")]
    yubikey: Option<String>,
    /// With --yubikey: when the device asks for the PIN (once per command, or before every
    /// signature).
    #[arg(long, value_enum, default_value = "once", requires = "yubikey")]
    pin_policy: crate::cli::yubikey::PinPolicyArg,
    /// With --yubikey: whether signing needs a touch of the key (always, cached for 15 s,
    /// never).
    #[arg(long, value_enum, default_value = "always", requires = "yubikey")]
    touch_policy: crate::cli::yubikey::TouchPolicyArg,
    /// Generate the key pair in a PKCS#11 token, e.g.
    /// 'pkcs11:token=NAME;object=LABEL?module-path=/usr/lib/softhsm/libsofthsm2.so'.
    #[arg(long, value_name = "URI", value_parser = crate::cli::pkcs11::parse_uri)]
    pkcs11: Option<conclave::signer::pkcs11::Pkcs11Uri>,
    /// Key type (default ed25519; with --yubikey or on a YubiKey through ykcs11, only
    /// ecdsa-p256).
    #[arg(long = "type", value_enum)]
    key_type: Option<KeyTypeArg>,
    /// Argon2id profile: rfc9106-2gib (default: 2 GiB, 1 pass) or rfc9106-64mib (64 MiB,
    /// 3 passes, for machines short of memory).
    #[arg(long, value_name = "NAME", default_value = "rfc9106-2gib")]
    profile: String,
    /// Read the passphrase (twice: new, then repeat) from this file descriptor, one per line;
    /// with --pkcs11, the token's user PIN (once; on a YubiKey through ykcs11, the PIV
    /// management key first, then the PIN); with --yubikey, the PIV PIN (once).
    #[arg(long, value_name = "N")]
    passphrase_fd: Option<u32>,
}

/// Print the public key of a key file (no passphrase needed).
#[derive(clap::Args)]
pub struct PublicArgs {
    /// The key file.
    file: PathBuf,
}

/// Re-encrypt a key file under a new passphrase, into a new file.
///
/// The old file is left as it is (conclave never overwrites or deletes a key file): destroy it
/// yourself once the new one is checked and backed up.
#[derive(clap::Args)]
pub struct ChangeArgs {
    /// The existing key file.
    file: PathBuf,
    /// The new key file to create.
    #[arg(short = 'o', long = "output", value_name = "NEW")]
    output: PathBuf,
    /// Argon2id profile for the new file (default: the old file's).
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,
    /// Read the passphrases (current, new, repeat) from this file descriptor, one per line.
    #[arg(long, value_name = "N")]
    passphrase_fd: Option<u32>,
}

/// Derive an Ed25519 key from a passphrase and an identity (PEP 480's "secondary password").
///
/// No private key file is written: the same passphrase and identity always give the same
/// key, so the passphrase is the key. It must therefore be long and random — use
/// `conclave passphrase generate` — because the public key is public and anyone can try
/// passphrases against it offline. The passphrase is asked twice; the public key (TUF key
/// JSON) is printed on stdout, its keyid and fingerprint words on stderr for your records.
///
/// A passphrase is refused below 90 bits, or when it repeats a word or characters. Distinct
/// words of the EFF large list (as `passphrase generate` or dice make them) count 12.9 bits
/// each, so 7 words are enough; anything else is estimated with zxcvbn, which counts common
/// words, names, keyboard walks, dates and l33t as the few guesses they are. docs/keys.md
/// explains.
#[derive(clap::Args)]
pub struct DeriveArgs {
    /// What the key is for and who holds it, e.g. pypi.org/root/alice. Write it down: you
    /// need it, exactly, to sign.
    #[arg(long, value_name = "ID")]
    identity: String,
    /// Read the passphrase (twice) from this file descriptor, one per line.
    #[arg(long, value_name = "N")]
    passphrase_fd: Option<u32>,
}

pub fn run(cmd: KeyCommand) -> Result<u8, Failure> {
    match cmd {
        KeyCommand::Generate(a) => generate(*a),
        KeyCommand::Public(a) => {
            let kf = load_key_file(&a.file)?;
            print_public_key(kf.public_key());
            Ok(exit::OK)
        }
        KeyCommand::ChangePassphrase(a) => change(a),
        KeyCommand::Derive(a) => derive(a),
        KeyCommand::Id(a) => {
            println!("{}", crate::cli::read_public_key(&a.pubfile)?.keyid());
            Ok(exit::OK)
        }
        KeyCommand::Attest(a) => crate::cli::attest::run(a),
        KeyCommand::Split(a) => crate::cli::shares::split(*a),
        KeyCommand::Combine(a) => crate::cli::shares::combine(a),
    }
}

fn generate(a: GenerateArgs) -> Result<u8, Failure> {
    if let Some(spec) = &a.yubikey {
        if matches!(a.key_type, Some(KeyTypeArg::Ed25519)) {
            return Err(Failure::usage("--yubikey makes ECDSA P-256 keys only").hint(
                "drop --type, or give --type ecdsa-p256; docs/hardware.md explains why not Ed25519",
            ));
        }
        let output = a
            .output
            .as_deref()
            .expect("clap requires -o without --pkcs11");
        return crate::cli::yubikey::generate(
            spec,
            output,
            a.pin_policy,
            a.touch_policy,
            a.passphrase_fd,
        );
    }
    if let Some(uri) = &a.pkcs11 {
        return generate_in_token(uri, a.key_type, a.passphrase_fd);
    }
    let key_type = a.key_type.unwrap_or(KeyTypeArg::Ed25519);
    let Some(output) = &a.output else {
        return Err(Failure::usage("give -o FILE or --pkcs11 URI"));
    };
    let profile = profile_by_name(&a.profile)?;
    refuse_existing(output)?;
    // In a ceremony directory (or with --ceremony-dir) the new key's keyid is recorded; a
    // broken transcript stops here, before the passphrase is asked for.
    let recorder = crate::cli::record::Recorder::find(&[output], &[])?;
    let mut prompter = Prompter::new(a.passphrase_fd)?;
    let pass = prompter.new_secret(&shown(output))?;
    warn_if_weak(&pass);
    let kt = match key_type {
        KeyTypeArg::Ed25519 => KeyType::Ed25519,
        KeyTypeArg::EcdsaP256 => KeyType::EcdsaP256,
    };
    let secret = keystore::generate_secret(kt).map_err(|e| Failure::usage(e.to_string()))?;
    announce_kdf(profile);
    let (bytes, public) =
        keystore::seal(kt, &secret, profile, &pass).map_err(|e| Failure::usage(e.to_string()))?;
    write_key_file(output, &bytes)?;
    eprintln!("Created {} (mode 0600).", shown(output));
    describe_new_key(&public);
    eprintln!(
        "Next: keep the key file and a backup safe, and give the public key above (stdout) to whoever drafts the root."
    );
    print_public_key(&public);
    let keyid = public.keyid().to_string();
    crate::cli::record::step(
        &recorder,
        format!("key generate {keyid}"),
        &[],
        &[output],
        vec![keyid],
    )?;
    Ok(exit::OK)
}

/// `key generate --pkcs11`: everything that can be checked without the PIN first (module,
/// token, free label, PIN not locked), then log in and generate inside the token.
/// A YubiKey seen through ykcs11 goes to [`crate::cli::ykcs11::generate`] (PIV slot,
/// management key).
fn generate_in_token(
    uri: &Pkcs11Uri,
    key_type: Option<KeyTypeArg>,
    passphrase_fd: Option<u32>,
) -> Result<u8, Failure> {
    use crate::cli::pkcs11::{announce, device, pin};
    let token = Token::open(uri).map_err(device)?;
    if token.is_yubikey_piv() {
        return crate::cli::ykcs11::generate(uri, &token, key_type, passphrase_fd);
    }
    let key_type = key_type.unwrap_or(KeyTypeArg::Ed25519);
    let label = uri
        .object
        .as_deref()
        .ok_or_else(|| device(DeviceError::NoObject))?;
    announce(&token)?;
    token.refuse_existing_label(label).map_err(device)?;
    // Nothing is written, so only an explicit --ceremony-dir records the new key (its label,
    // token and keyid); a broken transcript stops here, before the PIN is asked for.
    let recorder = crate::cli::record::Recorder::find(&[], &[])?;
    let mut prompter = Prompter::new(passphrase_fd)?;
    let pin = pin(uri, &token, &mut prompter)?;
    let (kt, name) = match key_type {
        KeyTypeArg::Ed25519 => (Pkcs11KeyType::Ed25519, "Ed25519"),
        KeyTypeArg::EcdsaP256 => (Pkcs11KeyType::EcdsaP256, "ECDSA P-256"),
    };
    eprintln!(
        "Generating an {name} key pair labelled \"{}\" inside the token...",
        escape(label)
    );
    let signer = token
        .generate(label, uri.id.as_deref(), kt, &pin)
        .map_err(device)?;
    // Sign and verify once now, so a token that cannot sign with this key is found at
    // enrolment, not at the ceremony.
    conclave::signer::sign_checked(&signer, b"conclave enrolment self-test").map_err(|e| {
        Failure {
            message: format!(
                "the new key \"{}\" was generated but cannot sign: {e}",
                escape(label)
            ),
            hint: Some(
                "do not enrol this key; see docs/hardware.md (the key stays in the token: \
                 remove it with the vendor's tool)"
                    .into(),
            ),
            code: exit::DEVICE,
        }
    })?;
    eprintln!(
        "Created key \"{}\" in token \"{}\" (serial {}); the private key cannot leave the token.",
        escape(label),
        escape(token.label()),
        escape(token.serial())
    );
    describe_new_key(signer.public_key());
    eprintln!(
        "Next: keep the token and its PIN safe, and give the public key above (stdout) to whoever drafts the root."
    );
    print_public_key(signer.public_key());
    let keyid = signer.public_key().keyid().to_string();
    crate::cli::record::step(
        &recorder,
        format!(
            "key generate --pkcs11 token {} serial {} label {} {keyid}",
            escape(token.label()),
            escape(token.serial()),
            escape(label)
        ),
        &[],
        &[],
        vec![keyid],
    )?;
    Ok(exit::OK)
}

/// A key file's new passphrase: the same estimate as for derived keys, but a warning, not a
/// refusal (the file must also be stolen before anyone can guess).
fn warn_if_weak(pass: &conclave::secret::Passphrase) {
    if let Err(why) = passphrase::assess(pass).check(passphrase::WARN_KEY_FILE_BITS) {
        eprintln!(
            "warning: this passphrase looks weak: {why}. Anyone who copies the key file can try \
             passphrases offline; `conclave passphrase generate` makes a strong one."
        );
    }
}

/// Refuse a derived key's passphrase below [`passphrase::MIN_DERIVED_BITS`] or with a repeat,
/// saying why and how to make a good one.
fn refuse_weak_derived(pass: &conclave::secret::Passphrase) -> Result<(), Failure> {
    let strength = passphrase::assess(pass);
    strength.check(passphrase::MIN_DERIVED_BITS).map_err(|why| {
        let mut hint = String::from(
            "a derived key's public key is published, so anyone can guess passphrases \
                 against it offline, forever. Use `conclave passphrase generate` (8 random \
                 words, about 103 bits) or roll dice for 7 or more words of the EFF large list, \
                 and write it down.",
        );
        if !strength.suggestions.is_empty() {
            hint.push_str(" zxcvbn suggests: ");
            hint.push_str(&strength.suggestions.join(" "));
        }
        Failure::usage(format!(
            "this passphrase is too weak for a derived key: {why}; nothing was derived"
        ))
        .hint(hint)
    })
}

fn change(a: ChangeArgs) -> Result<u8, Failure> {
    let kf = load_key_file(&a.file)?;
    refuse_existing(&a.output)?;
    let profile = match &a.profile {
        Some(name) => profile_by_name(name)?,
        None => kf.profile(),
    };
    let mut prompter = Prompter::new(a.passphrase_fd)?;
    // A mistyped current passphrase is asked again at the terminal, as when signing.
    let prompt = format!("Current passphrase for {}", shown(&a.file));
    let secret = prompter.secret_tries(&prompt, |current| {
        announce_kdf(kf.profile());
        match kf.unseal(current) {
            Ok(secret) => Ok(crate::cli::prompt::Try::Done(secret)),
            Err(e @ keystore::KeyFileError::Decrypt) => {
                let message = format!("{}: {e}", shown(&a.file));
                Ok(crate::cli::prompt::Try::Wrong {
                    failure: Failure::failed(&message),
                    again: Some(message),
                })
            }
            Err(e) => Err(Failure::failed(format!("{}: {e}", shown(&a.file)))),
        }
    })?;
    let new = prompter.new_secret(&shown(&a.output))?;
    warn_if_weak(&new);
    let kt = match kf.public_key().algorithm() {
        Some(conclave::metadata::KeyAlgorithm::EcdsaP256) => KeyType::EcdsaP256,
        _ => KeyType::Ed25519,
    };
    announce_kdf(profile);
    let (bytes, public) =
        keystore::seal(kt, &secret, profile, &new).map_err(|e| Failure::usage(e.to_string()))?;
    if public.keyid() != kf.public_key().keyid() {
        return Err(Failure::failed(format!(
            "{}: the decrypted key does not match its public key; nothing was written",
            shown(&a.file)
        )));
    }
    write_key_file(&a.output, &bytes)?;
    eprintln!(
        "Created {} with the new passphrase. The old file {} is unchanged: destroy it once the new one is checked and backed up.",
        shown(&a.output),
        shown(&a.file)
    );
    describe_new_key(&public);
    Ok(exit::OK)
}

fn derive(a: DeriveArgs) -> Result<u8, Failure> {
    conclave::signer::derived::check_identity(&a.identity)
        .map_err(|e| Failure::usage(format!("--identity: {e}")))?;
    // Nothing is written, so only an explicit --ceremony-dir records the derivation (identity
    // and keyid, never the passphrase).
    let recorder = crate::cli::record::Recorder::find(&[], &[])?;
    let mut prompter = Prompter::new(a.passphrase_fd)?;
    let pass = prompter.new_secret(&format!("derived key {}", escape(&a.identity)))?;
    refuse_weak_derived(&pass)?;
    announce_kdf(kdf::RFC9106_2GIB);
    let signer = conclave::signer::derived::derive(&a.identity, &pass).map_err(Failure::usage)?;
    eprintln!("Identity: {}", escape(&a.identity));
    describe_new_key(signer.public_key());
    eprintln!(
        "Next: write down the identity exactly as above, keep the passphrase safe, and give the public key (stdout) to whoever drafts the root."
    );
    print_public_key(signer.public_key());
    let keyid = signer.public_key().keyid().to_string();
    crate::cli::record::step(
        &recorder,
        format!("key derive {} {keyid}", escape(&a.identity)),
        &[],
        &[],
        vec![keyid],
    )?;
    Ok(exit::OK)
}

/// Make a random diceware passphrase.
///
/// Words are drawn uniformly from the EFF large word list (7,776 words, about 12.9 bits each)
/// shipped in conclave, each word at most once. The passphrase is printed on stdout: write it
/// down on paper, never in a file.
#[derive(clap::Args)]
pub struct PassphraseArgs {
    /// Number of words (8 is about 103 bits; derived keys need at least 7).
    #[arg(long, default_value_t = passphrase::DEFAULT_WORDS)]
    words: usize,
}

#[derive(clap::Subcommand)]
pub enum PassphraseCommand {
    Generate(PassphraseArgs),
}

pub fn run_passphrase(cmd: PassphraseCommand) -> Result<u8, Failure> {
    let PassphraseCommand::Generate(a) = cmd;
    if a.words == 0 || a.words > 64 {
        return Err(Failure::usage("--words must be between 1 and 64"));
    }
    let p = passphrase::generate(a.words).map_err(Failure::usage)?;
    let bits = passphrase::strength::diceware_bits(a.words);
    if bits < passphrase::MIN_DERIVED_BITS {
        eprintln!(
            "warning: {} words is about {bits:.0} bits, too few for a passphrase-derived key (7 or more)",
            a.words
        );
    }
    println!("{}", p.expose());
    Ok(exit::OK)
}
