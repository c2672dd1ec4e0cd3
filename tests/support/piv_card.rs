//! A YubiKey-like PIV card, emulated for tests, that plugs into the real PC/SC stack through
//! vsmartcard's `vpcd` reader driver (Debian `vsmartcard-vpcd`, loaded by `pcscd`).
//!
//! It answers the APDUs the `yubikey` crate (0.8) sends, so conclave's YubiKey backend runs
//! unmodified, through libpcsclite and pcscd, against it:
//!
//! - SELECT of the PIV applet (anything else, e.g. the OTP applet, is "not found");
//! - Yubico GET VERSION (0xFD; reports 5.x) and GET SERIAL (0xF8);
//! - GET METADATA (0xF7) for key slots (algorithm, policies, origin, public key);
//! - management-key mutual authentication (GENERAL AUTHENTICATE, 3DES, the factory key);
//! - VERIFY PIN with a retry counter (3 tries, then blocked; the empty VERIFY reports tries);
//! - GENERATE ASYMMETRIC (P-256 only) with PIN and touch policies;
//! - GENERAL AUTHENTICATE: ECDSA over a host-supplied hash, subject to the PIN policy and to a
//!   simulated touch (the test decides whether the "officer" touches);
//! - GET DATA / PUT DATA for objects (certificates), PUT DATA needing the management key;
//! - ATTEST (0xF9): an X.509 certificate for the slot's key, signed by the emulated device
//!   key whose certificate (object 5FFF01, the f9 slot) is signed by an emulator test CA. The
//!   slot certificate carries Yubico's extensions: firmware (1.3.6.1.4.1.41482.3.3), serial
//!   (.3.7) and PIN/touch policy (.3.8). The CA is labelled "NOT Yubico" in its name.
//! - command chaining (CLA 0x10) and response chaining (61xx + GET RESPONSE).
//!
//! The formats follow Yubico's public documentation of the PIV applet's extensions
//! (developers.yubico.com/PIV/Introduction/Yubico_extensions.html and PIV_attestation.html).
//! Used by tests/yubikey.rs (in a thread) and examples/piv_emulator.rs (for rehearsals).

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use p256::ecdsa::SigningKey;
use p256::ecdsa::signature::hazmat::PrehashSigner;
use p256::elliptic_curve::sec1::ToSec1Point;
use p256::pkcs8::EncodePublicKey;
use sha2::{Digest, Sha256};

/// The factory-default 3DES management key of every YubiKey.
pub const DEFAULT_MGM_KEY: [u8; 24] = [
    1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8,
];
const PIV_AID: &[u8] = &[0xa0, 0x00, 0x00, 0x03, 0x08];
const ALG_P256: u8 = 0x11;
const ALG_3DES: u8 = 0x03;
const MGM_SLOT: u8 = 0x9b;
const PIN_TRIES: u8 = 3;
/// Object id of the f9 (attestation) slot's certificate.
const OBJ_ATTESTATION: u32 = 0x5f_ff01;

/// What the emulated YubiKey is.
#[derive(Clone)]
pub struct CardConfig {
    pub serial: u32,
    pub version: [u8; 3],
    pub pin: Vec<u8>,
    /// Whether the simulated officer touches the key when it asks (false: touch times out).
    pub touches: bool,
    /// Seed for the emulator CA and the device (f9) key: same seed, same certificates.
    pub ca_seed: String,
}

impl CardConfig {
    pub fn new(serial: u32, pin: &str) -> CardConfig {
        CardConfig {
            serial,
            version: [5, 4, 3],
            pin: pin.as_bytes().to_vec(),
            touches: true,
            ca_seed: "conclave-piv-emulator".into(),
        }
    }
}

/// What the card has seen, for tests to assert on (e.g. "no VERIFY was ever sent").
#[derive(Default, Clone, Debug)]
pub struct Counters {
    pub verify_with_pin: u32,
    pub signatures: u32,
    pub touch_requests: u32,
}

struct SlotKey {
    key: SigningKey,
    pin_policy: u8,
    touch_policy: u8,
}

/// The emulator test CA: the root an attestation verifier is given with `--ca-cert`.
pub struct EmulatorCa {
    pub ca_cert_der: Vec<u8>,
    pub device_cert_der: Vec<u8>,
    device_key: SigningKey,
}

