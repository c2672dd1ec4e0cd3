//! SLIP-0039 "Encryption of the master secret": a four-round Feistel network whose round
//! function is PBKDF2-HMAC-SHA256 of the passphrase, (10000 << e) / 4 iterations a round.

use super::SecretBuf;

const ROUNDS: u8 = 4;
const BASE_ITERATIONS: u32 = 10_000;

/// The PBKDF2 salt: "shamir" and the identifier, or nothing for an extendable backup (whose
/// shares can be added to later under a new identifier).
fn salt(identifier: u16, extendable: bool) -> Vec<u8> {
    if extendable {
        Vec::new()
    } else {
        let mut s = b"shamir".to_vec();
        s.extend_from_slice(&identifier.to_be_bytes());
        s
    }
}

fn round(i: u8, passphrase: &[u8], exponent: u8, salt: &[u8], r: &[u8], out: &mut [u8]) {
    let mut password = zeroize::Zeroizing::new(Vec::with_capacity(1 + passphrase.len()));
    password.push(i);
    password.extend_from_slice(passphrase);
    let mut s = zeroize::Zeroizing::new(Vec::with_capacity(salt.len() + r.len()));
    s.extend_from_slice(salt);
    s.extend_from_slice(r);
    let iterations = (BASE_ITERATIONS << exponent) / u32::from(ROUNDS);
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(&password, &s, iterations, out);
}

/// Run the network over `data` with the rounds in `order`; returns R || L.
fn feistel(
    data: &[u8],
    passphrase: &[u8],
    exponent: u8,
    identifier: u16,
    extendable: bool,
    order: &mut dyn Iterator<Item = u8>,
) -> SecretBuf {
    let half = data.len() / 2;
    let salt = salt(identifier, extendable);
    let mut l = SecretBuf::copy_of(&data[..half]);
    let mut r = SecretBuf::copy_of(&data[half..]);
    let mut f = SecretBuf::zeroed(half);
    for i in order {
        round(i, passphrase, exponent, &salt, r.expose(), f.expose_mut());
        // (L, R) <- (R, L xor F(R))
        for (x, y) in l.expose_mut().iter_mut().zip(f.expose()) {
            *x ^= y;
        }
        std::mem::swap(&mut l, &mut r);
    }
    let mut out = SecretBuf::zeroed(data.len());
    out.expose_mut()[..half].copy_from_slice(r.expose());
    out.expose_mut()[half..].copy_from_slice(l.expose());
    out
}

pub(crate) fn encrypt(
    secret: &[u8],
    passphrase: &[u8],
    exponent: u8,
    identifier: u16,
    extendable: bool,
) -> SecretBuf {
    feistel(
        secret,
        passphrase,
        exponent,
        identifier,
        extendable,
        &mut (0..ROUNDS),
    )
}

pub(crate) fn decrypt(
    encrypted: &[u8],
    passphrase: &[u8],
    exponent: u8,
    identifier: u16,
    extendable: bool,
) -> SecretBuf {
    feistel(
        encrypted,
        passphrase,
        exponent,
        identifier,
        extendable,
        &mut (0..ROUNDS).rev(),
    )
}
