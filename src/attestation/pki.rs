//! Yubico's two PIV attestation PKIs, pinned, and the path from a YubiKey's device (f9)
//! certificate up to one of their roots.
//!
//! ```text
//! before firmware 5.7.4:  f9  <-  Yubico PIV Root CA Serial 263751
//! firmware 5.7.4 on:      f9  <-  Yubico PIV Attestation {A,B} 1
//!                             <-  Yubico Attestation Intermediate {A,B} 1
//!                             <-  Yubico Attestation Root 1
//! ```
//!
//! The intermediates of the second PKI are not on the device; Yubico publishes them
//! (developers.yubico.com/PKI/yubico-intermediate.pem) and conclave builds them in. Every root
//! and intermediate is pinned by the SHA-256 of its DER: a certificate that merely carries a
//! Yubico name (anyone can make one) is never part of a path. An attacker who controls the
//! record controls every certificate in it, so the record's own intermediates are used only
//! when each is one of the pinned ones, in exactly the order that forms the path.
//!
//! Origins and the cross-checks of these fingerprints: docs/hardware.md, "Yubico's roots".

use super::chain::{AttestationError, Certificate, Which, malformed};

/// "Yubico PIV Root CA Serial 263751", the root of YubiKeys before firmware 5.7.4, as
/// published at <https://developers.yubico.com/PKI/yubico-piv-ca-1.pem>.
pub const YUBICO_PIV_ROOT_PEM: &str = include_str!("yubico-piv-ca-1.pem");

/// SHA-256 of the DER of [`YUBICO_PIV_ROOT_PEM`].
pub const YUBICO_PIV_ROOT_SHA256: &str =
    "63ece914e54dd87915f34033c85af4c0696ba1512f8add66ced738331207b546";

/// "Yubico Attestation Root 1", the root of YubiKeys with firmware 5.7.4 and later, as
/// published at <https://developers.yubico.com/PKI/yubico-ca-1.pem>.
pub const YUBICO_ATTESTATION_ROOT_1_PEM: &str = include_str!("yubico-attestation-root-1.pem");

/// SHA-256 of the DER of [`YUBICO_ATTESTATION_ROOT_1_PEM`].
pub const YUBICO_ATTESTATION_ROOT_1_SHA256: &str =
    "62760c6a6ef91679f454c8902b80fd009825b3f25da90f1fbace2ec6586cd5a8";

/// One intermediate Yubico publishes for PIV attestation under Attestation Root 1.
#[derive(Clone, Copy, Debug)]
pub struct PublishedIntermediate {
    /// Its subject's common name.
    pub name: &'static str,
    /// SHA-256 of its DER, lowercase hex: the pin.
    pub sha256: &'static str,
    /// The certificate, when conclave has it built in. "Yubico PIV Attestation B2 1" is
    /// pinned but not built in (no copy could be obtained to check): a record may carry it,
    /// and it is used when its fingerprint is the pinned one.
    pub pem: Option<&'static str>,
}

/// The PIV branch of Yubico's published intermediates (yubico-intermediate.pem); the same
/// file's FIDO, OpenPGP, SD and YubiHSM CAs are left out: a path through one of them is not
/// a PIV attestation.
pub const YUBICO_PIV_INTERMEDIATES: &[PublishedIntermediate] = &[
    PublishedIntermediate {
        name: "Yubico Attestation Intermediate A 1",
        sha256: "4698a1d3389c3ec60016c216250f1d0439922832d65142327436376dc2942b55",
        pem: Some(include_str!("yubico-attestation-intermediate-a-1.pem")),
    },
    PublishedIntermediate {
        name: "Yubico Attestation Intermediate B 1",
        sha256: "d4cc3f456fdaf4e7812a21aab1dfe9d8e27d24e2fd2d6f21c9940109f0daa754",
        pem: Some(include_str!("yubico-attestation-intermediate-b-1.pem")),
    },
    PublishedIntermediate {
        name: "Yubico PIV Attestation A 1",
        sha256: "6de693f05376f5d8ca29069261e1c8626c75d503bd2edbfd75354cad1f722870",
        pem: Some(include_str!("yubico-piv-attestation-a-1.pem")),
    },
    PublishedIntermediate {
        name: "Yubico PIV Attestation B 1",
        sha256: "2d55b7998f4e42569d6d8fa382b6dc77d1dacf07358b19701163892922b17052",
        pem: Some(include_str!("yubico-piv-attestation-b-1.pem")),
    },
    PublishedIntermediate {
        name: "Yubico PIV Attestation B2 1",
        sha256: "0c90b7d184a36edf50a35f9be935f0c5689bfdcfe5bdd073366cafb49061a440",
        pem: None,
    },
];