impl EmulatorCa {
    pub fn new(seed: &str, serial: u32) -> EmulatorCa {
        let ca_key = key_from_seed(&format!("{seed}/ca"));
        let device_key = key_from_seed(&format!("{seed}/device/{serial}"));
        let ca_name = name("conclave PIV emulator test CA (NOT Yubico)");
        let ca_cert_der = certificate(
            &ca_key,
            &ca_name,
            &ca_name,
            1,
            ca_key.verifying_key(),
            &[basic_constraints_ca()],
        );
        let device_cert_der = certificate(
            &ca_key,
            &ca_name,
            &name("Yubico PIV Attestation (conclave emulator, NOT Yubico)"),
            u64::from(serial) + 1000,
            device_key.verifying_key(),
            &[basic_constraints_ca()],
        );
        EmulatorCa {
            ca_cert_der,
            device_cert_der,
            device_key,
        }
    }
}

/// The card's state. Lives as long as the emulator; survives each host's connect/disconnect.
pub struct PivCard {
    cfg: CardConfig,
    ca: EmulatorCa,
    pin_tries_left: u8,
    pin_verified: bool,
    mgm_authenticated: bool,
    mgm_witness: Option<[u8; 8]>,
    slots: HashMap<u8, SlotKey>,
    objects: HashMap<u32, Vec<u8>>,
    chained_command: Vec<u8>,
    pending_response: Vec<u8>,
    pub counters: Counters,
}

impl PivCard {
    pub fn new(cfg: CardConfig) -> PivCard {
        let ca = EmulatorCa::new(&cfg.ca_seed, cfg.serial);
        let mut objects = HashMap::new();
        objects.insert(OBJ_ATTESTATION, cert_object(&ca.device_cert_der));
        PivCard {
            cfg,
            ca,
            pin_tries_left: PIN_TRIES,
            pin_verified: false,
            mgm_authenticated: false,
            mgm_witness: None,
            slots: HashMap::new(),
            objects,
            chained_command: Vec::new(),
            pending_response: Vec::new(),
            counters: Counters::default(),
        }
    }

    pub fn ca(&self) -> &EmulatorCa {
        &self.ca
    }

    pub fn serial(&self) -> u32 {
        self.cfg.serial
    }

    /// Whether a key is in `slot` (e.g. 0x9c).
    pub fn has_key(&self, slot: u8) -> bool {
        self.slots.contains_key(&slot)
    }

    /// Whether the simulated officer touches the key when asked from now on.
    pub fn set_touches(&mut self, touches: bool) {
        self.cfg.touches = touches;
    }

    /// Power-on or reset: the security state (PIN, management key) is lost.
    pub fn reset(&mut self) {
        self.pin_verified = false;
        self.mgm_authenticated = false;
        self.mgm_witness = None;
        self.chained_command.clear();
        self.pending_response.clear();
    }

    /// Answer one command APDU.
    pub fn execute(&mut self, apdu: &[u8]) -> Vec<u8> {
        if apdu.len() < 4 {
            return sw(0x6700);
        }
        let (cla, ins, p1, p2) = (apdu[0], apdu[1], apdu[2], apdu[3]);
        let data = if apdu.len() > 4 {
            let lc = apdu[4] as usize;
            match apdu.get(5..5 + lc) {
                Some(d) => d.to_vec(),
                None => return sw(0x6700),
            }
        } else {
            Vec::new()
        };
        if ins == 0xc0 {
            return self.next_chunk();
        }
        if cla & 0x10 != 0 {
            self.chained_command.extend_from_slice(&data);
            return sw(0x9000);
        }
        let mut full = std::mem::take(&mut self.chained_command);
        full.extend_from_slice(&data);
        match self.command(ins, p1, p2, &full) {
            Ok(body) => {
                self.pending_response = body;
                self.next_chunk()
            }
            Err(code) => sw(code),
        }
    }

    fn next_chunk(&mut self) -> Vec<u8> {
        let n = self.pending_response.len().min(256);
        let mut out: Vec<u8> = self.pending_response.drain(..n).collect();
        let left = self.pending_response.len();
        if left == 0 {
            out.extend_from_slice(&[0x90, 0x00]);
        } else {
            out.extend_from_slice(&[0x61, left.min(0xff) as u8]);
        }
        out
    }

