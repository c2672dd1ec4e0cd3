//! `conclave key split` and `conclave key combine --from-shares`: a key's backup as SLIP-0039
//! share cards, and the key file restored from M of them.

use std::path::{Path, PathBuf};

use conclave::ceremony::backup::{self, CardInfo};
use conclave::display::escape;
use conclave::keystore::{self, KeyType};
use conclave::metadata::{Key, KeyAlgorithm};
use conclave::secret::{Passphrase, SecretBytes};
use conclave::slip39::{self, Share, ShareError};

use crate::cli::keyfile::{
    KeyTypeArg, announce_kdf, describe_new_key, load_key_file, profile_by_name, refuse_existing,
    write_key_file,
};
use crate::cli::prompt::{Prompter, Try};
use crate::cli::{Failure, exit, shown};

/// Split a key into SLIP-0039 share cards, any M of which restore it.
///
/// Writes DIR/share-K-of-N.txt and DIR/share-K-of-N.svg (a printable A4 page with a QR code
/// of the words) for each of the N holders: the share's words, the key's name, keyid and
/// fingerprint, the share's number, M and N, the date, and the restore command. DIR must not
/// exist; it is created with mode 0700 and the cards with 0600. Print the pages, hand one to
/// each holder, then delete DIR (see docs/keys.md).
///
/// Before anything is written, every M-subset of the shares is read back from its words and
/// recombined in memory, and each must give the key's public key. The shares follow
/// SLIP-0039 (one group, M of N, no SLIP-0039 passphrase), so any SLIP-0039 tool can
/// recover the key's 32 private bytes. The transcript (in a ceremony directory) records that
/// a split happened, M of N, the holders and the keyid; never the shares.
#[derive(clap::Args)]
pub struct SplitArgs {
    /// The key file to back up (its passphrase is asked for).
    #[arg(required_unless_present = "derive", conflicts_with = "derive")]
    keyfile: Option<PathBuf>,
    /// Back up a passphrase-derived key instead: the identity it was derived for (its
    /// passphrase is asked for).
    #[arg(long, value_name = "ID")]
    derive: Option<String>,
    /// With --derive: the keyid the passphrase must give (as `key derive` printed it);
    /// without it the passphrase is asked twice.
    #[arg(long, value_name = "KEYID", requires = "derive")]
    keyid: Option<String>,
    /// N: how many shares to make (2 to 16).
    #[arg(long, value_name = "N")]
    shares: u8,
    /// M: how many shares restore the key (2 to N).
    #[arg(long, value_name = "M")]
    threshold: u8,
    /// The new directory to write the cards into.
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    output: PathBuf,
    /// The key's name on the cards (default: the key file's name, or the identity).
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Who holds each share, in order (give it N times, or not at all).
    #[arg(long, value_name = "NAME")]
    holder: Vec<String>,
    /// Read the passphrase from this file descriptor (one line per prompt).
    #[arg(long, value_name = "N")]
    passphrase_fd: Option<u32>,
}

/// Restore a key file from SLIP-0039 shares (from `key split`, or any SLIP-0039 tool).
///
/// The shares come one at a time: from the FILEs given after --from-shares (share cards from
/// `key split`, or files holding only the words), else typed at the prompt (one share per
/// answer, the words separated by spaces; from --passphrase-fd, one share per line). Each is
/// checked as it comes: a word not in the SLIP-0039 list, or a checksum that fails, is named
/// with its share and position (and the word probably meant), and a share from another
/// backup or given twice is refused. At the terminal a refused share is asked for again.
///
/// When M shares are in, the key is rebuilt, its keyid shown (and checked against --keyid),
/// and a new key file written under a new passphrase (asked twice), with mode 0600. FILE must
/// not exist: conclave never overwrites a key file.
#[derive(clap::Args)]
pub struct CombineArgs {
    /// Read the shares from these files, one share a file (default: ask for them).
    #[arg(long = "from-shares", value_name = "FILE", num_args = 0.., required = true)]
    from_shares: Vec<PathBuf>,
    /// The key file to create.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
    /// The key's type, as its share cards say.
    #[arg(long = "type", value_enum, default_value = "ed25519")]
    key_type: KeyTypeArg,
    /// The keyid the restored key must have (as its share cards say).
    #[arg(long, value_name = "KEYID")]
    keyid: Option<String>,
    /// Argon2id profile for the new key file: rfc9106-2gib (default) or rfc9106-64mib.
    #[arg(long, value_name = "NAME", default_value = "rfc9106-2gib")]
    profile: String,
    /// Read the shares (when no FILE is given, one a line) and then the new passphrase
    /// (twice) from this file descriptor.
    #[arg(long, value_name = "N")]
    passphrase_fd: Option<u32>,
}

