//! Key backups as SLIP-0039 shares: a key's 32 private bytes split among N holders, any M of
//! whom can restore the key, each holding a printed share card.
//!
//! Before anything is written, [`split_key`] reads every share back from its words and
//! recombines every M-subset in memory: each must give the same encrypted secret, and that
//! secret must give the key's public key. A split that would not restore is never handed out.
//!
//! The cards are secrets (M of them are the key). They carry what a holder needs at a restore
//! and what an officer checks aloud: the key's name, keyid and fingerprint words, the share's
//! number, M and N, the date, and the exact restore command.

use zeroize::Zeroizing;

use crate::display::escape;
use crate::metadata::{Key, KeyAlgorithm};
use crate::optical::{self, OpticalError};
use crate::slip39::{self, CombineError, SecretBuf, Share, SplitError};

/// Why a key could not be split or its shares not checked.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The split itself failed (counts out of range, no randomness).
    #[error(transparent)]
    Split(#[from] SplitError),
    /// An M-subset did not recombine; this is a bug or failing memory, and nothing is written.
    #[error("shares {shares} do not recombine: {source}; nothing was written")]
    Recombine {
        /// The subset, as share numbers from 1.
        shares: String,
        /// Why.
        #[source]
        source: CombineError,
    },
    /// An M-subset gave another secret, or the secret another public key.
    #[error("shares {shares} give a key other than {keyid}; nothing was written")]
    WrongKey {
        /// The subset, as share numbers from 1.
        shares: String,
        /// The key's keyid.
        keyid: String,
    },
    /// The share's words could not be read back (a bug).
    #[error("share {number} cannot be read back from its words: {source}")]
    ReadBack {
        /// The share, from 1.
        number: usize,
        /// Why.
        #[source]
        source: slip39::ShareError,
    },
    /// The QR code could not be drawn.
    #[error("the QR code of share {number}: {source}")]
    Qr {
        /// The share, from 1.
        number: usize,
        /// Why.
        #[source]
        source: OpticalError,
    },
}

/// The public key of `secret` as a key of `algorithm`.
pub fn public_key_of(algorithm: KeyAlgorithm, secret: &[u8; 32]) -> Option<Key> {
    let secret = Zeroizing::new(*secret);
    crate::keystore::signer_for(algorithm, &secret)
        .ok()
        .map(|s| s.public_key().clone())
}

/// Every subset of `0..n` with `m` members, smallest first.
fn subsets(n: usize, m: usize) -> impl Iterator<Item = Vec<usize>> {
    (0u32..1 << n)
        .filter(move |mask| mask.count_ones() as usize == m)
        .map(move |mask| (0..n).filter(|i| mask >> i & 1 == 1).collect())
}