/// The most intermediates a path may hold (Yubico's has two).
const MAX_INTERMEDIATES: usize = 4;

/// Parse a built-in certificate and check it against its pin. A mismatch cannot happen with
/// the files in the source tree; it is an error, not a panic, all the same.
fn pinned(pem: &str, sha256: &str, which: Which) -> Result<Certificate, AttestationError> {
    let cert = Certificate::from_pem(pem, which)?;
    if cert.fingerprint() != sha256 {
        return Err(malformed(
            which,
            format!(
                "the built-in copy of {} does not match its pinned SHA-256",
                cert.subject()
            ),
        ));
    }
    Ok(cert)
}

/// Yubico's two PIV roots, each checked against its pin.
pub(crate) fn yubico_roots() -> Result<Vec<Certificate>, AttestationError> {
    Ok(vec![
        pinned(YUBICO_PIV_ROOT_PEM, YUBICO_PIV_ROOT_SHA256, Which::Root)?,
        pinned(
            YUBICO_ATTESTATION_ROOT_1_PEM,
            YUBICO_ATTESTATION_ROOT_1_SHA256,
            Which::Root,
        )?,
    ])
}

/// The published intermediates conclave has built in, each checked against its pin.
pub fn yubico_intermediates() -> Result<Vec<Certificate>, AttestationError> {
    YUBICO_PIV_INTERMEDIATES
        .iter()
        .filter_map(|p| p.pem.map(|pem| (pem, p.sha256)))
        .enumerate()
        .map(|(i, (pem, sha))| pinned(pem, sha, Which::Intermediate(i as u8 + 1)))
        .collect()
}

/// Whether `cert` is one of the intermediates Yubico publishes for PIV (by fingerprint).
pub fn is_published_intermediate(cert: &Certificate) -> bool {
    let fp = cert.fingerprint();
    YUBICO_PIV_INTERMEDIATES.iter().any(|p| p.sha256 == fp)
}

/// Whether `cert` is one of Yubico's two PIV roots (by fingerprint).
pub fn is_yubico_root(cert: &Certificate) -> bool {
    let fp = cert.fingerprint();
    fp == YUBICO_PIV_ROOT_SHA256 || fp == YUBICO_ATTESTATION_ROOT_1_SHA256
}

/// Where the intermediates of a path come from.
pub(crate) enum Intermediates<'a> {
    /// Search a pool by issuer name: Yubico's built-in ones (or none, for a test CA).
    Pool(Vec<Certificate>),
    /// Exactly these, in this order from the device certificate up (an enrolment record's).
    Exactly(&'a [Certificate]),
}

