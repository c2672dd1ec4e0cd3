"""The claimed-role workload of benches/claimed_scale.rs, in pinned python-tuf.

    python benches/claimed_scale_python_tuf.py N OUTDIR

Builds a claimed role delegating to N projects (one random Ed25519 developer key each,
terminating, paths NAME and NAME/*), signs it with two Ed25519 admin keys, writes it compactly,
then reads it back and verifies both signatures. Key generation is outside the timing, as in
the Rust benchmark. Prints one JSON line.
"""

import hashlib
import json
import os
import resource
import sys
import time
from datetime import datetime, timezone

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from securesystemslib.formats import encode_canonical
from securesystemslib.signer import CryptoSigner, SSlibKey
from tuf.api.metadata import DelegatedRole, Delegations, Metadata, Targets
from tuf.api.serialization.json import JSONSerializer


def main() -> None:
    n = int(sys.argv[1])
    out = sys.argv[2]
    os.makedirs(out, exist_ok=True)
    seed = bytearray(b"\x07" * 32)
    devs = []
    for i in range(n):
        seed[:8] = i.to_bytes(8, "little")
        public = hashlib.sha512(bytes(seed)).digest()[:32].hex()
        devs.append(public)
    admins = [CryptoSigner(Ed25519PrivateKey.from_private_bytes(bytes([b]) * 32)) for b in (1, 2)]
    expires = datetime(2100, 1, 1, tzinfo=timezone.utc)

    t0 = time.perf_counter()
    roles = {}
    keys = {}
    for i, public in enumerate(devs):
        name = f"project-{i}"
        # The keyid as securesystemslib computes it: SHA-256 of the canonical key.
        keyval = {"public": public}
        keyid = hashlib.sha256(encode_canonical(
            {"keytype": "ed25519", "scheme": "ed25519", "keyval": keyval}).encode()).hexdigest()
        keys[keyid] = SSlibKey(keyid, "ed25519", "ed25519", keyval)
        roles[name] = DelegatedRole(name, [keyid], 1, True, paths=[name, f"{name}/*"])
    claimed = Metadata(Targets(version=1, expires=expires, delegations=Delegations(keys, roles)))
    claimed.sign(admins[0], append=True)
    claimed.sign(admins[1], append=True)
    path = os.path.join(out, f"claimed-{n}-python-tuf.json")
    claimed.to_file(path, JSONSerializer(compact=True))
    t_build_sign_write = time.perf_counter() - t0

    v0 = time.perf_counter()
    back = Metadata.from_file(path)
    payload = back.signed_bytes
    for a in admins:
        a.public_key.verify_signature(back.signatures[a.public_key.keyid], payload)
    t_verify = time.perf_counter() - v0

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "tool": "python-tuf", "projects": n,
        "build_sign_write_s": round(t_build_sign_write, 3), "verify_s": round(t_verify, 3),
        "file_mb": round(os.path.getsize(path) / 1e6, 1), "peak_rss_mib": round(peak),
    }))


if __name__ == "__main__":
    main()