fn numbers(subset: &[usize]) -> String {
    subset
        .iter()
        .map(|i| (i + 1).to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Split the private key `secret` (of `public`) into `count` shares, any `threshold` of
/// which restore it, and check every `threshold`-subset of the shares, read back from their
/// words, restores exactly that key. Returns the shares' words in order.
pub fn split_key(
    secret: &[u8; 32],
    public: &Key,
    threshold: u8,
    count: u8,
) -> Result<Vec<Zeroizing<String>>, BackupError> {
    let algorithm = public.algorithm();
    let keyid = public.keyid().to_string();
    let shares = slip39::split(secret, threshold, count)?;
    let words: Vec<Zeroizing<String>> = shares.iter().map(Share::words).collect();
    drop(shares);
    let read = |n: usize| {
        Share::parse(&words[n]).map_err(|source| BackupError::ReadBack {
            number: n + 1,
            source,
        })
    };
    let mut first: Option<SecretBuf> = None;
    for subset in subsets(words.len(), usize::from(threshold)) {
        let set = subset
            .iter()
            .map(|&n| read(n))
            .collect::<Result<Vec<_>, _>>()?;
        let recombine = |source| BackupError::Recombine {
            shares: numbers(&subset),
            source,
        };
        let encrypted = slip39::combine_encrypted(&set).map_err(recombine)?;
        match &first {
            // Equal encrypted secrets decrypt to equal secrets: one decryption (PBKDF2, the
            // slow part) checks the key for every subset.
            Some(f) if same(f.expose(), encrypted.expose()) => {}
            Some(_) => {
                return Err(BackupError::WrongKey {
                    shares: numbers(&subset),
                    keyid,
                });
            }
            None => {
                let restored = slip39::combine(&set, b"").map_err(recombine)?;
                let gives = <&[u8; 32]>::try_from(restored.expose())
                    .ok()
                    .and_then(|s| algorithm.and_then(|a| public_key_of(a, s)));
                if gives.as_ref().map(Key::keyid) != Some(public.keyid()) {
                    return Err(BackupError::WrongKey {
                        shares: numbers(&subset),
                        keyid,
                    });
                }
                first = Some(encrypted);
            }
        }
    }
    Ok(words)
}

/// Equal bytes, compared without an early exit.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What a share card says besides the words.
pub struct CardInfo<'a> {
    /// The key's name (a file name or a derived key's identity).
    pub name: &'a str,
    /// The key.
    pub public: &'a Key,
    /// The share's number, from 1.
    pub number: usize,
    /// M.
    pub threshold: u8,
    /// N.
    pub count: u8,
    /// Who holds this share, if the officer said.
    pub holder: Option<&'a str>,
    /// The day of the split (YYYY-MM-DD).
    pub date: &'a str,
}

impl CardInfo<'_> {
    fn key_type(&self) -> &'static str {
        match self.public.algorithm() {
            Some(KeyAlgorithm::EcdsaP256) => "ecdsa-p256",
            _ => "ed25519",
        }
    }

    /// The command that restores the key from M shares.
    pub fn restore_command(&self) -> String {
        format!(
            "conclave key combine --from-shares --type {} --keyid {} -o NEW.key",
            self.key_type(),
            self.public.keyid()
        )
    }

    fn fingerprint(&self) -> String {
        let id = self.public.keyid().to_string();
        crate::ceremony::review::digest_for_reading(&id[..16])
            .1
            .join(" ")
    }

    fn header_lines(&self) -> Vec<String> {
        let mut lines = vec![
            format!(
                "CONCLAVE KEY BACKUP - SHARE {} OF {} - ANY {} RESTORE THE KEY",
                self.number, self.count, self.threshold
            ),
            format!(
                "SECRET: {} of these cards are the private key. Keep this card apart from the others.",
                self.threshold
            ),
            String::new(),
            format!("Key:          {} ({})", escape(self.name), self.key_type()),
            format!("Keyid:        {}", self.public.keyid()),
            format!("Fingerprint:  {}", self.fingerprint()),
            format!(
                "Share:        {} of {}, threshold {} (SLIP-0039)",
                self.number, self.count, self.threshold
            ),
        ];
        if let Some(h) = self.holder {
            lines.push(format!("Holder:       {}", escape(h)));
        }
        lines.push(format!("Made:         {}", self.date));
        lines
    }
}

