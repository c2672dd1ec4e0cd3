#!/usr/bin/env python3
"""Generate the attestation cases: tests/vectors/attestation/cases/<case>/.

Usage: python3 tests/vectors/attestation/gen_attestation.py   (needs pyca/cryptography)

Inputs are the REAL Yubico chains under real/ (see README.md for where they come from). Each
case directory holds its input files and `expected.json`:

    {"command": ["key", "attest", "record.json"], "exit": 1,
     "stderr_contains": ["serial mismatch"], "stdout_contains": [...],
     "why": "what an attacker gains if this were accepted"}

`tests/attestation.rs` runs every case through the real `conclave` binary with the case
directory as working directory. Built independently of conclave: certificates are edited as
bytes or made with pyca/cryptography, keyids computed here with securesystemslib's canonical
JSON rules (sorted keys, only `"` and `\\` escaped). The emulator test CA's keys come from
fixed scalars, but ECDSA signatures are randomised, so a rerun rewrites those signature bytes
(the cases stay equivalent).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519
from cryptography.x509.oid import NameOID

HERE = Path(__file__).resolve().parent
REAL = HERE / "real"
OUT = HERE / "cases"
CREATED = "2026-11-30T12:00:00Z"

# ---------------------------------------------------------------------------------------------
# helpers


def canonical(value: Any) -> str:
    """securesystemslib encode_canonical for the values used here."""
    if isinstance(value, dict):
        return "{" + ",".join(canonical(k) + ":" + canonical(value[k]) for k in sorted(value)) + "}"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, int):
        return str(value)
    raise TypeError(value)


def tuf_key(pub: ec.EllipticCurvePublicKey) -> dict:
    pem = pub.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return {"keytype": "ecdsa", "scheme": "ecdsa-sha2-nistp256", "keyval": {"public": pem}}


def keyid(key: dict) -> str:
    return hashlib.sha256(canonical(key).encode()).hexdigest()


def pem_of(der: bytes) -> str:
    return x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM).decode()


def raw_pem(der: bytes) -> str:
    """PEM of arbitrary DER (which pyca might refuse to load)."""
    import base64

    b64 = base64.b64encode(der).decode()
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


def der_of(pem: str) -> bytes:
    return x509.load_pem_x509_certificate(pem.encode()).public_bytes(serialization.Encoding.DER)


def record(slot_pem: str, device_pem: str, intermediates: list[str] | None = None, **over: Any) -> dict:
    """A record for a chain, with the values the slot certificate attests."""
    cert = x509.load_pem_x509_certificate(slot_pem.encode())
    ext = {e.oid.dotted_string: e.value.value for e in cert.extensions}
    serial = int.from_bytes(ext["1.3.6.1.4.1.41482.3.7"][2:], "big")
    fw = ".".join(str(b) for b in ext["1.3.6.1.4.1.41482.3.3"])
    pin, touch = ext["1.3.6.1.4.1.41482.3.8"]
    key = tuf_key(cert.public_key())
    slot = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value.split()[-1]
    r = {
        "conclave_enrolment": 1,
        "device": "yubikey-piv",
        "serial": serial,
        "slot": slot,
        "firmware": fw,
        "algorithm": "ecdsa-p256",
        "pin_policy": {0: "default", 1: "never", 2: "once", 3: "always"}[pin],
        "touch_policy": {0: "default", 1: "never", 2: "always", 3: "cached"}[touch],
        "keyid": keyid(key),
        "public_key": key,
        "attestation": {"slot_certificate": slot_pem, "device_certificate": device_pem},
        "created": CREATED,
    }
    if intermediates is not None:
        r["attestation"]["intermediates"] = intermediates
    r.update(over)
    return r


def write_case(name: str, files: dict[str, str | bytes | dict], expected: dict) -> None:
    d = OUT / name
    d.mkdir(parents=True)
    for fname, content in files.items():
        if isinstance(content, dict):
            content = json.dumps(content, indent=2, ensure_ascii=False) + "\n"
        if isinstance(content, str):
            content = content.encode()
        (d / fname).write_bytes(content)
    (d / "expected.json").write_text(json.dumps(expected, indent=2) + "\n")


# ---------------------------------------------------------------------------------------------
# an emulator-style chain under a test CA (what a PIV card emulator would produce)

NOT_BEFORE = datetime.datetime(2016, 3, 14, tzinfo=datetime.timezone.utc)
NOT_AFTER = datetime.datetime(2052, 4, 17, tzinfo=datetime.timezone.utc)


def scalar(name: str, curve: ec.EllipticCurve) -> ec.EllipticCurvePrivateKey:
    n = int.from_bytes(hashlib.sha256(b"conclave-attestation-" + name.encode()).digest(), "big")
    return ec.derive_private_key(n % (2**250) + 1, curve)


def name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def yubico_ext(oid: str, value: bytes) -> x509.UnrecognizedExtension:
    return x509.UnrecognizedExtension(x509.ObjectIdentifier(oid), value)


def build(subject, issuer, pub, signer, hash_alg, serial, exts=(), ca=False) -> bytes:
    b = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(pub)
        .serial_number(serial)
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
    )
    for e in exts:
        b = b.add_extension(e, critical=False)
    if ca:
        b = b.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    return b.sign(signer, hash_alg).public_bytes(serialization.Encoding.DER)


def slot_exts(serial: int = 0x00BC614E, fw: bytes = b"\x05\x04\x03", policy: bytes = b"\x02\x02",
              skip: str = "") -> list:
    exts = [
        ("1.3.6.1.4.1.41482.3.3", fw),
        ("1.3.6.1.4.1.41482.3.7", b"\x02\x04" + serial.to_bytes(4, "big")),
        ("1.3.6.1.4.1.41482.3.8", policy),
        ("1.3.6.1.4.1.41482.3.9", b"\x01"),
    ]
    return [yubico_ext(o, v) for o, v in exts if o != skip]


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir()

    real = REAL / "cosign-5.2.6-p256"
    slot_pem = (real / "slot.pem").read_text()
    device_pem = (real / "device.pem").read_text()
    slot_der = der_of(slot_pem)
    device_der = der_of(device_pem)
    p384 = REAL / "docker-tuf-25515137-p384"
    other_slot_pem = (p384 / "slot.pem").read_text()
    other_device_pem = (p384 / "device.pem").read_text()
    good = record(slot_pem, device_pem)
    attest = ["key", "attest", "record.json"]

    # --- controls: these must pass ---
    write_case("valid-real-record", {"record.json": good}, {
        "command": attest, "exit": 0,
        "stdout_contains": ["YubiKey attestation: VERIFIED", "YubiKey serial:   13078782",
                            "Slot:             9c (Digital Signature)", "PIN policy:       always",
                            "Touch policy:     always", good["keyid"],
                            "CN=Yubico PIV Root CA Serial 263751",
                            "63EC E914 E54D D879 15F3 4033 C85A F4C0 696B A151 2F8A DD66 CED7 3833 1207 B546"],
        "stdout_not_contains": ["NOT ANCHORED"],
        "why": "control: a record made from a real YubiKey 5 (firmware 5.2.6) chain"})
    write_case("valid-real-record-expected-serial", {"record.json": good}, {
        "command": attest + ["--serial", "13078782"], "exit": 0,
        "stdout_contains": ["VERIFIED"], "why": "control: --serial agrees"})
    write_case("valid-real-chain-p384", {"slot.pem": other_slot_pem, "device.pem": other_device_pem}, {
        "command": ["key", "attest", "--chain", "slot.pem", "device.pem", "--serial", "25515137"],
        "exit": 0,
        "stdout_contains": ["YubiKey serial:   25515137", "Key type:         ECDSA P-384",
                            "FIPS series", "Firmware:         5.4.3"],
        "why": "control: a real YubiKey 5 FIPS chain (P-384 slot key) from docker/tuf's 2024 root ceremony"})
    write_case("valid-default-policy-words", {"record.json": record(slot_pem, device_pem, pin_policy="default")}, {
        "command": attest, "exit": 0, "stdout_contains": ["VERIFIED"],
        "why": "control: 'default' PIN policy on slot 9c means 'always', which the chain attests"})

    # --- forged or mismatched chains (against the embedded Yubico root) ---
    tampered = bytearray(slot_der)
    tampered[-1] ^= 0x01
    write_case("slot-signature-byte-tampered",
               {"record.json": record(raw_pem(bytes(tampered)), device_pem)}, {
        "command": attest, "exit": 1,
        "stderr_contains": ["record.json: the signature on the slot certificate does not verify with the key of the device (f9) certificate",
                            "Do NOT accept this key"],
        "why": "an altered attestation would vouch for anything"})
    root_pem = (HERE / "../../../src/attestation/yubico-piv-ca-1.pem").read_text()
    write_case("root-posing-as-device-certificate", {"slot.pem": device_pem, "device.pem": root_pem}, {
        "command": ["key", "attest", "--chain", "slot.pem", "device.pem"], "exit": 1,
        "stderr_contains": ["the device (f9) certificate is not a valid X.509 certificate: it is the root certificate itself"],
        "why": "a genuine device certificate under the self-signed root would pass the signature checks"})
    write_case("device-certificate-posing-as-slot", {"slot.pem": device_pem, "device.pem": device_pem}, {
        "command": ["key", "attest", "--chain", "slot.pem", "device.pem"], "exit": 1,
        "stderr_contains": ["the slot certificate is not a valid X.509 certificate: it is a CA certificate, not a slot attestation"],
        "why": "a CA certificate attests no key in a slot"})
    tampered = bytearray(device_der)
    tampered[-10] ^= 0x80
    write_case("device-signature-byte-tampered",
               {"record.json": record(slot_pem, raw_pem(bytes(tampered)))}, {
        "command": attest, "exit": 1,
        "stderr_contains": ["the signature on the device (f9) certificate does not verify with the key of the root certificate"],
        "why": "a device certificate Yubico did not sign: the 'YubiKey' could be software"})
    write_case("swapped-device-certificate",
               {"record.json": record(slot_pem, other_device_pem)}, {
        "command": attest, "exit": 1,
        "stderr_contains": ["the signature on the slot certificate does not verify with the key of the device (f9) certificate"],
        "why": "a genuine device certificate from another YubiKey cannot vouch for this slot certificate"})
    swapped = record(slot_pem, device_pem)
    swapped["attestation"] = {"slot_certificate": device_pem, "device_certificate": slot_pem}
    write_case("slot-and-device-certificates-swapped", {"record.json": swapped}, {
        "command": attest, "exit": 1,
        "stderr_contains": ["the slot certificate is not a valid X.509 certificate: it is a CA certificate, not a slot attestation"],
        "why": "the chain must run slot <- device <- root, in that order"})
    edited = slot_der.replace(bytes.fromhex("020400C790FE"), bytes.fromhex("02040178B5C1"))
    assert edited != slot_der
    write_case("slot-certificate-serial-edited",
               {"record.json": record(raw_pem(edited), device_pem, serial=0x0178B5C1)}, {
        "command": attest, "exit": 1,
        "stderr_contains": ["the signature on the slot certificate does not verify"],
        "why": "rewriting the attested serial to match another device must break the signature"})
    write_case("serial-mismatch-record", {"record.json": record(slot_pem, device_pem, serial=13078783)}, {
        "command": attest, "exit": 1,
        "stderr_contains": ["serial mismatch: the attestation is for YubiKey 13078782, the record says 13078783"],
        "why": "a record claiming another (e.g. the expected officer's) YubiKey"})
    write_case("serial-mismatch-expected", {"record.json": good}, {
        "command": attest + ["--serial", "25515137"], "exit": 1,
        "stderr_contains": ["serial mismatch: the attestation is for YubiKey 13078782, --serial says 25515137"],
        "why": "a genuine record from a different YubiKey than the one the officer holds"})
    other_key = tuf_key(scalar("other-slot-key", ec.SECP256R1()).public_key())
    write_case("slot-key-swapped", {"record.json": record(slot_pem, device_pem, public_key=other_key, keyid=keyid(other_key))}, {
        "command": attest, "exit": 1,
        "stderr_contains": [f"public key mismatch: the attested key (keyid {good['keyid']}) is not the record's public_key (keyid {keyid(other_key)})"],
        "why": "a genuine attestation wrapped around an attacker's software key"})
    write_case("keyid-mismatch", {"record.json": record(slot_pem, device_pem, keyid=keyid(other_key))}, {
        "command": attest, "exit": 1,
        "stderr_contains": ["keyid mismatch: the record says"],
        "why": "the keyid read aloud and put in the root must be the attested key's"})
    write_case("slot-mismatch", {"record.json": record(slot_pem, device_pem, slot="9a")}, {
        "command": attest, "exit": 1,
        "stderr_contains": ["slot mismatch: the attestation is for slot 9c, the record says 9a"],
        "why": "signing would use a different slot than the one attested"})
    write_case("pin-policy-mismatch", {"record.json": record(slot_pem, device_pem, pin_policy="once")}, {
        "command": attest, "exit": 1,
        "stderr_contains": ["PIN policy mismatch: the attestation says always, the record says once"],
        "why": "officers rely on the recorded policy"})
    write_case("touch-policy-mismatch", {"record.json": record(slot_pem, device_pem, touch_policy="never")}, {
        "command": attest, "exit": 1,
        "stderr_contains": ["touch policy mismatch: the attestation says always, the record says never"],
        "why": "a record claiming touch is not needed (or is) when the device says otherwise"})
    write_case("firmware-mismatch", {"record.json": record(slot_pem, device_pem, firmware="5.7.1")}, {
        "command": attest, "exit": 1,
        "stderr_contains": ["firmware mismatch: the attestation says 5.2.6, the record says 5.7.1"],
        "why": "firmware decides known vulnerabilities (e.g. the 5.7 ECDSA side channel fix)"})
    bad = record(slot_pem, device_pem)
    bad["attestation"]["slot_certificate"] = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    write_case("slot-certificate-not-a-certificate", {"record.json": bad}, {
        "command": attest, "exit": 1,
        "stderr_contains": ["the slot certificate is not a valid X.509 certificate"],
        "why": "garbage must be refused, not skipped"})
    extra = record(slot_pem, device_pem)
    extra["verified"] = True
    write_case("record-unknown-field", {"record.json": extra}, {
        "command": attest, "exit": 1,
        "stderr_contains": ["record.json: not a valid enrolment record: verified: unknown field"],
        "why": "a field a human reads but the check ignores"})
    write_case("record-version-2", {"record.json": record(slot_pem, device_pem, conclave_enrolment=2)}, {
        "command": attest, "exit": 1,
        "stderr_contains": ["conclave_enrolment: is 2"],
        "why": "a format this conclave does not know must not be half-read"})

    # --- the emulator's test CA ---
    ca_key = scalar("test-ca", ec.SECP384R1())
    dev_key = scalar("test-device", ec.SECP256R1())
    slot_key = scalar("test-slot", ec.SECP256R1())
    ca_name = name("conclave test PIV attestation CA")
    ca_der = build(ca_name, ca_name, ca_key.public_key(), ca_key, hashes.SHA384(), 1, ca=True)
    dev_der = build(name("Yubico PIV Attestation"), ca_name, dev_key.public_key(), ca_key, hashes.SHA384(), 2,
                    exts=[yubico_ext("1.3.6.1.4.1.41482.3.3", b"\x05\x04\x03")], ca=True)
    test_slot_der = build(name("YubiKey PIV Attestation 9c"), name("Yubico PIV Attestation"),
                          slot_key.public_key(), dev_key, hashes.SHA256(), 3, exts=slot_exts())
    test_record = record(pem_of(test_slot_der), pem_of(dev_der))
    write_case("valid-test-ca-record", {"record.json": test_record, "ca.pem": pem_of(ca_der)}, {
        "command": attest + ["--ca-cert", "ca.pem"], "exit": 0,
        "stdout_contains": ["NOT ANCHORED IN YUBICO'S ROOT", "VERIFIED (TEST CA ONLY)",
                            "YubiKey serial:   12345678", "TEST CA from ca.pem"],
        "stderr_contains": ["WARNING: *** NOT ANCHORED IN YUBICO'S ROOT"],
        "why": "control: an emulator's chain (ECDSA P-384/P-256 signatures) verifies only with --ca-cert, loudly labelled"})
    write_case("test-ca-chain-without-ca-cert", {"record.json": test_record}, {
        "command": attest, "exit": 1,
        "stderr_contains": ["the device (f9) certificate was issued by \"CN=conclave test PIV attestation CA\", not by \"CN=Yubico PIV Root CA Serial 263751\""],
        "why": "an emulator's (or attacker's) chain must never pass as Yubico's"})
    write_case("wrong-root-for-real-chain", {"record.json": good, "ca.pem": pem_of(ca_der)}, {
        "command": attest + ["--ca-cert", "ca.pem"], "exit": 1,
        "stderr_contains": ["was issued by \"CN=Yubico PIV Root CA Serial 263751\", not by \"CN=conclave test PIV attestation CA\""],
        "why": "a chain is checked against the one anchor given, nothing else"})
    # An attacker's CA that copies Yubico's root name: names match, the signature cannot.
    fake_root = name("Yubico PIV Root CA Serial 263751")
    fake_dev = build(name("Yubico PIV Attestation"), fake_root, dev_key.public_key(), ca_key, hashes.SHA384(), 4,
                     exts=[yubico_ext("1.3.6.1.4.1.41482.3.3", b"\x05\x04\x03")], ca=True)
    write_case("forged-root-with-yubico-name", {"record.json": record(pem_of(test_slot_der), pem_of(fake_dev))}, {
        "command": attest, "exit": 1,
        "stderr_contains": ["the signature on the device (f9) certificate does not verify with the key of the root certificate"],
        "why": "a self-made CA named like Yubico's root would certify a software 'YubiKey'"})
    inter = name("Yubico PIV Attestation B 1")
    new_dev = build(name("Yubico PIV Attestation"), inter, dev_key.public_key(), ca_key, hashes.SHA384(), 5,
                    exts=[yubico_ext("1.3.6.1.4.1.41482.3.3", b"\x05\x07\x04")], ca=True)
    write_case("forged-device-under-yubico-intermediate-name",
               {"record.json": record(pem_of(test_slot_der), pem_of(new_dev))}, {
        "command": attest, "exit": 1,
        "stderr_contains": ["the signature on the device (f9) certificate does not verify with the key of "
                            "intermediate certificate 1"],
        "why": "a device certificate naming Yubico's published intermediate as issuer must be signed by it"})
    no_serial = build(name("YubiKey PIV Attestation 9c"), name("Yubico PIV Attestation"),
                      slot_key.public_key(), dev_key, hashes.SHA256(), 6, exts=slot_exts(skip="1.3.6.1.4.1.41482.3.7"))
    r = record(pem_of(test_slot_der), pem_of(dev_der))
    r["attestation"]["slot_certificate"] = pem_of(no_serial)
    write_case("missing-serial-extension", {"record.json": r, "ca.pem": pem_of(ca_der)}, {
        "command": attest + ["--ca-cert", "ca.pem"], "exit": 1,
        "stderr_contains": ["the slot certificate lacks the Yubico extension serial number (1.3.6.1.4.1.41482.3.7)"],
        "why": "without a serial the attestation cannot be tied to the officer's device"})
    long_fw = build(name("YubiKey PIV Attestation 9c"), name("Yubico PIV Attestation"),
                    slot_key.public_key(), dev_key, hashes.SHA256(), 7, exts=slot_exts(fw=b"\x05\x04"))
    r = record(pem_of(test_slot_der), pem_of(dev_der))
    r["attestation"]["slot_certificate"] = pem_of(long_fw)
    write_case("malformed-firmware-extension", {"record.json": r, "ca.pem": pem_of(ca_der)}, {
        "command": attest + ["--ca-cert", "ca.pem"], "exit": 1,
        "stderr_contains": ["the slot certificate has a malformed Yubico extension firmware version: 2 bytes, expected 3"],
        "why": "a malformed extension must not be read as some version"})
    new_pki_cases(attest, good, ca_der, ca_key, dev_key)
    print(f"wrote {len(list(OUT.iterdir()))} cases to {OUT}")


# ---------------------------------------------------------------------------------------------
# Yubico's 2024 PKI (firmware 5.7.4 and later): real chains and attacks on the path

PUBLISHED = HERE.parent.parent.parent / "src" / "attestation"


def new_pki_cases(attest: list, old_good: dict, ca_der: bytes, ca_key, dev_key) -> None:
    p256 = REAL / "regalia-36345471-5.7.4-p256"
    slot_pem = (p256 / "slot.pem").read_text()
    device_pem = (p256 / "device.pem").read_text()
    rsa = REAL / "ovh-32718477-5.7.4-rsa"
    old_rsa = REAL / "ovh-5970478-4.3.5-rsa"
    piv_a = (PUBLISHED / "yubico-piv-attestation-a-1.pem").read_text()
    piv_b = (PUBLISHED / "yubico-piv-attestation-b-1.pem").read_text()
    int_a = (PUBLISHED / "yubico-attestation-intermediate-a-1.pem").read_text()
    int_b = (PUBLISHED / "yubico-attestation-intermediate-b-1.pem").read_text()
    good = record(slot_pem, device_pem, intermediates=[piv_b, int_b])

    write_case("valid-real-record-5.7.4", {"record.json": good}, {
        "command": attest + ["--serial", "36345471", "--role", "root"], "exit": 0,
        "stdout_contains": ["YubiKey attestation: VERIFIED", "YubiKey serial:   36345471",
                            "Slot:             9a (PIV Authentication)", "Firmware:         5.7.4",
                            "YSA-2024-03:      not affected", "PIN policy:       once",
                            "Touch policy:     never", good["keyid"],
                            "CN=Yubico PIV Attestation B 1", "CN=Yubico Attestation Intermediate B 1",
                            "CN=Yubico Attestation Root 1",
                            "6276 0C6A 6EF9 1679 F454 C890 2B80 FD00 9825 B3F2 5DA9 0F1F BACE 2EC6 586C D5A8"],
        "stdout_not_contains": ["NOT ANCHORED", "AFFECTED"],
        "why": "control: a record of a real YubiKey with firmware 5.7.4 (Yubico's 2024 PKI), intermediates kept"})
    write_case("valid-real-record-5.7.4-no-intermediates-listed", {"record.json": record(slot_pem, device_pem)}, {
        "command": attest, "exit": 0,
        "stdout_contains": ["VERIFIED", "CN=Yubico PIV Attestation B 1", "CN=Yubico Attestation Root 1"],
        "why": "control: a record without the intermediates field is checked through the built-in ones"})
    write_case("valid-real-chain-5.7.4-rsa",
               {"slot.pem": (rsa / "slot.pem").read_text(), "device.pem": (rsa / "device.pem").read_text()}, {
        "command": ["key", "attest", "--chain", "slot.pem", "device.pem", "--serial", "32718477"], "exit": 0,
        "stdout_contains": ["YubiKey serial:   32718477", "Key type:         RSA 2048", "Firmware:         5.7.4",
                            "CN=Yubico Attestation Root 1"],
        "why": "control: the chain check does not depend on the slot key's type (a real RSA 2048 slot key, 5.7.4)"})
    write_case("valid-real-chain-4.3.5-rsa",
               {"slot.pem": (old_rsa / "slot.pem").read_text(), "device.pem": (old_rsa / "device.pem").read_text()}, {
        "command": ["key", "attest", "--chain", "slot.pem", "device.pem", "--role", "root"], "exit": 0,
        "stdout_contains": ["YubiKey serial:   5970478", "Key type:         RSA 2048", "Firmware:         4.3.5",
                            "YSA-2024-03:      not affected", "CN=Yubico PIV Root CA Serial 263751"],
        "why": "control: a real YubiKey 4 (old PKI, no basic constraints on f9) with an RSA key: not an ECDSA key"})

    # The minimum-firmware policy (YSA-2024-03).
    write_case("ysa-2024-03-affected-reported", {"record.json": old_good}, {
        "command": attest, "exit": 0,
        "stdout_contains": ["Firmware:         5.2.6", "YSA-2024-03:      AFFECTED"],
        "stderr_contains": ["affected by Yubico advisory YSA-2024-03"],
        "why": "the officer must hear that an ECDSA key on firmware below 5.7.0 can be cloned"})
    write_case("ysa-2024-03-affected-refused-for-root", {"record.json": old_good}, {
        "command": attest + ["--role", "root"], "exit": 1,
        "stderr_contains": ["firmware 5.2.6", "YSA-2024-03", "refused for a new root key",
                            "policy.allow_vulnerable_firmware"],
        "why": "a root key that can be cloned with physical access must not be enrolled"})

    # Attacks on the path above the device certificate.
    write_case("swapped-intermediate", {"record.json": record(slot_pem, device_pem, intermediates=[piv_a, int_a])}, {
        "command": attest, "exit": 1,
        "stderr_contains": ["the device (f9) certificate was issued by \"CN=Yubico PIV Attestation B 1\", "
                            "not by \"CN=Yubico PIV Attestation A 1\""],
        "why": "a record's intermediates must be the path its device certificate actually has"})
    write_case("intermediates-out-of-order",
               {"record.json": record(slot_pem, device_pem, intermediates=[int_b, piv_b])}, {
        "command": attest, "exit": 1,
        "stderr_contains": ["not by \"CN=Yubico Attestation Intermediate B 1\""],
        "why": "the intermediates form one path, from the device certificate up"})
    write_case("intermediate-listed-for-old-chain",
               {"record.json": {**old_good, "attestation": {**old_good["attestation"], "intermediates": [piv_b, int_b]}}}, {
        "command": attest, "exit": 1,
        "stderr_contains": ["intermediate certificate 1", "the path reached CN=Yubico PIV Root CA Serial 263751 without it"],
        "why": "a record must keep exactly the chain it used, nothing added"})
    # An attacker's own CAs named exactly like Yubico's 2024 ones, with a software "YubiKey".
    att_root = name("Yubico Attestation Root 1")
    att_int = name("Yubico Attestation Intermediate B 1")
    att_piv = name("Yubico PIV Attestation B 1")
    k_int = scalar("forged-intermediate", ec.SECP256R1())
    k_piv = scalar("forged-piv", ec.SECP256R1())
    f_int = build(att_int, att_root, k_int.public_key(), ca_key, hashes.SHA384(), 10, ca=True)
    f_piv = build(att_piv, att_int, k_piv.public_key(), k_int, hashes.SHA256(), 11, ca=True)
    f_dev = build(name("YubiKey PIV Attestation"), att_piv, dev_key.public_key(), k_piv, hashes.SHA256(), 12,
                  exts=[yubico_ext("1.3.6.1.4.1.41482.3.3", b"\x05\x07\x04")], ca=True)
    slot_key = scalar("test-slot", ec.SECP256R1())
    f_slot = build(name("YubiKey PIV Attestation 9c"), name("YubiKey PIV Attestation"), slot_key.public_key(),
                   dev_key, hashes.SHA256(), 13, exts=slot_exts(fw=b"\x05\x07\x04"))
    write_case("forged-intermediates-with-yubico-names",
               {"record.json": record(pem_of(f_slot), pem_of(f_dev), intermediates=[pem_of(f_piv), pem_of(f_int)])}, {
        "command": attest, "exit": 1,
        "stderr_contains": ["intermediate certificate 1 (counting up from the device certificate) (\"CN=Yubico PIV Attestation B 1\", SHA-256",
                            "is not one of the intermediates Yubico publishes"],
        "why": "a CA named like Yubico's intermediate proves nothing; only the pinned ones count"})
    write_case("forged-chain-to-another-root", {"record.json": record(pem_of(f_slot), pem_of(f_dev))}, {
        "command": attest, "exit": 1,
        "stderr_contains": ["the signature on the device (f9) certificate does not verify with the key of "
                            "intermediate certificate 1"],
        "why": "a chain to any root but Yubico's pinned ones is refused, whatever names it uses"})
    other_key = tuf_key(x509.load_pem_x509_certificate(
        (REAL / "cosign-5.2.6-p256" / "slot.pem").read_bytes()).public_key())
    write_case("slot-key-swapped-5.7.4",
               {"record.json": record(slot_pem, device_pem, intermediates=[piv_b, int_b],
                                      public_key=other_key, keyid=keyid(other_key))}, {
        "command": attest, "exit": 1,
        "stderr_contains": ["public key mismatch"],
        "why": "a genuine 5.7.4 attestation must not vouch for another key in the record"})
    write_case("slot-certificate-for-another-key-5.7.4",
               {"slot.pem": (rsa / "slot.pem").read_text(), "device.pem": device_pem}, {
        "command": ["key", "attest", "--chain", "slot.pem", "device.pem", "--serial", "36345471"], "exit": 1,
        "stderr_contains": ["serial mismatch: the attestation is for YubiKey 32718477, --serial says 36345471"],
        "why": "a genuine slot certificate of another YubiKey (same batch f9 key) attests that YubiKey's key, not this one"})

    # Key types the chain check must not depend on: Ed25519 and X25519 slot keys (firmware 5.7)
    # under the emulator's test CA.
    dev_der = build(name("Yubico PIV Attestation"), name("conclave test PIV attestation CA"), dev_key.public_key(),
                    ca_key, hashes.SHA384(), 2, exts=[yubico_ext("1.3.6.1.4.1.41482.3.3", b"\x05\x07\x04")], ca=True)
    for kind, pub in (("ed25519", ed25519.Ed25519PrivateKey.from_private_bytes(b"\x07" * 32).public_key()),
                      ("x25519", x25519.X25519PrivateKey.from_private_bytes(b"\x09" * 32).public_key())):
        s = build(name("YubiKey PIV Attestation 9c"), name("Yubico PIV Attestation"), pub, dev_key, hashes.SHA256(),
                  20, exts=slot_exts(fw=b"\x05\x07\x04"))
        write_case(f"valid-test-ca-{kind}-slot-key", {"slot.pem": pem_of(s), "device.pem": pem_of(dev_der),
                                                      "ca.pem": pem_of(ca_der)}, {
            "command": ["key", "attest", "--chain", "slot.pem", "device.pem", "--ca-cert", "ca.pem"], "exit": 0,
            "stdout_contains": ["VERIFIED (TEST CA ONLY)", "Key type:         " + {"ed25519": "Ed25519", "x25519": "X25519"}[kind]],
            "why": "control: slot keys of the types firmware 5.7 adds are attested through the same chain check"})


if __name__ == "__main__":
    main()