    fn command(&mut self, ins: u8, p1: u8, p2: u8, data: &[u8]) -> Result<Vec<u8>, u16> {
        match ins {
            0xa4 => {
                if p1 == 0x04 && data.starts_with(PIV_AID) {
                    self.reset();
                    // Application property template: the PIV AID.
                    Ok(tlv(0x61, &tlv(0x4f, &[0x00, 0x00, 0x10, 0x00, 0x01, 0x00])))
                } else {
                    Err(0x6a82)
                }
            }
            0xfd => Ok(self.cfg.version.to_vec()),
            0xf8 => Ok(self.cfg.serial.to_be_bytes().to_vec()),
            0x20 => self.verify(p2, data),
            0x87 if p2 == MGM_SLOT => self.mgm_auth(p1, data),
            0x87 => self.sign(p1, p2, data),
            0x47 => self.generate(p2, data),
            0xf7 => self.metadata(p2),
            0xf9 => self.attest(p1),
            0xcb => {
                let id = object_id(data).ok_or(0x6a80u16)?;
                let content = self.objects.get(&id).ok_or(0x6a82u16)?;
                Ok(tlv(0x53, content))
            }
            0xdb => {
                if !self.mgm_authenticated {
                    return Err(0x6982);
                }
                let id = object_id(data).ok_or(0x6a80u16)?;
                let rest = &data[2 + data[1] as usize..];
                let (tag, content, _) = parse_tlv(rest).ok_or(0x6a80u16)?;
                if tag != 0x53 {
                    return Err(0x6a80);
                }
                if content.is_empty() {
                    self.objects.remove(&id);
                } else {
                    self.objects.insert(id, content.to_vec());
                }
                Ok(Vec::new())
            }
            _ => Err(0x6d00),
        }
    }

    fn verify(&mut self, p2: u8, data: &[u8]) -> Result<Vec<u8>, u16> {
        if p2 != 0x80 {
            return Err(0x6a88);
        }
        if data.is_empty() {
            // A query: "verified" or how many tries are left.
            return if self.pin_verified {
                Ok(Vec::new())
            } else if self.pin_tries_left == 0 {
                Err(0x6983)
            } else {
                Err(0x63c0 | u16::from(self.pin_tries_left))
            };
        }
        self.counters.verify_with_pin += 1;
        if self.pin_tries_left == 0 {
            return Err(0x6983);
        }
        let mut want = [0xffu8; 8];
        want[..self.cfg.pin.len()].copy_from_slice(&self.cfg.pin);
        if data == want {
            self.pin_tries_left = PIN_TRIES;
            self.pin_verified = true;
            Ok(Vec::new())
        } else {
            self.pin_verified = false;
            self.pin_tries_left -= 1;
            if self.pin_tries_left == 0 {
                Err(0x6983)
            } else {
                Err(0x63c0 | u16::from(self.pin_tries_left))
            }
        }
    }

    fn mgm_auth(&mut self, p1: u8, data: &[u8]) -> Result<Vec<u8>, u16> {
        use des::TdesEde3;
        use des::cipher::generic_array::GenericArray;
        use des::cipher::{BlockEncrypt, KeyInit};
        if p1 != ALG_3DES {
            return Err(0x6a80);
        }
        let cipher = TdesEde3::new_from_slice(&DEFAULT_MGM_KEY).map_err(|_| 0x6f00u16)?;
        let (tag, inner, _) = parse_tlv(data).ok_or(0x6a80u16)?;
        if tag != 0x7c {
            return Err(0x6a80);
        }
        let mut fields = HashMap::new();
        let mut rest = inner;
        while let Some((t, v, r)) = parse_tlv(rest) {
            fields.insert(t, v.to_vec());
            rest = r;
        }
        match (fields.get(&0x80), fields.get(&0x81)) {
            // Step 1: the host asks for a witness; send it encrypted.
            (Some(w), None) if w.is_empty() => {
                let mut witness = [0u8; 8];
                getrandom::fill(&mut witness).map_err(|_| 0x6f00u16)?;
                self.mgm_witness = Some(witness);
                let mut block = GenericArray::clone_from_slice(&witness);
                cipher.encrypt_block(&mut block);
                Ok(tlv(0x7c, &tlv(0x80, &block)))
            }
            // Step 2: the host returns the decrypted witness and a challenge of its own.
            (Some(w), Some(challenge)) => {
                let expected = self.mgm_witness.take().ok_or(0x6985u16)?;
                if w.as_slice() != expected || challenge.len() != 8 {
                    self.mgm_authenticated = false;
                    return Err(0x6982);
                }
                self.mgm_authenticated = true;
                let mut block = GenericArray::clone_from_slice(challenge);
                cipher.encrypt_block(&mut block);
                Ok(tlv(0x7c, &tlv(0x82, &block)))
            }
            _ => Err(0x6a80),
        }
    }

