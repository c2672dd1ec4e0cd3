"""The claim rounds of benches/rounds.sh, done by pinned python-tuf in one process.

    python benches/rounds_python_tuf.py bootstrap REQUESTS DIR
    python benches/rounds_python_tuf.py monthly REQUESTS DIR

The same work conclave's commands do, one step after another: read the JSON Lines claim
requests, normalise each name (PEP 503), delegate each project (terminating, paths NAME and
NAME/*) to its keys, as version 1 of claimed (bootstrap) or as the next version of DIR's
claimed.json (monthly); sign it with two Ed25519 admin keys, write it compactly to
DIR/claimed.json, read it back and verify both signatures the way a client does
(Targets.verify_delegate). A developer key's keyid is computed once per distinct key, as
conclave remembers a checked key. Prints one JSON line; the caller times the whole process.
"""

import hashlib
import json
import os
import re
import sys
from datetime import datetime, timedelta, timezone

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from securesystemslib.formats import encode_canonical
from securesystemslib.signer import CryptoSigner, Key
from tuf.api.metadata import DelegatedRole, Delegations, Metadata, Targets
from tuf.api.serialization.json import JSONSerializer


def admins():
    return [CryptoSigner(Ed25519PrivateKey.from_private_bytes(bytes([b]) * 32)) for b in (1, 2)]


def delegator(signers):
    """The targets role that delegates claimed to the two admins (threshold 2)."""
    keys = {s.public_key.keyid: s.public_key for s in signers}
    role = DelegatedRole("claimed", list(keys), 2, False, paths=["*"])
    return Targets(delegations=Delegations(keys, {"claimed": role}))


def add_requests(path, delegations):
    keyids = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            req = json.loads(line)
            name = re.sub(r"[-_.]+", "-", req["project"]).lower()
            ids = []
            for k in req["keys"]:
                canon = encode_canonical(k)
                keyid = keyids.get(canon)
                if keyid is None:
                    keyid = hashlib.sha256(canon.encode()).hexdigest()
                    keyids[canon] = keyid
                    delegations.keys[keyid] = Key.from_dict(keyid, dict(k))
                ids.append(keyid)
            delegations.roles[name] = DelegatedRole(
                name, ids, req["threshold"], True, paths=[name, f"{name}/*"])


def main() -> None:
    mode, requests, out = sys.argv[1], sys.argv[2], sys.argv[3]
    path = os.path.join(out, "claimed.json")
    signers = admins()
    if mode == "bootstrap":
        expires = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=90)
        claimed = Metadata(Targets(version=1, expires=expires,
                                   delegations=Delegations({}, {})))
    else:
        claimed = Metadata.from_file(path)
        claimed.signed.version += 1
        claimed.signatures.clear()
    add_requests(requests, claimed.signed.delegations)
    for s in signers:
        claimed.sign(s, append=True)
    claimed.to_file(path, JSONSerializer(compact=True))
    back = Metadata.from_file(path)
    delegator(signers).verify_delegate("claimed", back.signed_bytes, back.signatures)
    print(json.dumps({"mode": mode, "roles": len(back.signed.delegations.roles),
                      "file_bytes": os.path.getsize(path)}))


if __name__ == "__main__":
    main()