/// The card as text: header, the words numbered in columns, the restore command.
pub fn card_text(info: &CardInfo<'_>, words: &str) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::new());
    for l in info.header_lines() {
        out.push_str(&l);
        out.push('\n');
    }
    out.push_str("\nWords:\n");
    let list: Vec<&str> = words.split(' ').collect();
    for row in list.chunks(4).enumerate() {
        let (r, chunk) = row;
        for (c, w) in chunk.iter().enumerate() {
            out.push_str(&format!("{:>4} {:<10}", r * 4 + c + 1, w));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "\nTo restore: {}\n(then type the words of {} shares, one share at a time)\n",
        info.restore_command(),
        info.threshold
    ));
    out
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The card as a printable A4 page (SVG, sizes in millimetres): header, the words in a
/// numbered grid, the QR code of the words (scanned, it types them), the restore command.
pub fn card_svg(info: &CardInfo<'_>, words: &str) -> Result<Zeroizing<String>, BackupError> {
    let (width, dark) = optical::qr_modules(words).map_err(|source| BackupError::Qr {
        number: info.number,
        source,
    })?;
    let mut svg = Zeroizing::new(String::new());
    svg.push_str(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <svg xmlns=\"http://www.w3.org/2000/svg\" xml:space=\"preserve\" width=\"210mm\" height=\"297mm\" \
         viewBox=\"0 0 210 297\">\n\
         <rect width=\"210\" height=\"297\" fill=\"#fff\"/>\n\
         <g font-family=\"DejaVu Sans Mono, Menlo, Consolas, monospace\" fill=\"#000\">\n",
    );
    let mut y = 20.0;
    for (n, line) in info.header_lines().iter().enumerate() {
        let size = if n == 0 { 5.0 } else { 3.6 };
        let weight = if n <= 1 { " font-weight=\"bold\"" } else { "" };
        svg.push_str(&format!(
            "<text x=\"15\" y=\"{y:.1}\" font-size=\"{size}\"{weight}>{}</text>\n",
            xml(line)
        ));
        y += if n == 0 { 8.0 } else { 5.5 };
    }
    y += 4.0;
    let list: Vec<&str> = words.split(' ').collect();
    let rows = list.len().div_ceil(4);
    for (i, w) in list.iter().enumerate() {
        let (col, row) = (i % 4, i / 4);
        svg.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"4.2\"><tspan fill=\"#666\">{:>2}</tspan> {}</text>\n",
            15.0 + 46.0 * col as f64,
            y + 7.0 * row as f64,
            i + 1,
            xml(w)
        ));
    }
    y += 7.0 * rows as f64 + 4.0;
    // The QR code, 70 mm wide with its quiet zone, dark modules as one path.
    let full = width + 2 * optical::QUIET_ZONE;
    let module = 70.0 / full as f64;
    let (qx, qy) = (70.0, y);
    let mut path = String::new();
    for row in 0..width {
        let mut col = 0;
        while col < width {
            if dark[row * width + col] {
                let start = col;
                while col < width && dark[row * width + col] {
                    col += 1;
                }
                path.push_str(&format!(
                    "M{:.3} {:.3}h{:.3}v{:.3}h-{:.3}z",
                    qx + (start + optical::QUIET_ZONE) as f64 * module,
                    qy + (row + optical::QUIET_ZONE) as f64 * module,
                    (col - start) as f64 * module,
                    module,
                    (col - start) as f64 * module
                ));
            } else {
                col += 1;
            }
        }
    }
    svg.push_str(&format!("</g>\n<path fill=\"#000\" d=\"{path}\"/>\n"));
    y += 70.0 + 8.0;
    // The restore command on lines that fit the page (a 64-digit keyid does not share one).
    let footer = [
        format!("To restore, bring {} shares and run:", info.threshold),
        format!(
            "  conclave key combine --from-shares --type {} -o NEW.key \\",
            info.key_type()
        ),
        format!("      --keyid {}", info.public.keyid()),
        "then type (or scan) the words of each share, one share at a time.".to_owned(),
    ];
    svg.push_str(
        "<g font-family=\"DejaVu Sans Mono, Menlo, Consolas, monospace\" font-size=\"3.2\">\n",
    );
    for (n, line) in footer.iter().enumerate() {
        svg.push_str(&format!(
            "<text x=\"15\" y=\"{:.1}\">{}</text>\n",
            y + 5.0 * n as f64,
            xml(line)
        ));
    }
    svg.push_str("</g>\n</svg>\n");
    Ok(svg)
}

/// Words from a share file: a card (the numbered grid under `Words:`, up to a blank line) or
/// a file of the words alone.
pub fn words_from_file(text: &str) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::new());
    let grid = text
        .lines()
        .skip_while(|l| l.trim() != "Words:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty());
    let mut found = false;
    for line in grid {
        for token in line.split_whitespace() {
            if !token.chars().all(|c| c.is_ascii_digit()) {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(token);
                found = true;
            }
        }
    }
    if !found {
        for token in text.split_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(token);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signer::Signer;

    #[test]
    fn a_split_checks_and_its_cards_read_back() {
        let secret = [9u8; 32];
        let public = crate::signer::Ed25519Signer::from_seed(&secret)
            .public_key()
            .clone();
        let words = split_key(&secret, &public, 2, 3).unwrap();
        assert_eq!(words.len(), 3);
        let info = CardInfo {
            name: "root-<alice>",
            public: &public,
            number: 2,
            threshold: 2,
            count: 3,
            holder: Some("Bob"),
            date: "2026-12-03",
        };
        let text = card_text(&info, &words[1]);
        assert_eq!(words_from_file(&text).as_str(), words[1].as_str());
        assert!(text.contains(&public.keyid().to_string()));
        let svg = card_svg(&info, &words[1]).unwrap();
        assert!(svg.contains("root-&lt;alice&gt;"));
        assert!(svg.contains("<path fill=\"#000\" d=\"M"));
        assert_eq!(words_from_file(&words[0]).as_str(), words[0].as_str());
    }

    #[test]
    fn subsets_are_all_there() {
        assert_eq!(subsets(5, 3).count(), 10);
        assert_eq!(subsets(7, 5).count(), 21);
        assert!(subsets(4, 2).all(|s| s.len() == 2));
    }
}