    fn slot_defaults(slot: u8) -> u8 {
        match slot {
            0x9c => 3, // always
            0x9e => 1, // never
            _ => 2,    // once
        }
    }

    fn generate(&mut self, slot: u8, data: &[u8]) -> Result<Vec<u8>, u16> {
        if !self.mgm_authenticated {
            return Err(0x6982);
        }
        if !matches!(slot, 0x9a | 0x9c | 0x9d | 0x9e | 0x82..=0x95) {
            return Err(0x6b00);
        }
        let (tag, inner, _) = parse_tlv(data).ok_or(0x6a80u16)?;
        if tag != 0xac {
            return Err(0x6a80);
        }
        let (mut alg, mut pin_policy, mut touch_policy) = (None, 0u8, 0u8);
        let mut rest = inner;
        while let Some((t, v, r)) = parse_tlv(rest) {
            match (t, v) {
                (0x80, [a]) => alg = Some(*a),
                (0xaa, [p]) if (1..=3).contains(p) => pin_policy = *p,
                (0xab, [t]) if (1..=3).contains(t) => touch_policy = *t,
                _ => return Err(0x6a80),
            }
            rest = r;
        }
        if alg != Some(ALG_P256) {
            return Err(0x6a80);
        }
        let mut seed = [0u8; 32];
        let key = loop {
            getrandom::fill(&mut seed).map_err(|_| 0x6f00u16)?;
            if let Ok(k) = SigningKey::from_slice(&seed) {
                break k;
            }
        };
        let point = point_of(&key);
        self.slots.insert(
            slot,
            SlotKey {
                key,
                pin_policy: if pin_policy == 0 {
                    Self::slot_defaults(slot)
                } else {
                    pin_policy
                },
                touch_policy: if touch_policy == 0 { 1 } else { touch_policy },
            },
        );
        Ok(tlv2(0x7f49, &tlv(0x86, &point)))
    }

    fn metadata(&mut self, slot: u8) -> Result<Vec<u8>, u16> {
        let k = self.slots.get(&slot).ok_or(0x6a82u16)?;
        let mut out = tlv(0x01, &[ALG_P256]);
        out.extend(tlv(0x02, &[k.pin_policy, k.touch_policy]));
        out.extend(tlv(0x03, &[0x01])); // generated on the device
        out.extend(tlv(0x04, &tlv(0x86, &point_of(&k.key))));
        Ok(out)
    }

    fn sign(&mut self, alg: u8, slot: u8, data: &[u8]) -> Result<Vec<u8>, u16> {
        let Some(k) = self.slots.get(&slot) else {
            return Err(0x6a80);
        };
        if alg != ALG_P256 {
            return Err(0x6a80);
        }
        let (tag, inner, _) = parse_tlv(data).ok_or(0x6a80u16)?;
        if tag != 0x7c {
            return Err(0x6a80);
        }
        let mut challenge = None;
        let mut rest = inner;
        while let Some((t, v, r)) = parse_tlv(rest) {
            if t == 0x81 {
                challenge = Some(v.to_vec());
            }
            rest = r;
        }
        let hash = challenge.ok_or(0x6a80u16)?;
        if hash.len() > 32 {
            return Err(0x6a80);
        }
        if k.pin_policy != 1 && !self.pin_verified {
            return Err(0x6982);
        }
        if k.touch_policy != 1 {
            self.counters.touch_requests += 1;
            if !self.cfg.touches {
                // A real key waits about 15 s for the touch; the emulator gives up at once.
                return Err(0x6985);
            }
        }
        let mut prehash = [0u8; 32];
        prehash[32 - hash.len()..].copy_from_slice(&hash);
        let sig: p256::ecdsa::Signature = k.key.sign_prehash(&prehash).map_err(|_| 0x6f00u16)?;
        if k.pin_policy == 3 {
            self.pin_verified = false;
        }
        self.counters.signatures += 1;
        Ok(tlv(0x7c, &tlv(0x82, sig.to_der().as_bytes())))
    }