/// The path from `device` up to one of `roots`: the intermediates in order from the device
/// up, and the root. Every link is a signature check over the exact DER; every intermediate
/// must be a CA and, when `require_pinned`, one of Yubico's published ones.
pub(crate) fn build_path(
    device: &Certificate,
    roots: &[Certificate],
    intermediates: Intermediates<'_>,
    require_pinned: bool,
) -> Result<(Vec<Certificate>, Certificate), AttestationError> {
    let given: &[Certificate] = match &intermediates {
        Intermediates::Pool(pool) => pool,
        Intermediates::Exactly(list) => list,
    };
    if require_pinned {
        for (i, c) in given.iter().enumerate() {
            if !is_published_intermediate(c) {
                return Err(AttestationError::NotPublished {
                    which: Which::Intermediate(i as u8 + 1),
                    subject: c.subject(),
                    fingerprint: c.fingerprint(),
                });
            }
        }
    }
    let mut path: Vec<Certificate> = Vec::new();
    let mut current = device.clone();
    let mut current_which = Which::Device;
    loop {
        if let Some(root) = roots.iter().find(|r| current.issued_by(r)) {
            if let Intermediates::Exactly(list) = &intermediates
                && list.len() > path.len()
            {
                return Err(malformed(
                    Which::Intermediate(path.len() as u8 + 1),
                    format!(
                        "the path reached {} without it: a record lists only the intermediates \
                         of its path",
                        root.subject()
                    ),
                ));
            }
            current.verify_signed_by(current_which, root, Which::Root)?;
            check_path_lengths(&path, root)?;
            return Ok((path, root.clone()));
        }
        if path.len() == MAX_INTERMEDIATES {
            return Err(malformed(current_which, "the path is too long"));
        }
        let next_which = Which::Intermediate(path.len() as u8 + 1);
        let next = match &intermediates {
            Intermediates::Exactly(list) => list.get(path.len()),
            Intermediates::Pool(pool) => pool.iter().find(|c| current.issued_by(c)),
        };
        let Some(next) = next.filter(|n| current.issued_by(n)) else {
            return Err(no_issuer(&current, current_which, roots, next));
        };
        next.check_extensions(next_which)?;
        if next.is_ca(next_which)? != Some(true) {
            return Err(malformed(
                next_which,
                "its basic constraints do not say it is a CA, so it cannot issue certificates",
            ));
        }
        current.verify_signed_by(current_which, next, next_which)?;
        path.push(next.clone());
        current = next.clone();
        current_which = next_which;
    }
}

/// The error for a certificate whose issuer is neither a root nor the next intermediate.
fn no_issuer(
    current: &Certificate,
    which: Which,
    roots: &[Certificate],
    listed: Option<&Certificate>,
) -> AttestationError {
    let expected = match listed {
        Some(c) => c.subject(),
        None => roots
            .iter()
            .map(|r| r.subject())
            .collect::<Vec<_>>()
            .join("\" or \""),
    };
    let note = if listed.is_none() && roots.iter().any(is_yubico_root) {
        " (directly or through one of the intermediates Yubico publishes, which conclave \
         has built in)"
    } else {
        ""
    };
    AttestationError::WrongIssuer {
        which,
        issuer: current.issuer(),
        expected,
        note,
    }
}

/// RFC 5280 4.2.1.9: a CA's path length constraint bounds the CA certificates below it. The
/// device (f9) certificate is a CA too (it issues the slot certificate).
fn check_path_lengths(path: &[Certificate], root: &Certificate) -> Result<(), AttestationError> {
    // Below intermediate i (0-based from the device up) are the device and i intermediates.
    let chain = path
        .iter()
        .enumerate()
        .map(|(i, c)| (c, Which::Intermediate(i as u8 + 1), i + 1))
        .chain(std::iter::once((root, Which::Root, path.len() + 1)));
    for (cert, which, below) in chain {
        if let Some(limit) = cert.path_len(which)?
            && usize::from(limit) < below
        {
            return Err(malformed(
                which,
                format!(
                    "its path length constraint ({limit}) allows fewer CA certificates below \
                     it than the {below} in this path"
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_certificates_match_their_pins_and_names() {
        let roots = yubico_roots().unwrap();
        assert_eq!(roots[0].subject(), "CN=Yubico PIV Root CA Serial 263751");
        assert_eq!(roots[1].subject(), "CN=Yubico Attestation Root 1");
        let ints = yubico_intermediates().unwrap();
        assert_eq!(ints.len(), 4);
        for (cert, published) in ints.iter().zip(YUBICO_PIV_INTERMEDIATES) {
            assert_eq!(cert.subject(), format!("CN={}", published.name));
            assert!(is_published_intermediate(cert));
        }
    }

    #[test]
    fn published_intermediates_chain_to_attestation_root_1() {
        let roots = yubico_roots().unwrap();
        let ints = yubico_intermediates().unwrap();
        // PIV A 1 <- Intermediate A 1 <- Root 1, and the B branch likewise.
        for piv in &ints[2..] {
            let (path, root) =
                build_path(piv, &roots, Intermediates::Pool(ints.clone()), true).unwrap();
            assert_eq!(path.len(), 1);
            assert_eq!(root.fingerprint(), YUBICO_ATTESTATION_ROOT_1_SHA256);
        }
    }
}