fn check_keyid_text(given: &str) -> Result<String, Failure> {
    conclave::metadata::lookup::keyid_prefix(given)
        .map_err(|e| Failure::usage(format!("--keyid: {e}")))
}

/// The private key to back up, its public key and its name.
fn secret_to_split(
    a: &SplitArgs,
    prompter: &mut Prompter,
) -> Result<(SecretBytes, Key, String), Failure> {
    if let Some(path) = &a.keyfile {
        let kf = load_key_file(path)?;
        let public = kf.public_key().clone();
        let prompt = format!("Passphrase for {} (to back it up)", shown(path));
        let secret = prompter.secret_tries(&prompt, |pass| {
            announce_kdf(kf.profile());
            match kf.unseal(pass) {
                Ok(s) => Ok(Try::Done(s)),
                Err(e @ keystore::KeyFileError::Decrypt) => {
                    let message = format!("{}: {e}", shown(path));
                    Ok(Try::Wrong {
                        failure: Failure::failed(&message),
                        again: Some(message),
                    })
                }
                Err(e) => Err(Failure::failed(format!("{}: {e}", shown(path)))),
            }
        })?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| shown(path));
        return Ok((secret, public, name));
    }
    let id = a
        .derive
        .as_deref()
        .expect("clap requires KEYFILE or --derive");
    conclave::signer::derived::check_identity(id)
        .map_err(|e| Failure::usage(format!("--derive: {e}")))?;
    let expected = a.keyid.as_deref().map(check_keyid_text).transpose()?;
    let pass = if expected.is_some() {
        prompter.secret(&format!("Passphrase for derived key {}", escape(id)))?
    } else {
        let first = prompter.secret(&format!("Passphrase for derived key {}", escape(id)))?;
        let again = prompter.secret(&format!("Repeat the passphrase for {}", escape(id)))?;
        if !first.matches(&again) {
            return Err(
                Failure::usage("the two passphrases differ; nothing was written")
                    .hint("run the command again and type the same passphrase twice"),
            );
        }
        first
    };
    eprintln!("Deriving the key (Argon2id, 2 GiB)...");
    let seed = conclave::signer::derived::derive_seed(id, &pass).map_err(Failure::usage)?;
    let public = backup::public_key_of(KeyAlgorithm::Ed25519, &seed)
        .ok_or_else(|| Failure::failed("the derived seed gives no Ed25519 key"))?;
    if let Some(want) = expected
        && !conclave::metadata::lookup::keyid_matches(&want, &public.keyid())
    {
        return Err(Failure::failed(format!(
            "the passphrase gives keyid {}, not {want}; nothing was written",
            public.keyid()
        ))
        .hint(
            "a mistyped passphrase or identity gives a different key: check both and try again",
        ));
    }
    Ok((seed, public, id.to_owned()))
}