    fn attest(&mut self, slot: u8) -> Result<Vec<u8>, u16> {
        let k = self.slots.get(&slot).ok_or(0x6a80u16)?;
        let v = self.cfg.version;
        let extensions = [
            extension(&yubico_oid(3), &v),
            extension(&yubico_oid(7), &integer(&self.cfg.serial.to_be_bytes())),
            extension(&yubico_oid(8), &[k.pin_policy, k.touch_policy]),
            extension(&yubico_oid(9), &[0x01]), // form factor: USB-A keychain
        ];
        let issuer = name("Yubico PIV Attestation (conclave emulator, NOT Yubico)");
        Ok(certificate(
            &self.ca.device_key,
            &issuer,
            &name(&format!("YubiKey PIV Attestation {slot:02x}")),
            u64::from(self.cfg.serial) << 8 | u64::from(slot),
            k.key.verifying_key(),
            &extensions,
        ))
    }
}

fn sw(code: u16) -> Vec<u8> {
    code.to_be_bytes().to_vec()
}

fn key_from_seed(seed: &str) -> SigningKey {
    let scalar: [u8; 32] = Sha256::digest(seed.as_bytes()).into();
    SigningKey::from_slice(&scalar).expect("a SHA-256 digest is a valid P-256 scalar here")
}

fn point_of(key: &SigningKey) -> Vec<u8> {
    key.verifying_key()
        .as_affine()
        .to_sec1_point(false)
        .as_bytes()
        .to_vec()
}

/// The certificate object stored for a slot: 70 cert, 71 certinfo (uncompressed), FE LRC.
fn cert_object(der: &[u8]) -> Vec<u8> {
    let mut v = tlv(0x70, der);
    v.extend(tlv(0x71, &[0x00]));
    v.extend(tlv(0xfe, &[]));
    v
}

/// `5C len id...` -> the object id.
fn object_id(data: &[u8]) -> Option<u32> {
    let (tag, id, _) = parse_tlv(data)?;
    if tag != 0x5c || id.is_empty() || id.len() > 3 {
        return None;
    }
    Some(id.iter().fold(0u32, |a, b| a << 8 | u32::from(*b)))
}

// --- BER-TLV (one-byte tags) and the DER needed for X.509 ------------------------------------

fn len_bytes(n: usize) -> Vec<u8> {
    if n < 0x80 {
        vec![n as u8]
    } else if n < 0x100 {
        vec![0x81, n as u8]
    } else {
        vec![0x82, (n >> 8) as u8, n as u8]
    }
}

pub fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    v.extend(len_bytes(value.len()));
    v.extend_from_slice(value);
    v
}

fn tlv2(tag: u16, value: &[u8]) -> Vec<u8> {
    let mut v = tag.to_be_bytes().to_vec();
    v.extend(len_bytes(value.len()));
    v.extend_from_slice(value);
    v
}

/// (tag, value, rest) of a one-byte-tag TLV.
fn parse_tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = b.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = match first {
        n if n < 0x80 => (n as usize, rest),
        0x81 => (*rest.first()? as usize, &rest[1..]),
        0x82 => (
            (*rest.first()? as usize) << 8 | *rest.get(1)? as usize,
            rest.get(2..)?,
        ),
        _ => return None,
    };
    let value = rest.get(..len)?;
    Some((tag, value, &rest[len..]))
}

fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

fn integer(be: &[u8]) -> Vec<u8> {
    let mut b: Vec<u8> = be.iter().copied().skip_while(|x| *x == 0).collect();
    if b.is_empty() || b[0] & 0x80 != 0 {
        b.insert(0, 0);
    }
    tlv(0x02, &b)
}

fn yubico_oid(arc: u8) -> Vec<u8> {
    // 1.3.6.1.4.1.41482.3.<arc>
    tlv(
        0x06,
        &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0xc4, 0x0a, 0x03, arc],
    )
}

fn name(cn: &str) -> Vec<u8> {
    let atv = seq(&[tlv(0x06, &[0x55, 0x04, 0x03]), tlv(0x0c, cn.as_bytes())]);
    seq(&[tlv(0x31, &atv)])
}

fn extension(oid: &[u8], value: &[u8]) -> Vec<u8> {
    seq(&[oid.to_vec(), tlv(0x04, value)])
}

fn basic_constraints_ca() -> Vec<u8> {
    seq(&[
        tlv(0x06, &[0x55, 0x1d, 0x13]),
        tlv(0x01, &[0xff]),
        tlv(0x04, &seq(&[tlv(0x01, &[0xff])])),
    ])
}

