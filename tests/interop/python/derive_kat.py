"""An independent computation of conclave's passphrase-derived Ed25519 key.

Usage: derive_kat.py IDENTITY < passphrase
Prints the hex public key. Uses argon2-cffi (the reference C implementation of Argon2) and
pyca/cryptography, so it shares no code with conclave:

    salt = SHA-256("conclave/derived-key/v1/ed25519" || 0x00 || identity)
    seed = Argon2id(passphrase, salt, t=1, m=2 GiB, p=4, 32 bytes, version 0x13)
    key  = Ed25519 public key of seed
"""

import hashlib
import sys

from argon2.low_level import Type, hash_secret_raw
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def main() -> None:
    identity = sys.argv[1].encode("utf-8")
    passphrase = sys.stdin.buffer.readline().rstrip(b"\n")
    salt = hashlib.sha256(b"conclave/derived-key/v1/ed25519\x00" + identity).digest()
    seed = hash_secret_raw(
        passphrase, salt, time_cost=1, memory_cost=2 * 1024 * 1024, parallelism=4,
        hash_len=32, type=Type.ID, version=19,
    )
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    print(public.hex())


if __name__ == "__main__":
    main()