pub fn split(a: SplitArgs) -> Result<u8, Failure> {
    if a.threshold < 2 || a.threshold > a.shares || a.shares > slip39::MAX_SHARES {
        return Err(Failure::usage(format!(
            "--threshold {} of --shares {}: the threshold must be at least 2 and at most the \
             number of shares, which is at most 16",
            a.threshold, a.shares
        )));
    }
    if !a.holder.is_empty() && a.holder.len() != usize::from(a.shares) {
        return Err(Failure::usage(format!(
            "{} --holder names for {} shares: name every holder, in order, or none",
            a.holder.len(),
            a.shares
        )));
    }
    if std::fs::symlink_metadata(&a.output).is_ok() {
        return Err(
            Failure::usage(format!("{}: already exists", shown(&a.output)))
                .hint("name a new directory: share cards are never written over anything"),
        );
    }
    let recorder = crate::cli::record::Recorder::find(&[&a.output], &[])?;
    let mut prompter = Prompter::new(a.passphrase_fd)?;
    let (secret, public, default_name) = secret_to_split(&a, &mut prompter)?;
    let name = a.name.clone().unwrap_or(default_name);
    eprintln!(
        "Splitting key {} into {} shares, any {} of which restore it; checking every set of {}...",
        public.keyid(),
        a.shares,
        a.threshold,
        a.threshold
    );
    let words = backup::split_key(&secret, &public, a.threshold, a.shares)
        .map_err(|e| Failure::failed(crate::cli::chain(&e)))?;
    drop(secret);
    let date = conclave::metadata::Expires::now().to_string()[..10].to_owned();
    let mut files: Vec<(String, zeroize::Zeroizing<String>)> = Vec::new();
    for (n, w) in words.iter().enumerate() {
        let info = CardInfo {
            name: &name,
            public: &public,
            number: n + 1,
            threshold: a.threshold,
            count: a.shares,
            holder: a.holder.get(n).map(String::as_str),
            date: &date,
        };
        let stem = format!("share-{}-of-{}", n + 1, a.shares);
        files.push((format!("{stem}.txt"), backup::card_text(&info, w)));
        let svg = backup::card_svg(&info, w).map_err(|e| Failure::failed(crate::cli::chain(&e)))?;
        files.push((format!("{stem}.svg"), svg));
    }
    write_cards(&a.output, &files)?;
    eprintln!(
        "Every set of {} shares restores key {}. Wrote {} cards to {} (text and printable SVG).",
        a.threshold,
        public.keyid(),
        a.shares,
        shown(&a.output)
    );
    describe_new_key(&public);
    eprintln!(
        "Next: print each card, give share K to its holder, check the keyid aloud with each, \
         then delete {} (docs/keys.md).",
        shown(&a.output)
    );
    let holders = if a.holder.is_empty() {
        String::new()
    } else {
        format!(
            " to {}",
            a.holder
                .iter()
                .map(|h| escape(h).into_owned())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    // The transcript says a split happened, to whom, M of N and the keyid; the cards are
    // secrets, so neither they nor their digests are recorded.
    crate::cli::record::step(
        &recorder,
        format!(
            "key split {} {}-of-{}{holders}",
            public.keyid(),
            a.threshold,
            a.shares
        ),
        &[],
        &[],
        vec![public.keyid().to_string()],
    )?;
    Ok(exit::OK)
}

/// Create `dir` (mode 0700) and the cards in it (mode 0600, never over anything).
fn write_cards(dir: &Path, files: &[(String, zeroize::Zeroizing<String>)]) -> Result<(), Failure> {
    use std::os::unix::fs::DirBuilderExt;
    let cannot = |p: &Path, e: std::io::Error| {
        Failure::usage(format!(
            "{}: cannot create: {}",
            shown(p),
            crate::cli::io_reason(&e)
        ))
    };
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(dir)
        .map_err(|e| cannot(dir, e))?;
    for (name, text) in files {
        let path = dir.join(name);
        conclave::fsutil::create_new_private(&path, text.as_bytes())
            .map_err(|e| cannot(&path, e))?;
    }
    Ok(())
}

/// Where one share came from, for messages: "share 2 (bob.txt)".
fn source_name(n: usize, file: Option<&Path>) -> String {
    match file {
        Some(f) => format!("share {n} ({})", shown(f)),
        None => format!("share {n}"),
    }
}

/// Read share `n` and check it against those already in.
fn take_share(n: usize, text: &str, file: Option<&Path>, have: &[Share]) -> Result<Share, String> {
    let share = Share::parse(text).map_err(|e| match e {
        ShareError::UnknownWord(slip) => {
            format!("{}: {slip} is not a SLIP-0039 word", source_name(n, file))
        }
        other => format!("{}: {other}", source_name(n, file)),
    })?;
    let mut with: Vec<Share> = Vec::with_capacity(have.len() + 1);
    // check_set looks at parameters only; parse again rather than copy secret values around.
    for s in have {
        with.push(Share::parse(&s.words()).map_err(|e| e.to_string())?);
    }
    with.push(Share::parse(text).map_err(|e| e.to_string())?);
    slip39::check_set(&with).map_err(|e| format!("{}: {e}", source_name(n, file)))?;
    Ok(share)
}

pub fn combine(a: CombineArgs) -> Result<u8, Failure> {
    let profile = profile_by_name(&a.profile)?;
    refuse_existing(&a.output)?;
    let expected = a.keyid.as_deref().map(check_keyid_text).transpose()?;
    let recorder = crate::cli::record::Recorder::find(&[&a.output], &[])?;
    let mut prompter = Prompter::new(a.passphrase_fd)?;
    let mut shares: Vec<Share> = Vec::new();
    let mut files = a.from_shares.iter();
    loop {
        let n = shares.len() + 1;
        let share = match files.next() {
            Some(path) => {
                let bytes = crate::cli::read_file(path)?;
                let text = Passphrase::new(
                    String::from_utf8(bytes)
                        .map_err(|_| Failure::failed(format!("{}: not text", shown(path))))?,
                );
                let words = backup::words_from_file(text.expose());
                take_share(n, &words, Some(path), &shares).map_err(|m| {
                    Failure::failed(m).hint("check the card; other files are not read")
                })?
            }
            None if !a.from_shares.is_empty() => break,
            None => {
                let prompt =
                    format!("Words of share {n} (separated by spaces; an empty answer cancels)");
                prompter.secret_tries(&prompt, |typed| {
                    Ok(match take_share(n, typed.expose(), None, &shares) {
                        Ok(s) => Try::Done(s),
                        Err(message) => Try::Wrong {
                            failure: Failure::failed(&message)
                                .hint("check the words against the card and type the share again"),
                            again: Some(message),
                        },
                    })
                })?
            }
        };
        eprintln!(
            "Share {n} accepted (member {} of a {}-of-N backup).",
            share.index() + 1,
            share.member_threshold()
        );
        shares.push(share);
        let missing = slip39::shares_missing(&shares);
        if missing == 0 {
            break;
        }
        if a.from_shares.is_empty() {
            eprintln!("{missing} more share(s) needed.");
        }
    }
    let missing = slip39::shares_missing(&shares);
    if missing > 0 {
        return Err(Failure::failed(format!(
            "{} share(s) given, {missing} more needed; nothing was written",
            shares.len()
        ))
        .hint("fewer shares than the threshold say nothing about the key: bring more holders"));
    }
    let secret = slip39::combine(&shares, b"").map_err(|e| {
        Failure::failed(format!(
            "the shares do not restore a key: {e}; nothing was written"
        ))
    })?;
    drop(shares);
    let mut bytes: SecretBytes = zeroize::Zeroizing::new([0u8; 32]);
    if secret.expose().len() != 32 {
        return Err(Failure::failed(format!(
            "the shares hold {} bytes, not a 32-byte private key; nothing was written",
            secret.expose().len()
        )));
    }
    bytes.copy_from_slice(secret.expose());
    drop(secret);
    let kt = match a.key_type {
        KeyTypeArg::Ed25519 => KeyType::Ed25519,
        KeyTypeArg::EcdsaP256 => KeyType::EcdsaP256,
    };
    let public = backup::public_key_of(kt, &bytes).ok_or_else(|| {
        Failure::failed(
            "the restored bytes are not a valid key of this --type; nothing was written",
        )
        .hint("check --type against the share cards")
    })?;
    eprintln!("The shares restore key {}.", public.keyid());
    if let Some(want) = &expected
        && !conclave::metadata::lookup::keyid_matches(want, &public.keyid())
    {
        return Err(Failure::failed(format!(
            "the shares restore keyid {}, not {want}; nothing was written",
            public.keyid()
        ))
        .hint("check --type and --keyid against the share cards"));
    }
    let pass = prompter.new_secret(&shown(&a.output))?;
    announce_kdf(profile);
    let (file, sealed) =
        keystore::seal(kt, &bytes, profile, &pass).map_err(|e| Failure::usage(e.to_string()))?;
    write_key_file(&a.output, &file)?;
    eprintln!("Created {} (mode 0600).", shown(&a.output));
    describe_new_key(&sealed);
    crate::cli::print_public_key(&sealed);
    crate::cli::record::step(
        &recorder,
        format!("key combine {}", sealed.keyid()),
        &[],
        &[&a.output],
        vec![sealed.keyid().to_string()],
    )?;
    Ok(exit::OK)
}