/// An X.509 v3 certificate signed with ECDSA-SHA256 by `signer`.
fn certificate(
    signer: &SigningKey,
    issuer: &[u8],
    subject: &[u8],
    serial: u64,
    subject_key: &p256::ecdsa::VerifyingKey,
    extensions: &[Vec<u8>],
) -> Vec<u8> {
    let ecdsa_sha256 = seq(&[tlv(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02])]);
    let spki = subject_key
        .to_public_key_der()
        .expect("a P-256 key encodes")
        .as_bytes()
        .to_vec();
    let validity = seq(&[tlv(0x17, b"260101000000Z"), tlv(0x17, b"491231235959Z")]);
    let mut tbs_parts = vec![
        tlv(0xa0, &integer(&[2])),
        integer(&serial.to_be_bytes()),
        ecdsa_sha256.clone(),
        issuer.to_vec(),
        validity,
        subject.to_vec(),
        spki,
    ];
    if !extensions.is_empty() {
        tbs_parts.push(tlv(0xa3, &seq(extensions)));
    }
    let tbs = seq(&tbs_parts);
    let sig: p256::ecdsa::Signature = p256::ecdsa::signature::Signer::sign(signer, tbs.as_slice());
    let mut bits = vec![0x00];
    bits.extend_from_slice(sig.to_der().as_bytes());
    seq(&[tbs, ecdsa_sha256, tlv(0x03, &bits)])
}

pub fn pem(label: &str, der: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = String::new();
    for chunk in der.chunks(3) {
        let n = chunk.iter().fold(0u32, |a, b| a << 8 | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..4 {
            if i <= chunk.len() {
                b64.push(A[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                b64.push('=');
            }
        }
    }
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

// --- vpcd connection ------------------------------------------------------------------------

/// The card currently in the virtual reader; `None` is a card that is not a YubiKey (every
/// applet "not found").
pub type Slot = Arc<Mutex<Option<PivCard>>>;

/// A connection to vpcd serving whatever card is in `slot`. Dropping it (or `stop`) pulls
/// the card out of the reader.
pub struct Emulator {
    stream: TcpStream,
    thread: Option<std::thread::JoinHandle<()>>,
    pub slot: Slot,
    pub powered: Arc<Mutex<bool>>,
}

struct Adapter {
    slot: Slot,
    powered: Arc<Mutex<bool>>,
}

impl vpicc::VSmartCard for Adapter {
    fn power_on(&mut self) {
        *self.powered.lock().unwrap() = true;
        if let Some(c) = self.slot.lock().unwrap().as_mut() {
            c.reset();
        }
    }
    fn power_off(&mut self) {
        if let Some(c) = self.slot.lock().unwrap().as_mut() {
            c.reset();
        }
    }
    fn reset(&mut self) {
        if let Some(c) = self.slot.lock().unwrap().as_mut() {
            c.reset();
        }
    }
    fn atr(&self) -> &[u8] {
        *self.powered.lock().unwrap() = true;
        // A YubiKey 5 NFC's ATR.
        &[
            0x3b, 0xfd, 0x13, 0x00, 0x00, 0x81, 0x31, 0xfe, 0x15, 0x80, 0x73, 0xc0, 0x21, 0xc0,
            0x57, 0x59, 0x75, 0x62, 0x69, 0x4b, 0x65, 0x79, 0x40,
        ]
    }
    fn execute(&mut self, msg: &[u8]) -> Vec<u8> {
        match self.slot.lock().unwrap().as_mut() {
            Some(c) => c.execute(msg),
            None => sw(0x6a82),
        }
    }
}

impl Emulator {
    /// Connect to vpcd at `127.0.0.1:port` (35963 is the first reader of Debian's vpcd) and
    /// wait until pcscd has powered the card.
    pub fn connect(port: u16, slot: Slot) -> std::io::Result<Emulator> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        let theirs = stream.try_clone()?;
        let powered = Arc::new(Mutex::new(false));
        let mut adapter = Adapter {
            slot: slot.clone(),
            powered: powered.clone(),
        };
        let thread = std::thread::spawn(move || {
            let mut conn = vpicc::Connection::from(theirs);
            loop {
                match conn.poll(&mut adapter) {
                    Ok(()) => {}
                    // An unknown control byte or an empty message: answer the next one.
                    Err(e) => {
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::InvalidData | std::io::ErrorKind::Other
                        ) {
                            continue;
                        }
                        break;
                    }
                }
            }
        });
        let em = Emulator {
            stream,
            thread: Some(thread),
            slot,
            powered,
        };
        for _ in 0..100 {
            if *em.powered.lock().unwrap() {
                return Ok(em);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(std::io::Error::other(
            "vpcd accepted the connection but pcscd never powered the card on",
        ))
    }

    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Both);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.shutdown();
    }
}
