#!/usr/bin/env python3
"""Generate conclave's attack corpus: tests/vectors/attacks/<area>/<attack>/.

Usage: target/interop-venv/bin/python tests/vectors/attacks/gen_attacks.py

Each case directory holds the input files and `expected.json`:

    {"command": ["verify", "."], "exit": 1,
     "stderr_contains": ["role root: root-version-skip"],
     "stdin": "...",                      (optional: fed to stdin, e.g. --passphrase-fd 0)
     "stderr_not_contains": ["..."],      (optional)
     "output_not_contains": ["..."],      (optional: in neither stdout nor stderr)
     "stdout_contains": ["..."],          (optional)
     "stdout_closed": true,               (optional: stdout is a pipe nobody reads)
     "why": "what the attacker gains if this were accepted"}

`tests/attacks.rs` runs every case through the real `conclave` binary, with the case
directory as the working directory, and checks the exit code, each named error, that nothing
panicked and that no file in the directory was created or changed. `{tmp}` in a command is
replaced by a scratch directory outside the case (for the few controls that must write).

Everything is built here, independently of conclave: metadata with securesystemslib's
canonical JSON and pyca Ed25519 keys from fixed seeds, key files with argon2-cffi and
XChaCha20-Poly1305 (HChaCha20 below + pyca's ChaCha20-Poly1305), so the corpus is byte-for-byte
reproducible: rerunning this script rewrites the same files.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import shutil
import struct
import sys
from pathlib import Path
from typing import Any, Callable

from argon2.low_level import Type, hash_secret_raw
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from securesystemslib.formats import encode_canonical

OUT = Path(__file__).resolve().parent
FAR = "2100-01-01T00:00:00Z"
PAST = "2001-01-01T00:00:00Z"
SPEC = "1.0.31"

# ---------------------------------------------------------------------------------------------
# keys and signing


def canonical(value: Any) -> bytes:
    return encode_canonical(value).encode("utf-8")


def seed(name: str) -> bytes:
    return hashlib.sha256(b"conclave-attack-" + name.encode()).digest()


class K:
    def __init__(self, name: str):
        self.name = name
        self.seed = seed(name)
        self.priv = Ed25519PrivateKey.from_private_bytes(self.seed)
        pub = self.priv.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.key = {"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": pub.hex()}}
        self.keyid = hashlib.sha256(canonical(self.key)).hexdigest()

    def sig(self, payload: bytes) -> str:
        return self.priv.sign(payload).hex()


ROOT1, ROOT2, ROOT3 = K("root-1"), K("root-2"), K("root-3")
TARGETS, SNAPSHOT, TIMESTAMP = K("targets"), K("snapshot"), K("timestamp")
DEV1, DEV2 = K("developer-1"), K("developer-2")
EVE = K("eve")  # the attacker's own key


def sign(signed: dict, signers: list[K]) -> dict:
    payload = canonical(signed)
    return {
        "signatures": [{"keyid": k.keyid, "sig": k.sig(payload)} for k in signers],
        "signed": signed,
    }


def dump(value: Any) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def sha256(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


# ---------------------------------------------------------------------------------------------
# metadata


def root_signed(version: int = 1, expires: str = FAR, root_keys=(ROOT1,), threshold: int = 1,
                ts=(TIMESTAMP,), snap=(SNAPSHOT,), targets=(TARGETS,)) -> dict:
    keys = {}
    roles = {}
    for role, ks, t in [("root", root_keys, threshold), ("targets", targets, 1),
                        ("snapshot", snap, 1), ("timestamp", ts, 1)]:
        for k in ks:
            keys[k.keyid] = copy.deepcopy(k.key)
        roles[role] = {"keyids": [k.keyid for k in ks], "threshold": t}
    return {"_type": "root", "spec_version": SPEC, "version": version, "expires": expires,
            "consistent_snapshot": True, "keys": keys, "roles": roles}


def target_entry(content: bytes) -> dict:
    return {"length": len(content), "hashes": {"sha256": sha256(content)}}


def targets_signed(version: int = 1) -> dict:
    return {"_type": "targets", "spec_version": SPEC, "version": version, "expires": FAR,
            "targets": {"README.txt": target_entry(b"hello\n")},
            "delegations": {
                "keys": {DEV1.keyid: copy.deepcopy(DEV1.key)},
                "roles": [{"name": "projects", "keyids": [DEV1.keyid], "threshold": 1,
                           "terminating": True, "paths": ["projects/*"]}]}}


def projects_signed(version: int = 1) -> dict:
    return {"_type": "targets", "spec_version": SPEC, "version": version, "expires": FAR,
            "targets": {"projects/a.txt": target_entry(b"a\n")}}


def make_repo(pre: Callable | None = None, mid: Callable | None = None,
              snap: Callable | None = None, ts: Callable | None = None,
              post: Callable | None = None, snapshot_hashes: bool = False) -> dict[str, bytes]:
    """A small valid repository: root v1, targets delegating projects/* to `projects`,
    snapshot, timestamp. Hooks change it at each stage; later stages see the changes.

    pre(st): change signed dicts / signer lists before anything is signed;
    mid(files, st): change targets/projects bytes before snapshot records them;
    snap(signed), ts(signed): change snapshot / timestamp signed dicts before signing;
    post(files): change the final bytes (nothing is recomputed)."""
    st = {
        "roots": [(root_signed(), [ROOT1])],
        "targets": targets_signed(), "targets_signers": [TARGETS],
        "projects": projects_signed(), "projects_signers": [DEV1],
        "snapshot_signers": [SNAPSHOT], "timestamp_signers": [TIMESTAMP],
        "extra": {},
    }
    if pre:
        pre(st)
    files: dict[str, bytes] = {}
    for signed, signers in st["roots"]:
        files[f"{signed['version']}.root.json"] = dump(sign(signed, signers))
    if st["targets"] is not None:
        files["targets.json"] = dump(sign(st["targets"], st["targets_signers"]))
    if st["projects"] is not None:
        files["projects.json"] = dump(sign(st["projects"], st["projects_signers"]))
    files.update(st["extra"])
    if mid:
        mid(files, st)
    meta = {}
    for role in ("targets", "projects"):
        if f"{role}.json" in files and st[role] is not None:
            entry: dict = {"version": st[role]["version"]}
            if snapshot_hashes:
                b = files[f"{role}.json"]
                entry.update({"length": len(b), "hashes": {"sha256": sha256(b)}})
            meta[f"{role}.json"] = entry
    snapshot = {"_type": "snapshot", "spec_version": SPEC, "version": 1, "expires": FAR,
                "meta": meta}
    if snap:
        snap(snapshot)
    files["snapshot.json"] = dump(sign(snapshot, st["snapshot_signers"]))
    sb = files["snapshot.json"]
    timestamp = {"_type": "timestamp", "spec_version": SPEC, "version": 1, "expires": FAR,
                 "meta": {"snapshot.json": {"version": snapshot["version"], "length": len(sb),
                                            "hashes": {"sha256": sha256(sb)}}}}
    if ts:
        ts(timestamp)
    files["timestamp.json"] = dump(sign(timestamp, st["timestamp_signers"]))
    if post:
        post(files)
    return files


def replace_once(b: bytes, old: str | bytes, new: str | bytes) -> bytes:
    old_b = old.encode() if isinstance(old, str) else old
    new_b = new.encode() if isinstance(new, str) else new
    assert b.count(old_b) >= 1, f"{old_b!r} not found"
    return b.replace(old_b, new_b, 1)


# ---------------------------------------------------------------------------------------------
# the case list

CASES: list[tuple[str, str, dict[str, bytes], dict]] = []


def case(area: str, name: str, files: dict[str, bytes], command: list[str], exit: int,
         stderr: list[str], why: str, stdin: str | None = None,
         not_stderr: list[str] | None = None, not_output: list[str] | None = None,
         stdout: list[str] | None = None, stdout_closed: bool = False) -> None:
    assert all(n != "expected.json" for n in files)
    assert not any(c[0] == area and c[1] == name for c in CASES), f"duplicate {area}/{name}"
    exp: dict = {"command": command, "exit": exit, "stderr_contains": stderr, "why": why}
    if stdin is not None:
        exp["stdin"] = stdin
    if not_stderr:
        exp["stderr_not_contains"] = not_stderr
    if not_output:
        exp["output_not_contains"] = not_output
    if stdout:
        exp["stdout_contains"] = stdout
    if stdout_closed:
        exp["stdout_closed"] = True
    CASES.append((area, name, files, exp))


VERIFY = ["verify", "repo"]


def in_repo(files: dict[str, bytes]) -> dict[str, bytes]:
    """Metadata goes in repo/, beside (not among) expected.json."""
    return {f"repo/{n}": b for n, b in files.items()}


def vcase(area: str, name: str, files: dict[str, bytes], stderr: list[str], why: str,
          exit: int = 1, not_stderr: list[str] | None = None) -> None:
    case(area, name, in_repo(files), VERIFY, exit, stderr, why, not_stderr=not_stderr)


# --- control: the base inputs are valid, so each attack fails for its own reason ----------


def controls() -> None:
    vcase("control", "valid-repository", make_repo(), [], exit=0,
          why="the base repository every verify attack starts from verifies cleanly",
          not_stderr=["error:", "warning:"])
    # (the key-file and merge controls are added beside their attacks)


# --- json: the strict reader, through verify on targets.json ------------------------------


def json_cases() -> None:
    good = make_repo()
    t = good["targets.json"]

    def with_targets(b: bytes) -> dict[str, bytes]:
        f = dict(good)
        f["targets.json"] = b
        return f

    def j(name: str, b: bytes, msg: str, why: str) -> None:
        vcase("json", name, with_targets(b),
              [f"targets.json: role targets: malformed: not valid JSON: {msg}"], why)

    dup = replace_once(t, '"version": 1', '"version": 1,\n    "version": 2')
    j("duplicate-keys-version", dup, 'duplicate object key "version"',
      "a reviewer reads the first value, a lenient parser keeps the last")
    j("duplicate-keys-escaped-spelling",
      replace_once(t, '"version": 1', '"version": 1,\n    "vers\\u0069on": 2'),
      'duplicate object key "version"', "an escape makes the duplicate invisible to grep")
    j("duplicate-keys-nested-target",
      replace_once(t, '"length": 6', '"length": 6,\n        "length": 60000'),
      'duplicate object key "length"', "two lengths for one target file")
    j("duplicate-keys-top-level",
      replace_once(t, '"signatures": [', '"signatures": [],\n  "signatures": ['),
      'duplicate object key "signatures"', "two signature lists")
    j("duplicate-keys-delegated-role-name",
      replace_once(t, '"name": "projects"', '"name": "projects",\n          "name": "root"'),
      'duplicate object key "name"', "the delegated role name shown is not the one used")
    j("float-in-version", replace_once(t, '"version": 1', '"version": 1.0'),
      "floating-point numbers are not allowed", "1.0 and 1 canonicalise differently")
    j("exponent-in-version", replace_once(t, '"version": 1', '"version": 1e0'),
      "floating-point numbers are not allowed", "an exponent is a float")
    j("float-in-length", replace_once(t, '"length": 6', '"length": 6.5'),
      "floating-point numbers are not allowed", "a fractional length")
    j("nan-version", replace_once(t, '"version": 1', '"version": NaN'),
      "floating-point numbers are not allowed", "NaN compares unequal to itself")
    j("infinity-version", replace_once(t, '"version": 1', '"version": Infinity'),
      "floating-point numbers are not allowed", "an infinite version beats every rollback check")
    j("negative-infinity-version", replace_once(t, '"version": 1', '"version": -Infinity'),
      "floating-point numbers are not allowed", "a negative infinite version")
    j("huge-integer-version",
      replace_once(t, '"version": 1', '"version": 99999999999999999999999999'),
      "integer out of range", "an integer that wraps in a 64-bit reader")
    j("integer-just-above-i64",
      replace_once(t, '"version": 1', '"version": 9223372036854775808'),
      "integer out of range", "i64::MAX + 1 wraps to i64::MIN")
    j("integer-below-i64-min",
      replace_once(t, '"length": 6', '"length": -9223372036854775809'),
      "integer out of range", "below i64::MIN")
    j("leading-zero-version", replace_once(t, '"version": 1', '"version": 01'),
      "numbers must not have leading zeros", "octal-looking numbers read differently elsewhere")
    j("plus-sign-version", replace_once(t, '"version": 1', '"version": +1'),
      "unexpected character '+'", "not JSON")
    j("bom-utf8", b"\xef\xbb\xbf" + t, "byte order mark is not allowed",
      "a BOM changes the bytes hashed but not what an editor shows")
    j("utf16-le-encoded", b"\xff\xfe" + t.decode().encode("utf-16-le"), "invalid UTF-8",
      "the same document in another encoding")
    j("invalid-utf8-byte", replace_once(t, "README.txt", b"README\xff.txt"), "invalid UTF-8",
      "bytes that decode differently in different readers")
    j("overlong-utf8-slash", replace_once(t, "README.txt", b"README\xc0\xaf.txt"),
      "invalid UTF-8", "an overlong '/' hides a path separator from naive checks")
    j("utf8-encoded-surrogate", replace_once(t, "README.txt", b"README\xed\xa0\x80.txt"),
      "invalid UTF-8", "CESU-8 surrogate bytes")
    j("lone-high-surrogate-escape", replace_once(t, "README.txt", "README\\ud800.txt"),
      "unpaired surrogate", "not a Unicode string: encoders disagree on its bytes")
    j("lone-low-surrogate-escape", replace_once(t, "README.txt", "README\\udc00.txt"),
      "unpaired surrogate", "not a Unicode string")
    j("reversed-surrogate-pair", replace_once(t, "README.txt", "README\\udc00\\ud800.txt"),
      "unpaired surrogate", "a low surrogate before a high one")
    j("raw-control-character-in-string", replace_once(t, "README.txt", b"README\x1b[2J.txt"),
      "unescaped control character U+001B", "raw escape sequences in a target path")
    j("raw-newline-in-string", replace_once(t, "README.txt", b"READ\nME.txt"),
      "unescaped control character U+000A", "a raw newline in a string")
    j("invalid-escape", replace_once(t, "README.txt", "README\\x41.txt"),
      "invalid escape sequence", "\\x is not a JSON escape")
    j("short-unicode-escape", replace_once(t, "README.txt", "README\\u41.txt"),
      "invalid escape sequence", "a truncated \\u escape")
    j("trailing-data", t + b'{"signed": {}}', "trailing data after the JSON value",
      "a second document some readers take instead of the first")
    j("trailing-nul", t + b"\x00", "trailing data after the JSON value",
      "a NUL after the document")
    j("trailing-comma-object", replace_once(t, '"version": 1\n', '"version": 1,\n'),
      "unexpected character '}'", "not JSON")
    j("trailing-comma-array",
      replace_once(t, '"projects/*"\n', '"projects/*",\n'), "unexpected character ']'",
      "not JSON")
    j("single-quoted-string", replace_once(t, '"README.txt"', "'README.txt'"),
      "unexpected character", "not JSON")
    j("comment", replace_once(t, '"targets": {', '"targets": { // hidden\n'),
      "unexpected character '/'", "comments are not JSON")
    j("unquoted-key", replace_once(t, '"version": 1', "version: 1"),
      "unexpected character 'v'", "not JSON")
    j("truncated-document", t[: len(t) // 2], "unexpected end of input",
      "a half-written file")
    j("empty-file", b"", "unexpected end of input", "an empty file")
    j("whitespace-only", b" \n\t\r\n", "unexpected end of input", "only whitespace")
    j("misspelled-literal", replace_once(t, '"terminating": true', '"terminating": tru'),
      "unexpected character", "a literal cut short")
    j("vertical-tab-whitespace", replace_once(t, '"version": 1', '"version":\x0b1'),
      "unexpected character", "whitespace JSON does not allow")
    j("nbsp-whitespace", replace_once(t, '"version": 1', '"version":\u00a01'),
      "unexpected character", "a non-breaking space looks like a space")
    depth = 200
    j("deeply-nested-arrays",
      replace_once(t, '"targets": {', '"x-deep": ' + "[" * depth + "]" * depth + ',\n    "targets": {'),
      "nesting deeper than 128 levels", "stack exhaustion in a recursive parser")
    depth = 100000
    j("very-deeply-nested-objects",
      replace_once(t, '"targets": {',
                   '"x-deep": ' + '{"a":' * depth + "1" + "}" * depth + ',\n    "targets": {'),
      "nesting deeper than 128 levels", "100,000 levels: overflows any recursive parser")
    j("unterminated-string", t[: t.index(b"README") + 3], "unexpected end of input",
      "a string that never ends")
    # Whole-document shapes.
    vcase("json", "top-level-array", with_targets(b"[]\n"),
          ["targets.json: role targets: malformed: not valid TUF metadata"],
          "an array is not metadata")
    vcase("json", "top-level-null", with_targets(b"null\n"),
          ["targets.json: role targets: malformed: not valid TUF metadata"],
          "null is not metadata")
    r = good["1.root.json"]
    f = dict(good)
    f["1.root.json"] = replace_once(r, '"threshold": 1', '"threshold": 1,\n        "threshold": 0')
    vcase("json", "duplicate-keys-root-threshold", f,
          ["1.root.json: role root: malformed: not valid JSON: duplicate object key \"threshold\""],
          "the root threshold a reviewer sees is not the one enforced")
    f = dict(good)
    f["1.root.json"] = replace_once(
        r, f'"{ROOT1.keyid}": {{', f'"{ROOT1.keyid}": {json.dumps(EVE.key)},\n    "{ROOT1.keyid}": {{')
    vcase("json", "duplicate-keys-root-key-object", f,
          ["1.root.json: role root: malformed: not valid JSON: duplicate object key"],
          "two keys under one keyid: the reviewer sees one, a lenient client uses the other")


# --- metadata: shapes and values TUF forbids ------------------------------------------------


def metadata_cases() -> None:
    def m(name: str, pre=None, post=None, stderr: list[str] | None = None, why: str = "",
          exit: int = 1, not_stderr=None, **kw) -> None:
        vcase("metadata", name, make_repo(pre=pre, post=post, **kw), stderr or [], why,
              exit=exit, not_stderr=not_stderr)

    def tset(path: list, value):
        def pre(st):
            d = st["targets"]
            for p in path[:-1]:
                d = d[p]
            d[path[-1]] = value
        return pre

    def rset(path: list, value):
        def pre(st):
            d = st["roots"][0][0]
            for p in path[:-1]:
                d = d[p]
            if value is DELETE:
                del d[path[-1]]
            else:
                d[path[-1]] = value
        return pre

    mal_t = "targets.json: role targets: malformed: not valid TUF metadata: "
    mal_r = "1.root.json: role root: malformed: not valid TUF metadata: "
    m("threshold-zero-root", rset(["roles", "root", "threshold"], 0),
      stderr=[mal_r + "signed.roles.root.threshold: must be at least 1, found 0"],
      why="threshold 0 is met by no signatures at all")
    m("threshold-zero-targets", rset(["roles", "targets", "threshold"], 0),
      stderr=[mal_r + "signed.roles.targets.threshold: must be at least 1"],
      why="anyone could sign targets")
    m("threshold-negative", rset(["roles", "root", "threshold"], -1),
      stderr=[mal_r + "signed.roles.root.threshold: must be at least 1, found -1"],
      why="a negative threshold is always met")
    m("threshold-wraps-u32", rset(["roles", "root", "threshold"], 2**32),
      stderr=[mal_r + "signed.roles.root.threshold: 4294967296 is too large"],
      why="2^32 truncates to 0 in a 32-bit counter")
    m("threshold-string", rset(["roles", "root", "threshold"], "1"),
      stderr=[mal_r + "signed.roles.root.threshold"], why="a string threshold")
    m("threshold-zero-delegation",
      tset(["delegations", "roles", 0, "threshold"], 0),
      stderr=[mal_t + "signed.delegations.roles[0].threshold: must be at least 1"],
      why="a delegated role anyone can sign")
    m("version-zero", tset(["version"], 0),
      stderr=[mal_t + "signed.version: must be greater than zero, found 0"],
      why="version 0 is below every rollback floor")
    m("version-negative", tset(["version"], -5),
      stderr=[mal_t + "signed.version: must be greater than zero, found -5"],
      why="a negative version")
    m("version-i64-min", tset(["version"], -(2**63)),
      stderr=[mal_t + "signed.version: must be greater than zero"],
      why="i64::MIN negates to itself")
    m("version-string", tset(["version"], "2"),
      stderr=[mal_t + "signed.version"], why="a string that looks like a version")
    m("version-bool", tset(["version"], True),
      stderr=[mal_t + "signed.version"], why="true is 1 in some languages")
    m("expires-fraction", tset(["expires"], "2100-01-01T00:00:00.5Z"),
      stderr=[mal_t + "signed.expires"], why="python-tuf refuses fractional seconds")
    m("expires-offset", tset(["expires"], "2100-01-01T00:00:00+01:00"),
      stderr=[mal_t + "signed.expires"], why="an offset clients read differently")
    m("expires-feb-30", tset(["expires"], "2100-02-30T00:00:00Z"),
      stderr=[mal_t + "signed.expires"], why="a date that does not exist")
    m("expires-lowercase-z", tset(["expires"], "2100-01-01t00:00:00z"),
      stderr=[mal_t + "signed.expires"], why="not the spec's form")
    m("expires-leap-second", tset(["expires"], "2100-01-01T23:59:60Z"),
      stderr=[mal_t + "signed.expires"], why="second 60")
    m("expires-year-zero", tset(["expires"], "0000-01-01T00:00:00Z"),
      stderr=[mal_t + "signed.expires"], why="year 0")
    m("expires-integer", tset(["expires"], 4102444800),
      stderr=[mal_t + "signed.expires"], why="a Unix time instead of a date")
    m("spec-version-major-2", tset(["spec_version"], "2.0.0"),
      stderr=[mal_t + "signed.spec_version: major version 2 is not supported"],
      why="a future format with different rules")
    m("spec-version-garbage", tset(["spec_version"], "1.0.x"),
      stderr=[mal_t + "signed.spec_version"], why="not a version")
    m("type-unknown", tset(["_type"], "mirrors"),
      stderr=['targets.json: role targets: malformed: not valid TUF metadata: signed._type: unknown role type "mirrors"'],
      why="a role type conclave does not know")
    m("type-root-in-targets-file", None,
      post=lambda f: f.__setitem__("targets.json", f["1.root.json"]),
      stderr=['targets.json: role targets: wrong-type: holds _type "root"'],
      why="a root served as targets metadata")
    m("type-missing",
      pre=lambda st: st["targets"].pop("_type"),
      stderr=[mal_t + 'signed: missing field "_type"'],
      why="metadata without a type")
    m("type-case-changed", tset(["_type"], "Targets"),
      stderr=[mal_t + 'signed._type: unknown role type "Targets"'],
      why="a type that only matches case-insensitively")

    def drop_signatures(f):
        d = json.loads(f["targets.json"])
        del d["signatures"]
        f["targets.json"] = dump(d)
    m("signatures-missing", post=drop_signatures,
      stderr=[mal_t + '(top level): missing field "signatures"'],
      why="an envelope with no signatures list")

    def sigs_object(f):
        d = json.loads(f["targets.json"])
        d["signatures"] = {TARGETS.keyid: d["signatures"][0]["sig"]}
        f["targets.json"] = dump(d)
    m("signatures-as-object", post=sigs_object, stderr=[mal_t + "signatures"],
      why="the pre-1.0 signatures shape")

    def dup_sig(f):
        d = json.loads(f["targets.json"])
        d["signatures"].append(dict(d["signatures"][0]))
        f["targets.json"] = dump(d)
    m("duplicate-signatures-same-keyid", post=dup_sig,
      stderr=[mal_t + "signatures[1]: second signature by keyid"],
      why="one key signing twice must not count as two signers")

    def empty_keyid(f):
        d = json.loads(f["targets.json"])
        d["signatures"][0]["keyid"] = ""
        f["targets.json"] = dump(d)
    m("signature-keyid-empty", post=empty_keyid,
      stderr=[mal_t + "signatures[0].keyid: keyid must not be empty"], why="an empty keyid")

    def ctl_keyid(f):
        d = json.loads(f["targets.json"])
        d["signatures"][0]["keyid"] = "abc\u001b[2Jdef"
        f["targets.json"] = dump(d)
    m("signature-keyid-control-characters", post=ctl_keyid,
      stderr=[mal_t + "signatures[0].keyid: keyid must not contain control characters"],
      why="terminal escapes in a keyid printed to the officer")

    def sig_int(f):
        d = json.loads(f["targets.json"])
        d["signatures"][0]["sig"] = 5
        f["targets.json"] = dump(d)
    m("signature-sig-not-string", post=sig_int, stderr=[mal_t + "signatures[0].sig"],
      why="a number where the hex signature belongs")

    for role in ("timestamp", "root"):
        def drop_role(st, role=role):
            del st["roots"][0][0]["roles"][role]
        m(f"root-missing-{role}-role", drop_role,
          stderr=[mal_r + f'signed.roles: the "{role}" role is missing'],
          why=f"a root that does not say who signs {role}")
    m("root-keys-as-list", rset(["keys"], []), stderr=[mal_r + "signed.keys"],
      why="keys must be a keyid map")
    m("root-key-missing-keyval", lambda st: st["roots"][0][0]["keys"][ROOT1.keyid].pop("keyval"),
      stderr=[mal_r + f"signed.keys.{ROOT1.keyid}"], why="a key without key material")
    m("root-keyids-duplicated",
      rset(["roles", "root", "keyids"], [ROOT1.keyid, ROOT1.keyid]),
      stderr=[mal_r + "signed.roles.root.keyids[1]: keyid " + ROOT1.keyid + " is listed twice"],
      why="one key listed twice must not look like two keys")
    m("root-keyids-not-strings", rset(["roles", "root", "keyids"], [1]),
      stderr=[mal_r + "signed.roles.root.keyids"], why="a number as a keyid")
    m("target-length-negative", tset(["targets", "README.txt", "length"], -1),
      stderr=[mal_t + "signed.targets.README.txt.length: must not be negative"],
      why="a negative length defeats download limits")
    m("target-hashes-empty", tset(["targets", "README.txt", "hashes"], {}),
      stderr=[mal_t + "signed.targets.README.txt.hashes: must list at least one hash"],
      why="a target with no hash can be anything")
    m("consistent-snapshot-string", rset(["consistent_snapshot"], "true"),
      stderr=[mal_r + "signed.consistent_snapshot"], why="a string where a boolean belongs")
    m("delegations-both-roles-and-succinct",
      tset(["delegations", "succinct_roles"],
           {"keyids": [DEV1.keyid], "threshold": 1, "bit_length": 4, "name_prefix": "bin"}),
      stderr=[mal_t + 'signed.delegations: has both "roles" and "succinct_roles"'],
      why="two delegation schemes: which one a client follows is undefined")
    m("delegation-both-paths-and-prefixes",
      tset(["delegations", "roles", 0, "path_hash_prefixes"], ["ab"]),
      stderr=[mal_t + 'signed.delegations.roles[0]: has both "paths" and "path_hash_prefixes"'],
      why="ambiguous scope of trust")
    def succinct(bits, prefix="bin"):
        def pre(st):
            d = st["targets"]["delegations"]
            d.pop("roles")
            d["succinct_roles"] = {"keyids": [DEV1.keyid], "threshold": 1, "bit_length": bits,
                                   "name_prefix": prefix}
        return pre
    m("succinct-bit-length-zero", succinct(0),
      stderr=[mal_t + "signed.delegations.succinct_roles.bit_length: must be 1 to 32, found 0"],
      why="zero bins")
    m("succinct-bit-length-33", succinct(33),
      stderr=[mal_t + "signed.delegations.succinct_roles.bit_length: must be 1 to 32, found 33"],
      why="2^33 bins: shifts overflow")
    m("succinct-bit-length-huge", succinct(2**62),
      stderr=[mal_t + "signed.delegations.succinct_roles.bit_length: must be 1 to 32"],
      why="a shift by 2^62")
    m("succinct-name-prefix-traversal", succinct(4, "../bins"),
      stderr=[mal_t + "signed.delegations.succinct_roles.name_prefix: role name must not contain path separators"],
      why="bin files written outside the metadata directory")
    m("unknown-fields-are-signed",
      tset(["x-custom"], {"note": "kept"}), post=None, exit=0, stderr=[],
      why="control: unknown fields are kept and covered by the signature",
      not_stderr=["error:"])

    def strip_custom_after_signing(st):
        st["targets"]["x-custom"] = {"note": "signed"}

    def strip_post(files, st):
        d = json.loads(files["targets.json"])
        del d["signed"]["x-custom"]
        files["targets.json"] = dump(d)
    vcase("metadata", "unknown-field-removed-after-signing",
          make_repo(pre=strip_custom_after_signing, mid=strip_post),
          ["targets.json: role targets: threshold: 0 of the threshold 1",
           "invalid: "], "dropping unknown fields (as tough once did) must break the signature")


DELETE = object()


# --- role names: path traversal and control characters --------------------------------------


def rolename_cases() -> None:
    mal_t = "targets.json: role targets: malformed: not valid TUF metadata: "
    bad = {
        "role-name-dotdot-slash": ("../x", "role name must not contain path separators"),
        "role-name-absolute-path": ("/etc/passwd", "role name must not contain path separators"),
        "role-name-backslash-traversal": ("..\\x", "role name must not contain path separators"),
        "role-name-nested-path": ("a/b", "role name must not contain path separators"),
        "role-name-dotdot": ("..", "role name must not contain path separators or be . or .."),
        "role-name-dot": (".", "role name must not contain path separators or be . or .."),
        "role-name-empty": ("", "role name must not be empty"),
        "role-name-escape-sequence": ("evil\u001b]0;pwned\u0007", "role name must not contain control characters"),
        "role-name-newline": ("a\nb", "role name must not contain control characters"),
        "role-name-nul": ("a\u0000b", "role name must not contain control characters"),
        "role-name-del": ("a\u007fb", "role name must not contain control characters"),
        "role-name-c1-control": ("a\u0085b", "role name must not contain control characters"),
        "role-name-top-level-root": ("root", '"root" is a top-level role and cannot be delegated to'),
        "role-name-top-level-timestamp": ("timestamp", '"timestamp" is a top-level role'),
        "role-name-top-level-targets": ("targets", '"targets" is a top-level role'),
    }
    for name, (role, msg) in bad.items():
        def pre(st, role=role):
            st["targets"]["delegations"]["roles"][0]["name"] = role
        vcase("delegation", name, make_repo(pre=pre),
              [mal_t + f"signed.delegations.roles[0].name: {msg}"],
              f"delegated role name {role!r} becomes a file name and URL segment")

    # Allowed but suspicious: a bidi override must be escaped when printed.
    def bidi(st):
        st["targets"]["delegations"]["roles"][0]["name"] = "proj\u202eects"
        st["targets"]["delegations"]["roles"][0]["paths"] = ["projects/*"]
    vcase("delegation", "role-name-bidi-override-printed-escaped", make_repo(pre=bidi),
          ["role-name-not-url-safe", "proj\\u{202e}ects"],
          "a right-to-left override reorders what the officer reads; it must be shown escaped",
          exit=1, not_stderr=["\u202e"])

    def dup(st):
        roles = st["targets"]["delegations"]["roles"]
        roles.append(copy.deepcopy(roles[0]))
        roles[1]["keyids"] = [EVE.keyid]
        st["targets"]["delegations"]["keys"][EVE.keyid] = EVE.key
    vcase("delegation", "role-delegated-twice", make_repo(pre=dup),
          [mal_t + 'signed.delegations.roles[1]: role "projects" is delegated twice'],
          "the second delegation would hand the role to another key")


# --- root chain ----------------------------------------------------------------------------


def root_chain_cases() -> None:
    def rc(name, roots, stderr, why, exit=1, extra_args=None, not_stderr=None, post=None,
           extra_files=None):
        def pre(st):
            st["roots"] = roots
            if extra_files:
                st["extra"].update(extra_files)
        files = make_repo(pre=pre, post=post)
        cmd = VERIFY + (extra_args or [])
        case("root-chain", name, in_repo(files), cmd, exit, stderr, why, not_stderr=not_stderr)

    r1 = root_signed(1, root_keys=(ROOT1,))
    rc("root-version-skip",
       [(r1, [ROOT1]), (root_signed(3, root_keys=(ROOT1,)), [ROOT1])],
       ["3.root.json: role root: root-version-skip: version 3 follows version 1 with no 2.root.json"],
       "skipping a version strands clients that trust the one in between")
    rc("root-chain-broken-after-bad-version",
       [(r1, [ROOT1]), (root_signed(2, root_keys=(ROOT2,)), [ROOT2]),
        (root_signed(3, root_keys=(ROOT2,)), [ROOT2])],
       ["2.root.json: role root: root-chain-old-threshold",
        "3.root.json: role root: root-chain-broken: cannot be reached"],
       "a valid-looking v3 behind a v2 the old keys never signed")
    rc("rotation-not-signed-by-old-keys",
       [(r1, [ROOT1]), (root_signed(2, root_keys=(ROOT2,)), [ROOT2])],
       ["2.root.json: role root: root-chain-old-threshold: 0 of the threshold 1 of root v1 keys",
        "not authorised"],
       "an attacker with new keys only must not be able to rotate the root")
    rc("rotation-not-signed-by-new-keys",
       [(r1, [ROOT1]), (root_signed(2, root_keys=(ROOT2,)), [ROOT1])],
       ["2.root.json: role root: root-chain-new-threshold"],
       "the new root must be signed by its own keys too (5.3.5)")
    rc("root-v1-unsigned", [(r1, [])],
       ["1.root.json: role root: root-self-threshold: 0 of the threshold 1"],
       "an unsigned trust anchor")
    rc("root-v1-signed-by-attacker", [(r1, [EVE])],
       ["1.root.json: role root: root-self-threshold", "not authorised"],
       "a signature by a key the root does not list")
    rc("root-signed-by-targets-key", [(r1, [TARGETS])],
       ["1.root.json: role root: root-self-threshold"],
       "a key trusted for another role signs root")

    # Threshold 2 with one key listed under two keyids (TAP 12: a key counts once).
    def alias_root(version=1):
        r = root_signed(version, root_keys=(ROOT1, ROOT2), threshold=2)
        alias = "alias-" + ROOT1.keyid[:20]
        r["keys"][alias] = ROOT1.key
        r["roles"]["root"]["keyids"] = [ROOT1.keyid, alias]
        del r["keys"][ROOT2.keyid]
        return r, alias

    r, alias = alias_root()
    payload = canonical(r)
    md = {"signed": r, "signatures": [{"keyid": ROOT1.keyid, "sig": ROOT1.sig(payload)},
                                      {"keyid": alias, "sig": ROOT1.sig(payload)}]}

    def set_alias(files):
        files["1.root.json"] = dump(md)
    rc("keyid-alias-one-key-two-keyids", [(r1, [ROOT1])],
       ["1.root.json: role root: root-self-threshold: 1 of the threshold 2",
        "is the same key as"],
       "one key under two keyids must not meet a threshold of two", post=set_alias)

    # A keyid that names ROOT1's id but holds EVE's key material.
    def collision(files):
        r = root_signed(1)
        r["keys"][ROOT1.keyid] = EVE.key
        files["1.root.json"] = dump({"signed": r, "signatures": [
            {"keyid": ROOT1.keyid, "sig": EVE.sig(canonical(r))}]})
    rc("keyid-collision-attacker-key-under-trusted-id", [(r1, [ROOT1])],
       ["keyid-not-canonical"], exit=0, post=collision,
       why="a keyid is only a name: the key under it is what verifies (warned, since the "
           "anchor is trusted as given)")

    # Same trusted anchor, then a v2 that relabels EVE's key with ROOT1's keyid.
    def collision_v2(files):
        r = root_signed(2)
        r["keys"][ROOT1.keyid] = EVE.key
        files["2.root.json"] = dump({"signed": r, "signatures": [
            {"keyid": ROOT1.keyid, "sig": EVE.sig(canonical(r))}]})
    rc("keyid-collision-in-rotation", [(r1, [ROOT1])],
       ["2.root.json: role root: root-chain-old-threshold", "invalid"],
       "v1's keyid must resolve to v1's key when checking v2", post=collision_v2)

    r2 = root_signed(2)

    def sig_from_other_version(files):
        other = root_signed(1)
        files["2.root.json"] = dump({"signed": r2, "signatures": [
            {"keyid": ROOT1.keyid, "sig": ROOT1.sig(canonical(other))}]})
    rc("signature-for-another-version", [(r1, [ROOT1])],
       ["2.root.json: role root: root-chain-old-threshold",
        "invalid: " + ROOT1.keyid[:16] + " (the signature does not match"],
       "a signature lifted from v1 onto v2", post=sig_from_other_version)

    def sig_over_pretty(files):
        files["2.root.json"] = dump({"signed": r2, "signatures": [
            {"keyid": ROOT1.keyid, "sig": ROOT1.sig(dump(r2))}]})
    rc("signature-over-non-canonical-bytes", [(r1, [ROOT1])],
       ["2.root.json: role root: root-chain-old-threshold", "invalid"],
       "signatures cover canonical JSON only", post=sig_over_pretty)

    def tampered_after_signing(files):
        d = json.loads(files["2.root.json"])
        d["signed"]["expires"] = "2199-01-01T00:00:00Z"
        files["2.root.json"] = dump(d)
    rc("root-tampered-after-signing", [(r1, [ROOT1]), (r2, [ROOT1])],
       ["2.root.json: role root: root-chain-old-threshold", "invalid"],
       "an extended expiry nobody signed", post=tampered_after_signing)

    def bad_sig(mutate):
        def post(files):
            d = json.loads(files["1.root.json"])
            d["signatures"][0]["sig"] = mutate(d["signatures"][0]["sig"])
            files["1.root.json"] = dump(d)
        return post
    rc("signature-bit-flip", [(r1, [ROOT1])], ["root-self-threshold", "invalid"],
       "a corrupted signature", post=bad_sig(lambda s: ("1" if s[0] == "0" else "0") + s[1:]))
    rc("signature-truncated", [(r1, [ROOT1])], ["root-self-threshold", "invalid"],
       "a signature missing bytes", post=bad_sig(lambda s: s[:-2]))
    rc("signature-not-hex", [(r1, [ROOT1])], ["root-self-threshold", "invalid"],
       "a signature that is not hex", post=bad_sig(lambda s: "zz" + s[2:]))
    rc("signature-empty-placeholder", [(r1, [ROOT1])],
       ["root-self-threshold", "empty-signature"],
       "an empty placeholder counts for nothing", post=bad_sig(lambda s: ""))
    rc("signature-all-zero", [(r1, [ROOT1])], ["root-self-threshold", "invalid"],
       "an all-zero Ed25519 signature", post=bad_sig(lambda s: "00" * 64))
    rc("signature-uppercase-hex-accepted", [(r1, [ROOT1])], ["uppercase-signature"], exit=0,
       why="uppercase hex verifies (as in securesystemslib) but is warned about",
       post=bad_sig(str.upper), not_stderr=["error:"])

    rc("final-root-expired",
       [(r1, [ROOT1]), (root_signed(2, expires=PAST), [ROOT1])],
       ["2.root.json: role root: expired: the final root (version 2) expired"],
       "a freeze attack: replaying an old root")
    rc("expired-intermediate-root-ok",
       [(root_signed(1, expires=PAST), [ROOT1]), (r2, [ROOT1])], [], exit=0,
       why="an expired intermediate root is fine (5.3.10 checks only the final one)",
       not_stderr=["error:"])
    rc("only-root-expired",
       [(root_signed(1, expires=PAST), [ROOT1])],
       ["1.root.json: role root: expired: the final root (version 1) expired"],
       "the trust anchor itself has expired")

    def misnamed(files):
        files["2.root.json"] = files.pop("1.root.json")
    rc("root-file-name-version-mismatch", [(r1, [ROOT1])],
       ["2.root.json: role root: version-mismatch: the file name says version 2 but the metadata is version 1"],
       "a v1 root posing as v2", post=misnamed)

    def rollback_copy(files):
        files["2.root.json"] = files["1.root.json"]
    rc("root-rollback-copy-of-v1-as-v2", [(r1, [ROOT1])],
       ["2.root.json: role root: version-mismatch"],
       "re-serving v1 as the next version", post=rollback_copy)

    def conflicting(files):
        r = root_signed(1, expires="2099-01-01T00:00:00Z")
        files["root.json"] = dump(sign(r, [ROOT1]))
    rc("root-json-conflicting-copy", [(r1, [ROOT1])],
       ["root.json: role root: conflicting-copy"],
       "root.json says something else than 1.root.json", post=conflicting)

    rc("threshold-above-key-count",
       [(root_signed(1, root_keys=(ROOT1,), threshold=2), [ROOT1])],
       ["root-self-threshold", "only 1 keys are authorised, so the threshold can never be met",
        "threshold-unreachable"],
       "a root nobody can ever sign again")

    def unresolved(files):
        r = root_signed(1)
        r["roles"]["root"]["keyids"].append("f" * 64)
        r["roles"]["root"]["threshold"] = 2
        files["1.root.json"] = dump(sign(r, [ROOT1]))
    rc("unresolved-keyid-does-not-count", [(r1, [ROOT1])],
       ["root-self-threshold", "unresolved-keyid"],
       "a keyid with no key cannot contribute a signature", post=unresolved)

    def wrong_scheme(files):
        r = root_signed(1)
        r["keys"][ROOT1.keyid]["scheme"] = "ecdsa-sha2-nistp256"
        files["1.root.json"] = dump(sign(r, [ROOT1]))
    rc("key-scheme-confusion", [(r1, [ROOT1])],
       ["root-self-threshold", "unsupported-key"],
       "an ed25519 key declared with another scheme", post=wrong_scheme)

    def short_key(files):
        r = root_signed(1)
        r["keys"][ROOT1.keyid]["keyval"]["public"] = "00" * 31
        files["1.root.json"] = dump(sign(r, [ROOT1]))
    rc("key-material-wrong-length", [(r1, [ROOT1])],
       ["root-self-threshold", "malformed-key"],
       "a 31-byte Ed25519 public key", post=short_key)

    def trusted_root_other(files):
        files["trusted"] = dump(sign(root_signed(1, root_keys=(ROOT2,)), [ROOT2]))
    rc("trusted-root-differs-from-repository", [(r1, [ROOT1])],
       ["1.root.json: role root: conflicting-copy"],
       "the repository's v1 is not the root the client trusts",
       extra_args=["--trusted-root", "repo/trusted"], post=trusted_root_other)

    def trusted_root_malformed(files):
        files["trusted"] = b'{"signed": 1}'
    rc("trusted-root-malformed", [(r1, [ROOT1])],
       ["repo/trusted: role root: malformed: trusted root"],
       "a damaged trust anchor", extra_args=["--trusted-root", "repo/trusted"],
       post=trusted_root_malformed)

    rc("online-keys-rotated-warns",
       [(r1, [ROOT1]), (root_signed(2, ts=(TIMESTAMP, SNAPSHOT)), [ROOT1])],
       ["online-keys-rotated"], exit=0,
       why="rotating timestamp keys resets clients' rollback floors: must be visible",
       not_stderr=["error:"])

    r_big = root_signed(2**63 - 1)
    rc("root-version-i64-max", [(r_big, [ROOT1])], [], exit=0,
       why="the largest version must not overflow the chain walk", not_stderr=["error:"])
    rc("root-version-i64-max-then-more",
       [(r_big, [ROOT1])], ["malformed", "integer out of range"],
       why="no version after i64::MAX",
       post=lambda f: f.__setitem__(
           "9223372036854775808.root.json",
           replace_once(f["9223372036854775807.root.json"], "9223372036854775807",
                        "9223372036854775808")))


# --- snapshot and timestamp ----------------------------------------------------------------


def snapshot_timestamp_cases() -> None:
    def s(name, stderr, why, exit=1, **kw):
        vcase("snapshot-timestamp", name, make_repo(**kw), stderr, why, exit=exit)

    def extra_meta(t):
        t["meta"]["targets.json"] = {"version": 1}
    s("timestamp-lists-extra-meta", [
        "timestamp.json: role timestamp: malformed: not valid TUF metadata: signed.meta: "
        'must describe only "snapshot.json", found "targets.json"'],
      "python-tuf drops extra entries on load, silently breaking the signature", ts=extra_meta)

    def no_snapshot_meta(t):
        t["meta"] = {"targets.json": {"version": 1}}
    s("timestamp-missing-snapshot-meta",
      ['timestamp.json: role timestamp: malformed: not valid TUF metadata: signed.meta: must describe "snapshot.json"'],
      "a timestamp that vouches for no snapshot", ts=no_snapshot_meta)

    def ts_newer(t):
        t["meta"]["snapshot.json"]["version"] = 2
    s("snapshot-rollback-of-version",
      ["snapshot.json: role snapshot: snapshot-version: timestamp names snapshot version 2, but this is version 1"],
      "an old snapshot served under a newer timestamp", ts=ts_newer)

    def ts_hash(t):
        t["meta"]["snapshot.json"]["hashes"]["sha256"] = "0" * 64
    s("snapshot-hash-mismatch",
      ["snapshot.json: role snapshot: hash-mismatch: timestamp records sha256 " + "0" * 64],
      "a snapshot other than the one the timestamp vouches for", ts=ts_hash)

    def ts_upper(t):
        h = t["meta"]["snapshot.json"]["hashes"]["sha256"]
        t["meta"]["snapshot.json"]["hashes"]["sha256"] = h.upper()
    s("uppercase-meta-hash",
      ["snapshot.json: role snapshot: hash-mismatch"],
      "hex digests compare as lowercase strings (as python-tuf does)", ts=ts_upper)

    def ts_len(t):
        t["meta"]["snapshot.json"]["length"] += 1
    s("snapshot-length-mismatch",
      ["snapshot.json: role snapshot: length-mismatch: timestamp says it is"],
      "an endless-data or truncation attack on snapshot", ts=ts_len)

    def ts_neg_len(t):
        t["meta"]["snapshot.json"]["length"] = -1
    s("meta-length-negative",
      ["timestamp.json: role timestamp: malformed: not valid TUF metadata: signed.meta.snapshot.json.length: must not be negative"],
      "a negative download limit", ts=ts_neg_len)

    def ts_v0(t):
        t["meta"]["snapshot.json"]["version"] = 0
    s("meta-version-zero",
      ["timestamp.json: role timestamp: malformed: not valid TUF metadata: signed.meta.snapshot.json.version: must be greater than zero"],
      "version 0", ts=ts_v0)

    def ts_empty_hashes(t):
        t["meta"]["snapshot.json"]["hashes"] = {}
    s("meta-hashes-empty",
      ["timestamp.json: role timestamp: malformed: not valid TUF metadata: signed.meta.snapshot.json.hashes: must list at least one hash"],
      "hashes present but empty: nothing is checked", ts=ts_empty_hashes)

    def ts_unknown_hash(t):
        t["meta"]["snapshot.json"]["hashes"] = {"md5": "0" * 32}
    s("meta-unknown-hash-only", ["unknown-hash"],
      "a hash conclave cannot compute is reported, not silently passed", exit=0,
      ts=ts_unknown_hash)

    def snap_targets_v2(sn):
        sn["meta"]["targets.json"]["version"] = 2
    s("targets-rollback-against-snapshot",
      ["targets.json: role targets: snapshot-version: snapshot names targets version 2, but this is version 1"],
      "an old targets served under a newer snapshot", snap=snap_targets_v2)

    def tamper_targets(files, st):
        d = json.loads(files["targets.json"])
        d["signed"]["targets"]["evil.txt"] = target_entry(b"evil")
        files["targets.json"] = dump(d)
    s("targets-tampered-signature-invalid",
      ["targets.json: role targets: threshold: 0 of the threshold 1", "invalid"],
      "a target added without the targets key", mid=tamper_targets)

    def tamper_targets_after(files):
        d = json.loads(files["targets.json"])
        d["signed"]["targets"]["README.txt"]["length"] = 7
        d["signatures"] = sign(d["signed"], [TARGETS])["signatures"]
        files["targets.json"] = dump(d)
    s("targets-hash-mismatch-against-snapshot",
      ["targets.json: role targets: hash-mismatch: snapshot records sha256"],
      "targets swapped for another validly signed one", snapshot_hashes=True,
      post=tamper_targets_after)

    def drop_projects(sn):
        del sn["meta"]["projects.json"]
    s("delegated-role-not-in-snapshot",
      ["projects.json: role projects: not-in-snapshot"],
      "clients load only what snapshot lists", snap=drop_projects)

    s("timestamp-signed-by-snapshot-key",
      ["timestamp.json: role timestamp: threshold: 0 of the threshold 1", "not authorised"],
      "a compromised snapshot key must not sign timestamp",
      pre=lambda st: st.__setitem__("timestamp_signers", [SNAPSHOT]))
    s("snapshot-signed-by-timestamp-key",
      ["snapshot.json: role snapshot: threshold: 0 of the threshold 1"],
      "the online timestamp key must not sign snapshot",
      pre=lambda st: st.__setitem__("snapshot_signers", [TIMESTAMP]))
    s("targets-signed-by-root-key",
      ["targets.json: role targets: threshold: 0 of the threshold 1"],
      "root keys sign root, not targets",
      pre=lambda st: st.__setitem__("targets_signers", [ROOT1]))

    def ts_expired(t):
        t["expires"] = PAST
    s("timestamp-expired", ["timestamp.json: role timestamp: expired"],
      "a freeze attack on timestamp", ts=ts_expired)

    def snap_expired(sn):
        sn["expires"] = PAST
    s("snapshot-expired", ["snapshot.json: role snapshot: expired"],
      "a freeze attack on snapshot", snap=snap_expired)
    s("targets-expired", ["targets.json: role targets: expired"],
      "expired targets", pre=lambda st: st["targets"].__setitem__("expires", PAST))

    base = in_repo(make_repo())
    case("snapshot-timestamp", "expiry-boundary-exactly-at-expiry", base,
         VERIFY + ["--at", FAR], 1,
         ["repo/timestamp.json: role timestamp: expired: expired at " + FAR],
         "at the expiry instant metadata is already expired (python-tuf: now >= expires)")
    case("snapshot-timestamp", "expiry-boundary-one-second-before", base,
         VERIFY + ["--at", "2099-12-31T23:59:59Z"], 0, [],
         "one second before expiry everything is still valid", not_stderr=["error:"])

    def snap_wrong_type(files):
        files["snapshot.json"] = files["timestamp.json"]
    s("timestamp-served-as-snapshot",
      ['snapshot.json: role snapshot: wrong-type: holds _type "timestamp"'],
      "the role type must match the file", post=snap_wrong_type)

    def snap_dup_meta(files):
        files["snapshot.json"] = replace_once(
            files["snapshot.json"], '"targets.json": {',
            '"targets.json": {"version": 9},\n      "targets.json": {')
    s("snapshot-duplicate-meta-entry",
      ['snapshot.json: role snapshot: malformed: not valid JSON: duplicate object key "targets.json"'],
      "two versions of targets in one snapshot", post=snap_dup_meta)


# --- delegation --------------------------------------------------------------------------


def delegation_cases() -> None:
    def d(name, stderr, why, exit=1, not_stderr=None, **kw):
        vcase("delegation", name, make_repo(**kw), stderr, why, exit=exit, not_stderr=not_stderr)

    d("delegated-role-signed-by-wrong-key",
      ["projects.json: role projects: threshold: 0 of the threshold 1", "not authorised"],
      "another developer signs this project",
      pre=lambda st: st.__setitem__("projects_signers", [DEV2]))
    d("delegated-role-signed-by-delegator-key",
      ["projects.json: role projects: threshold: 0 of the threshold 1"],
      "the targets key is not a projects key",
      pre=lambda st: st.__setitem__("projects_signers", [TARGETS]))

    def two_needed(st):
        r = st["targets"]["delegations"]["roles"][0]
        r["keyids"] = [DEV1.keyid, DEV2.keyid]
        r["threshold"] = 2
        st["targets"]["delegations"]["keys"][DEV2.keyid] = DEV2.key
    d("delegation-threshold-unmet",
      ["projects.json: role projects: threshold: 1 of the threshold 2"],
      "one of two required developers", pre=two_needed)

    def alias(st):
        r = st["targets"]["delegations"]["roles"][0]
        a = "alias-of-developer-1"
        r["keyids"] = [DEV1.keyid, a]
        r["threshold"] = 2
        st["targets"]["delegations"]["keys"][a] = DEV1.key
        st["projects_alias"] = a

    def alias_sig(files, st):
        d_ = json.loads(files["projects.json"])
        d_["signatures"].append({"keyid": st["projects_alias"],
                                 "sig": DEV1.sig(canonical(d_["signed"]))})
        files["projects.json"] = dump(d_)
    d("delegation-keyid-alias-counted-once",
      ["projects.json: role projects: threshold: 1 of the threshold 2", "is the same key as"],
      "one developer key under two keyids", pre=alias, mid=alias_sig)

    d("delegated-role-expired", ["projects.json: role projects: expired"],
      "an expired delegated role",
      pre=lambda st: st["projects"].__setitem__("expires", PAST))

    def projects_is_root(files, st):
        files["projects.json"] = files["1.root.json"]
    d("delegated-role-holds-root",
      ['projects.json: role projects: wrong-type: holds _type "root"'],
      "a root in a delegated role's file", mid=projects_is_root)

    def upper_prefix(st):
        r = st["targets"]["delegations"]["roles"][0]
        del r["paths"]
        r["path_hash_prefixes"] = ["AB", "cd"]
    d("uppercase-hash-prefixes", ["uppercase-hash-prefix"],
      "uppercase prefixes never match: targets silently fall to another role", exit=0,
      pre=upper_prefix, not_stderr=["error:"])

    def outside(st):
        st["projects"]["targets"]["other/evil.txt"] = target_entry(b"evil")
    d("target-outside-delegated-paths", ["target-outside-delegation", "other/evil.txt"],
      "a role listing targets it was not delegated", exit=0, pre=outside)

    def traversal_target(st):
        st["projects"]["targets"]["projects/../../etc/passwd"] = target_entry(b"x")
    d("target-path-traversal", [],
      "'..' in a target path: matched as text, so it stays under projects/* here; clients "
      "must not join it onto a directory", exit=0, pre=traversal_target)

    def orphan(st):
        st["extra"]["orphan.json"] = dump(sign(projects_signed(), [DEV1]))
    d("role-not-delegated", ["orphan.json: role orphan: not-delegated"],
      "a file nothing vouches for", pre=orphan)

    def cycle(st):
        st["projects"]["delegations"] = {
            "keys": {TARGETS.keyid: TARGETS.key},
            "roles": [{"name": "projects", "keyids": [TARGETS.keyid], "threshold": 1,
                       "terminating": True, "paths": ["projects/*"]}]}
    d("delegation-cycle", [], "a role delegating to itself must not loop forever",
      exit=0, pre=cycle, not_stderr=["error:"])

    def snap_v2(sn):
        sn["meta"]["projects.json"]["version"] = 2
    d("delegated-role-rollback",
      ["projects.json: role projects: snapshot-version: snapshot names projects version 2"],
      "an old version of a delegated role", snap=snap_v2)

    def unresolved(st):
        st["targets"]["delegations"]["roles"][0]["keyids"].append("e" * 64)
    d("delegation-unresolved-keyid", ["unresolved-keyid"], "a keyid with no key", exit=0,
      pre=unresolved)

    def no_terminating(st):
        del st["targets"]["delegations"]["roles"][0]["terminating"]
    d("delegation-missing-terminating", ["missing-terminating"],
      "python-tuf refuses it; conclave warns", exit=0, pre=no_terminating)

    def url_unsafe(st):
        st["targets"]["delegations"]["roles"][0]["name"] = "projects%2F.."
    d("role-name-percent-encoded-traversal", ["role-name-not-url-safe"],
      "percent-encoding that a web server could decode into a path", exit=1,
      pre=url_unsafe)


# --- key files ------------------------------------------------------------------------------

PASS = "correct horse battery staple attack"
KDF64 = {"name": "argon2id", "profile": "rfc9106-64mib", "t_cost": 3, "m_cost_kib": 65536,
         "p_cost": 4}


def rotl(v: int, c: int) -> int:
    return ((v << c) & 0xFFFFFFFF) | (v >> (32 - c))


def hchacha20(key: bytes, nonce16: bytes) -> bytes:
    """HChaCha20 (draft-irtf-cfrg-xchacha): 20 ChaCha rounds, no final addition; words
    0-3 and 12-15 of the state are the subkey."""
    s = list(struct.unpack("<4I", b"expand 32-byte k")) + list(struct.unpack("<8I", key)) \
        + list(struct.unpack("<4I", nonce16))

    def qr(a, b, c, d):
        s[a] = (s[a] + s[b]) & 0xFFFFFFFF; s[d] = rotl(s[d] ^ s[a], 16)  # noqa: E702
        s[c] = (s[c] + s[d]) & 0xFFFFFFFF; s[b] = rotl(s[b] ^ s[c], 12)  # noqa: E702
        s[a] = (s[a] + s[b]) & 0xFFFFFFFF; s[d] = rotl(s[d] ^ s[a], 8)  # noqa: E702
        s[c] = (s[c] + s[d]) & 0xFFFFFFFF; s[b] = rotl(s[b] ^ s[c], 7)  # noqa: E702

    for _ in range(10):
        qr(0, 4, 8, 12); qr(1, 5, 9, 13); qr(2, 6, 10, 14); qr(3, 7, 11, 15)  # noqa: E702
        qr(0, 5, 10, 15); qr(1, 6, 11, 12); qr(2, 7, 8, 13); qr(3, 4, 9, 14)  # noqa: E702
    return struct.pack("<8I", *(s[0:4] + s[12:16]))


def xchacha_encrypt(key: bytes, nonce: bytes, msg: bytes, aad: bytes) -> bytes:
    sub = hchacha20(key, nonce[:16])
    return ChaCha20Poly1305(sub).encrypt(b"\0\0\0\0" + nonce[16:], msg, aad)


# A known answer from draft-irtf-cfrg-xchacha-03 section 2.2.1, so the home-made HChaCha20
# cannot silently drift.
assert hchacha20(bytes(range(32)), bytes.fromhex("000000090000004a0000000031415927")).hex() == \
    "82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc"

_argon_cache: dict = {}


def keyfile(secret: bytes, public: dict, passphrase: str = PASS, salt: bytes | None = None,
            nonce: bytes | None = None, kdf: dict = KDF64) -> dict:
    salt = salt or hashlib.sha256(b"salt" + secret).digest()
    nonce = nonce or hashlib.sha256(b"nonce" + secret).digest()[:24]
    header = {"format": "conclave-key-file", "format_version": 1, "kdf": kdf,
              "salt": salt.hex(), "cipher": "xchacha20poly1305", "nonce": nonce.hex(),
              "public_key": public}
    ck = (passphrase, salt)
    if ck not in _argon_cache:
        _argon_cache[ck] = hash_secret_raw(passphrase.encode(), salt, time_cost=3,
                                           memory_cost=65536, parallelism=4, hash_len=32,
                                           type=Type.ID, version=19)
    ct = xchacha_encrypt(_argon_cache[ck], nonce, secret, canonical(header))
    return dict(header, ciphertext=ct.hex())


SIGNER = K("keyfile-officer")
OTHER = K("keyfile-other")


def keyfile_cases() -> None:
    base = keyfile(SIGNER.seed, SIGNER.key)
    other = keyfile(OTHER.seed, OTHER.key)
    draft = root_signed(1, root_keys=(SIGNER,))
    draft_b = dump({"signed": draft, "signatures": []})
    sign_cmd = ["sign", "root.json", "--key", "key.json", "--passphrase-fd", "0", "-o", "sig.json"]

    def kf(name, key_bytes, stderr, why, via="sign", stdin=PASS + "\n", exit=1,
           draft_bytes=draft_b):
        files = {"key.json": key_bytes}
        if via == "sign":
            files["root.json"] = draft_bytes
            case("keyfile", name, files, sign_cmd, exit, stderr, why, stdin=stdin)
        else:
            case("keyfile", name, files, ["key", "public", "key.json"], exit, stderr, why)

    def mutated(change) -> bytes:
        k = copy.deepcopy(base)
        change(k)
        return dump(k)

    # Controls: the key file made here decrypts and signs in conclave.
    case("control", "valid-key-file-signs",
         {"key.json": dump(base), "root.json": draft_b},
         ["sign", "root.json", "--key", "key.json", "--passphrase-fd", "0", "-o",
          "{tmp}/sig.json"], 0, ["Wrote the signature by " + SIGNER.keyid],
         "the base key file (sealed by this generator) decrypts and signs", stdin=PASS + "\n")
    case("control", "valid-key-file-public", {"key.json": dump(base)},
         ["key", "public", "key.json"], 0, [],
         "the base key file's header parses")

    nk = "key.json: not a conclave key file"
    kf("truncated-key-file", dump(base)[:200], [nk, "unexpected end of input"],
       "a half-copied key file", via="public")
    kf("truncated-key-file-sign", dump(base)[:200], [nk], "a half-copied key file at signing")
    kf("empty-key-file", b"", [nk], "an empty key file", via="public")
    kf("key-file-with-bom", b"\xef\xbb\xbf" + dump(base), [nk, "byte order mark"],
       "a BOM added by an editor", via="public")
    kf("key-file-duplicate-nonce-field",
       replace_once(dump(base), '"nonce": ', '"nonce": "' + "00" * 24 + '",\n  "nonce": '),
       [nk, 'duplicate object key "nonce"'], "which nonce is used must never be ambiguous",
       via="public")
    kf("key-file-oversized", dump(base) + b" " * (65 * 1024),
       [nk, "larger than 65536 bytes"], "a huge file must not be read into the parser",
       via="public")
    kf("key-file-is-array", b"[]", [nk, "not a JSON object"], "not an object", via="public")
    kf("wrong-format-magic", mutated(lambda k: k.__setitem__("format", "age-encryption.org/v1")),
       [nk, '"format" is not conclave-key-file'], "another tool's file", via="public")
    kf("format-version-2", mutated(lambda k: k.__setitem__("format_version", 2)),
       ["key.json: key file format version 2 is not supported"],
       "a future format this conclave cannot read safely", via="public")
    kf("format-version-string", mutated(lambda k: k.__setitem__("format_version", "1")),
       [nk, '"format_version" must be an integer'], "a string version", via="public")
    allow = "are not one of conclave's allowed profiles"
    kf("oversized-kdf-memory", mutated(lambda k: k["kdf"].__setitem__("m_cost_kib", 2**32)),
       ["key.json: the key derivation parameters (t=3, m=4294967296 KiB, p=4) " + allow],
       "4 TiB of Argon2 memory: a denial of service before any passphrase", via="public")
    kf("oversized-kdf-time", mutated(lambda k: k["kdf"].__setitem__("t_cost", 10**9)),
       ["key.json: the key derivation parameters (t=1000000000", allow],
       "a billion passes", via="public")
    kf("oversized-kdf-lanes", mutated(lambda k: k["kdf"].__setitem__("p_cost", 2**24)),
       ["key.json: the key derivation parameters", allow], "16 million lanes", via="public")
    kf("weakened-kdf-memory-sealed-consistently",
       dump(keyfile(SIGNER.seed, SIGNER.key, kdf=dict(KDF64, m_cost_kib=8))),
       ["key.json: the key derivation parameters (t=3, m=8 KiB, p=4) " + allow],
       "an attacker re-seals the key under 8 KiB Argon2 to brute-force it later",
       via="public")
    kf("kdf-negative-memory", mutated(lambda k: k["kdf"].__setitem__("m_cost_kib", -1)),
       ["key.json: the key derivation parameters", allow], "a negative parameter",
       via="public")
    kf("kdf-profile-name-mismatch",
       mutated(lambda k: k["kdf"].__setitem__("profile", "rfc9106-2gib")),
       ["key.json: the key derivation parameters (t=3, m=65536 KiB, p=4) " + allow],
       "a profile name that disagrees with the numbers", via="public")
    kf("kdf-argon2i", mutated(lambda k: k["kdf"].__setitem__("name", "argon2i")),
       [nk, "the KDF is not argon2id"], "a weaker Argon2 variant", via="public")
    kf("kdf-missing", mutated(lambda k: k.pop("kdf")), [nk, 'missing "kdf"'],
       "no KDF parameters", via="public")
    kf("cipher-downgrade", mutated(lambda k: k.__setitem__("cipher", "none")),
       [nk, "the cipher is not xchacha20poly1305"], "a cipher downgrade", via="public")
    kf("nonce-12-bytes", mutated(lambda k: k.__setitem__("nonce", k["nonce"][:24])),
       [nk, '"nonce" must be 24 bytes, found 12'], "a ChaCha20 nonce in an XChaCha20 file",
       via="public")
    kf("salt-empty", mutated(lambda k: k.__setitem__("salt", "")),
       [nk, '"salt" must be 32 bytes, found 0'], "no salt: precomputation", via="public")
    kf("salt-not-hex", mutated(lambda k: k.__setitem__("salt", "zz" * 32)),
       [nk, '"salt" is not hex'], "not hex", via="public")
    kf("ciphertext-truncated", mutated(lambda k: k.__setitem__("ciphertext", k["ciphertext"][:-2])),
       [nk, '"ciphertext" must be 48 bytes, found 47'], "a tag cut short", via="public")
    kf("ciphertext-tag-stripped",
       mutated(lambda k: k.__setitem__("ciphertext", k["ciphertext"][:64])),
       [nk, '"ciphertext" must be 48 bytes, found 32'], "an unauthenticated ciphertext",
       via="public")
    kf("unexpected-field", mutated(lambda k: k.__setitem__("comment", "hi")),
       [nk, 'unexpected field "comment"'], "fields outside the authenticated header",
       via="public")
    kf("unexpected-field-escape-sequence",
       mutated(lambda k: k.__setitem__("\u001b[2J", "x")),
       [nk, 'unexpected field "\\u{1b}[2J"'], "terminal escapes in an error message",
       via="public")
    kf("public-key-unsupported-type",
       mutated(lambda k: k["public_key"].__setitem__("keytype", "rsa")),
       [nk, "the public key's type is not supported"], "a key conclave cannot use",
       via="public")
    kf("header-not-canonical-extra-kdf-field",
       mutated(lambda k: k["kdf"].__setitem__("secret_param", 1)),
       [nk, "the header is not in canonical form"],
       "fields the AEAD would bind but conclave would ignore", via="public")
    kf("header-uppercase-hex-salt", mutated(lambda k: k.__setitem__("salt", k["salt"].upper())),
       [nk, "the header is not in canonical form"],
       "the same salt spelt differently changes the associated data", via="public")

    dec = "key.json: wrong passphrase, or the key file is damaged"
    kf("wrong-passphrase", dump(base), [dec], "a wrong passphrase", stdin="not the passphrase\n")
    kf("empty-passphrase-cancels", dump(base), ["cancelled"], "an empty answer is a cancel",
       stdin="\n", exit=4)
    kf("no-passphrase-line", dump(base), ["no line left"],
       "end of input is not an empty passphrase", stdin="", exit=2)
    kf("swapped-nonce", mutated(lambda k: k.__setitem__("nonce", other["nonce"])), [dec],
       "the nonce is authenticated: another file's nonce must not decrypt")
    kf("swapped-salt", mutated(lambda k: k.__setitem__("salt", other["salt"])), [dec],
       "another file's salt")
    kf("swapped-ciphertext", mutated(lambda k: k.__setitem__("ciphertext", other["ciphertext"])),
       [dec], "another file's encrypted key under this header")
    kf("ciphertext-bit-flip",
       mutated(lambda k: k.__setitem__("ciphertext", ("1" if k["ciphertext"][0] == "0" else "0")
                                       + k["ciphertext"][1:])),
       [dec], "a flipped bit in the encrypted key")
    kf("tag-bit-flip",
       mutated(lambda k: k.__setitem__("ciphertext", k["ciphertext"][:-1]
                                       + ("1" if k["ciphertext"][-1] == "0" else "0"))),
       [dec], "a flipped bit in the Poly1305 tag")
    # The attacker swaps in their own public key; the draft lists it, so conclave gets as far
    # as decrypting: the header (with the public key) is associated data.
    draft_eve = dump({"signed": root_signed(1, root_keys=(EVE,)), "signatures": []})
    kf("swapped-public-key", mutated(lambda k: k.__setitem__("public_key", EVE.key)), [dec],
       "pairing the victim's private key with the attacker's public key",
       draft_bytes=draft_eve)
    kf("swapped-public-key-not-in-draft",
       mutated(lambda k: k.__setitem__("public_key", OTHER.key)),
       ["may not sign role root", "nothing was signed"],
       "a key file whose public key the draft does not list is refused before decrypting")
    # Sealed consistently (valid AEAD) but the private key is not the public key's.
    kf("private-key-does-not-match-public",
       dump(keyfile(OTHER.seed, SIGNER.key)),
       ["key.json: the decrypted private key does not belong to the public key in the file"],
       "a key file that would sign with a key other than the one it shows")
    kf("key-not-allowed-for-role", dump(other), ["may not sign role root"],
       "a valid key the draft does not list", via="sign")
    # A mixed-up output path must never destroy the only copy of a private key.
    case("keyfile", "sign-output-is-the-key-file", {"key.json": dump(base), "root.json": draft_b},
         ["sign", "root.json", "--key", "key.json", "--passphrase-fd", "0", "-o", "key.json"], 2,
         ["key.json: cannot write: it is a conclave key file, which conclave never overwrites"],
         "`-o` naming the key file would replace it with the signature", stdin=PASS + "\n")
    case("keyfile", "merge-output-is-a-damaged-key-file",
         {"key.json": replace_once(dump(base), '"ciphertext": "', '"ciphertext": "00'),
          "root.json": dump({"signed": draft, "signatures": []}),
          "sig.json": dump(detached("root", 1, draft, SIGNER))},
         ["merge", "root.json", "sig.json", "-o", "key.json"], 2,
         ["key.json: cannot write: it is a conclave key file"],
         "even a damaged key file may be the only copy worth recovering")


# --- signature files and merge ----------------------------------------------------------------


def detached(role: str, version: int, signed: dict, signer: K, payload: bytes | None = None,
             pub: dict | None = None, keyid: str | None = None) -> dict:
    payload_c = canonical(signed)
    return {"format": "conclave-signature", "format_version": 1, "role": role,
            "version": version, "payload_sha256": sha256(payload_c),
            "signature": {"keyid": keyid or signer.keyid,
                          "sig": signer.sig(payload if payload is not None else payload_c)},
            "public_key": pub or signer.key}


def sigfile_cases() -> None:
    draft = root_signed(1, root_keys=(ROOT1, ROOT2), threshold=1)
    draft_b = dump({"signed": draft, "signatures": []})
    merge_cmd = ["merge", "root.json", "sig.json", "-o", "merged.json"]
    good = detached("root", 1, draft, ROOT1)

    case("control", "valid-signature-merges", {"root.json": draft_b, "sig.json": dump(good)},
         ["merge", "root.json", "sig.json", "-o", "{tmp}/merged.json"], 0,
         ["merged      " + ROOT1.keyid], "the base signature file merges")

    def sf(name, sig_bytes, stderr, why, files=None, cmd=None, exit=1):
        fs = {"root.json": draft_b, "sig.json": sig_bytes}
        fs.update(files or {})
        case("signature-file", name, fs, cmd or merge_cmd, exit,
             stderr + ["nothing was merged or written"] if exit == 1 else stderr, why)

    def mut(change) -> bytes:
        d = copy.deepcopy(good)
        change(d)
        return dump(d)

    draft2 = dict(draft, expires="2099-01-01T00:00:00Z")
    sf("stale-signature-earlier-draft", dump(detached("root", 1, draft2, ROOT1)),
       ["sig.json: it signs other content (payload SHA-256"],
       "a signature made before the draft was edited")
    sf("signature-for-another-version", mut(lambda d: d.__setitem__("version", 2)),
       ["sig.json: it signs version 2 of root, but this is version 1"],
       "a signature for another version of the role")
    sf("signature-for-another-role", mut(lambda d: d.__setitem__("role", "targets")),
       ['sig.json: it signs role "targets", but this is role "root"'],
       "a signature for another role")
    sf("signature-role-with-escape-sequence",
       mut(lambda d: d.__setitem__("role", "root\u001b[1A")),
       ['sig.json: "role": role name must not contain control characters'],
       "terminal escapes in the role shown to the officer (refused as no role name at all)")
    sf("payload-digest-matches-but-signature-over-other-bytes",
       dump(detached("root", 1, draft, ROOT1, payload=canonical(draft2))),
       ["sig.json: the signature by key " + ROOT1.keyid + " is invalid"],
       "the digest field is only a label: the signature itself must verify")
    sf("signature-over-pretty-json",
       dump(detached("root", 1, draft, ROOT1, payload=dump(draft))),
       ["the signature by key " + ROOT1.keyid + " is invalid"],
       "signatures cover canonical JSON only")
    sf("signature-bit-flip",
       mut(lambda d: d["signature"].__setitem__(
           "sig", ("1" if d["signature"]["sig"][0] == "0" else "0") + d["signature"]["sig"][1:])),
       ["is invalid"], "a corrupted signature")
    sf("signature-empty", mut(lambda d: d["signature"].__setitem__("sig", "")),
       ["is invalid"], "an empty signature")
    sf("key-not-allowed", dump(detached("root", 1, draft, EVE)),
       ["sig.json: key " + EVE.keyid + " may not sign role \"root\""],
       "the attacker's own key")
    sf("keyid-collision-attacker-key-under-trusted-keyid",
       dump(detached("root", 1, draft, EVE, pub=EVE.key, keyid=ROOT1.keyid)),
       ["the public key in the signature file does not match key " + ROOT1.keyid],
       "claiming a trusted keyid for the attacker's key")
    sf("keyid-collision-with-trusted-public-key",
       dump(detached("root", 1, draft, EVE, pub=ROOT1.key, keyid=ROOT1.keyid)),
       ["the signature by key " + ROOT1.keyid + " is invalid"],
       "the right keyid and public key but the attacker's signature")
    sf("payload-digest-uppercase",
       mut(lambda d: d.__setitem__("payload_sha256", d["payload_sha256"].upper())),
       ['sig.json: "payload_sha256" must be 64 lowercase hex characters'],
       "one digest, two spellings")
    sf("payload-digest-short", mut(lambda d: d.__setitem__("payload_sha256", "ab" * 16)),
       ['"payload_sha256" must be 64 lowercase hex characters'], "a truncated digest")
    sf("format-version-2", mut(lambda d: d.__setitem__("format_version", 2)),
       ['sig.json: unsupported "format_version"'], "a future format")
    sf("wrong-format-magic", mut(lambda d: d.__setitem__("format", "conclave-key-file")),
       ["sig.json: not a conclave signature file"], "a key file handed over as a signature")
    sf("version-zero", mut(lambda d: d.__setitem__("version", 0)),
       ['sig.json: "version" must be a positive integer'], "version 0")
    sf("version-negative", mut(lambda d: d.__setitem__("version", -1)),
       ['"version" must be a positive integer'], "a negative version")
    sf("version-float", replace_once(dump(good), '"version": 1', '"version": 1.0'),
       ["sig.json: not valid JSON: floating-point numbers are not allowed"], "1.0 is not 1")
    sf("version-string", mut(lambda d: d.__setitem__("version", "1")),
       ['"version" must be a positive integer'], "a string version")
    sf("duplicate-keys-signature",
       replace_once(dump(good), '"signature": {',
                    '"signature": {"keyid": "x", "sig": "00"},\n  "signature": {'),
       ['sig.json: not valid JSON: duplicate object key "signature"'],
       "two signatures in one file: which one is reviewed?")
    sf("unexpected-field", mut(lambda d: d.__setitem__("extra_signatures", [])),
       ['sig.json: unexpected field "extra_signatures"'], "smuggled extra content")
    sf("missing-signature", mut(lambda d: d.pop("signature")),
       ['sig.json: missing "signature"'], "no signature")
    sf("missing-public-key", mut(lambda d: d.pop("public_key")),
       ['sig.json: missing "public_key"'], "no public key")
    sf("keyid-empty", mut(lambda d: d["signature"].__setitem__("keyid", "")),
       ["sig.json: keyid must not be empty"], "an empty keyid")
    sf("truncated-signature-file", dump(good)[:100],
       ["sig.json: not valid JSON: unexpected end of input"], "a half-copied file")
    sf("oversized-signature-file", dump(good) + b" " * (65 * 1024),
       ["sig.json: larger than 65536 bytes"], "a huge file handed over on a USB stick")
    sf("signature-file-with-bom", b"\xef\xbb\xbf" + dump(good),
       ["sig.json: not valid JSON: byte order mark"], "a BOM from an editor")

    # Two files, one of them bad: nothing at all is merged.
    sf("one-good-one-bad", dump(good),
       ["sig2.json: key " + EVE.keyid + " may not sign"],
       "a bad file among good ones stops the whole merge",
       files={"sig2.json": dump(detached("root", 1, draft, EVE))},
       cmd=["merge", "root.json", "sig.json", "sig2.json", "-o", "merged.json"])

    # Threshold 2: the same key twice, or one key under two keyids, is still one signer.
    draft_t2 = root_signed(1, root_keys=(ROOT1, ROOT2), threshold=2)
    t2 = dump({"signed": draft_t2, "signatures": []})
    g2 = detached("root", 1, draft_t2, ROOT1)
    case("merge", "duplicate-signature-files-same-key",
         {"root.json": t2, "sig.json": dump(g2), "sig-copy.json": dump(g2)},
         ["merge", "root.json", "sig.json", "sig-copy.json", "-o", "merged.json"], 1,
         ["already in", "1 of 2 needed have signed", "the threshold is not met yet"],
         "one officer's signature handed in twice is one signature")

    alias_root = root_signed(1, root_keys=(ROOT1, ROOT2), threshold=2)
    alias = "alias-of-root-1"
    alias_root["keys"][alias] = ROOT1.key
    del alias_root["keys"][ROOT2.keyid]
    alias_root["roles"]["root"]["keyids"] = [ROOT1.keyid, alias]
    ab = dump({"signed": alias_root, "signatures": []})
    case("merge", "keyid-alias-two-files-one-key",
         {"root.json": ab, "sig.json": dump(detached("root", 1, alias_root, ROOT1)),
          "sig-alias.json": dump(detached("root", 1, alias_root, ROOT1, keyid=alias))},
         ["merge", "root.json", "sig.json", "sig-alias.json", "-o", "merged.json",
          "--allow-foreign-keyids"], 1,
         ["NOT WHAT THEIR KEYIDS SAY", "1 of 2 needed have signed",
          "the threshold is not met yet"],
         "one key under two keyids must not meet a threshold of two, even when allowed")
    case("merge", "keyid-alias-refused-without-allow-foreign-keyids",
         {"root.json": ab, "sig.json": dump(detached("root", 1, alias_root, ROOT1)),
          "sig-alias.json": dump(detached("root", 1, alias_root, ROOT1, keyid=alias))},
         ["merge", "root.json", "sig.json", "sig-alias.json", "-o", "merged.json"], 1,
         ["hold the same public key, so a client would count it twice",
          "nothing was signed, merged or written"],
         "python-tuf counts the two keyids as two signers: the draft itself is refused")

    # Rotation: the previous root must be exactly one version older.
    prev = dump(sign(root_signed(1), [ROOT1]))
    r3 = root_signed(3)
    case("merge", "previous-root-not-consecutive",
         {"root.json": dump({"signed": r3, "signatures": []}), "prev.json": prev,
          "sig.json": dump(detached("root", 3, r3, ROOT1))},
         ["merge", "root.json", "sig.json", "--previous", "prev.json", "-o", "merged.json"], 2,
         ["the previous root is version 1, but this root is version 3"],
         "a rotation that skips a version")
    r2 = root_signed(2, root_keys=(ROOT2,))
    case("merge", "rotation-signed-by-new-key-only",
         {"root.json": dump({"signed": r2, "signatures": []}), "prev.json": prev,
          "sig.json": dump(detached("root", 2, r2, ROOT2))},
         ["merge", "root.json", "sig.json", "--previous", "prev.json", "-o", "merged.json"], 1,
         ["root v1 (previous root's keys): 0 of 1 needed", "the threshold is not met yet"],
         "the old root's keys must also sign a rotation")
    case("merge", "previous-is-not-a-root",
         {"root.json": dump({"signed": r2, "signatures": []}),
          "prev.json": dump(sign(targets_signed(), [TARGETS])),
          "sig.json": dump(detached("root", 2, r2, ROOT2))},
         ["merge", "root.json", "sig.json", "--previous", "prev.json", "-o", "merged.json"], 2,
         ["--previous must be a root, not targets metadata"], "targets posing as the old root")
    ts = {"_type": "timestamp", "spec_version": SPEC, "version": 1, "expires": FAR,
          "meta": {"snapshot.json": {"version": 1}}}
    case("merge", "delegator-is-not-root-or-targets",
         {"timestamp.json": dump({"signed": ts, "signatures": []}),
          "delegator.json": dump({"signed": ts, "signatures": []}),
          "sig.json": dump(detached("timestamp", 1, ts, TIMESTAMP))},
         ["merge", "timestamp.json", "sig.json", "--delegator", "delegator.json", "-o",
          "merged.json"], 2, ["--delegator must be a root or targets metadata, not timestamp"],
         "only root and targets delegate")
    case("merge", "no-delegator-for-timestamp",
         {"timestamp.json": dump({"signed": ts, "signatures": []}),
          "sig.json": dump(detached("timestamp", 1, ts, TIMESTAMP))},
         ["merge", "timestamp.json", "sig.json", "-o", "merged.json"], 2,
         ["cannot tell which keys may sign role timestamp"],
         "merging without knowing who may sign must not happen")
    tg = targets_signed()
    case("merge", "delegator-does-not-delegate-role",
         {"evil.json": dump({"signed": projects_signed(), "signatures": []}),
          "targets.json": dump(sign(tg, [TARGETS])),
          "sig.json": dump(detached("evil", 1, projects_signed(), DEV1))},
         ["merge", "evil.json", "sig.json", "--delegator", "targets.json", "-o", "merged.json"],
         2, ['the --delegator metadata does not delegate to role "evil"'],
         "a role the delegator never delegated")
    case("merge", "malformed-metadata-to-merge-into",
         {"root.json": replace_once(draft_b, '"version": 1', '"version": 1.5'),
          "sig.json": dump(good)},
         merge_cmd, 1, ["root.json", "floating-point numbers are not allowed"],
         "a damaged draft")
    case("merge", "targets-signature-merged-into-root",
         {"root.json": draft_b,
          "sig.json": dump(detached("targets", 1, tg, TARGETS))},
         merge_cmd, 1, ['it signs role "targets", but this is role "root"',
                        "nothing was merged or written"],
         "a signature file for another role of the same round")
    merged_eve = dump({"signed": draft, "signatures": [
        {"keyid": EVE.keyid, "sig": EVE.sig(canonical(draft))}]})
    case("merge", "existing-unauthorised-signature-not-enough",
         {"root.json": merged_eve, "sig.json": dump(detached("root", 1, draft, EVE))},
         merge_cmd, 1, ["may not sign role"],
         "a signature already in the file by a key the role does not list")




# --- keys: a key is its material, not its keyid (issue 18, classes 1, 2 and 6) ------------------


def key_identity_cases() -> None:
    """Drafts and public key files whose keys are not what their keyids say.

    python-tuf trusts the key object under a keyid and counts distinct keyids towards a
    threshold, so each of these is accepted by pip's client: a key swapped under an officer's
    keyid signs as that officer, and one key under two keyids meets a threshold of 2 alone.
    conclave refuses to sign, merge or build them.
    """
    sign_cmd = ["sign", "root.json", "--key", "key.json", "--passphrase-fd", "0", "-o", "sig.json"]
    merge_cmd = ["merge", "root.json", "sig.json", "-o", "merged.json"]
    base_key = dump(keyfile(SIGNER.seed, SIGNER.key))

    def root_with(change) -> dict:
        r = root_signed(1, root_keys=(SIGNER,))
        change(r)
        return r

    # 1. Eve's public key under the officer's exact keyid.
    def swap(r):
        r["keys"][SIGNER.keyid] = copy.deepcopy(EVE.key)
    swapped = root_with(swap)
    why_swap = ("python-tuf trusts the key object under a keyid: Eve's key would sign as the "
                "officer, and a review comparing keyids shows nothing")
    case("keys", "sign-officer-keyid-holds-another-key",
         {"key.json": base_key, "root.json": dump({"signed": swapped, "signatures": []})},
         sign_cmd, 1, ["keyid " + SIGNER.keyid + " is not the keyid of the key under it",
                       "nothing was signed"], why_swap, stdin=PASS + "\n")
    case("keys", "merge-officer-keyid-holds-another-key",
         {"root.json": dump({"signed": swapped, "signatures": []}),
          "sig.json": dump(detached("root", 1, swapped, EVE, keyid=SIGNER.keyid))},
         merge_cmd, 1, ["is not the keyid of the key under it", "nothing was signed, merged"],
         why_swap)

    # 2. One key under two keyids: the officer's key with an extra member in keyval (which
    # clients ignore, but which changes the keyid).
    upper = copy.deepcopy(SIGNER.key)
    upper["keyval"]["note"] = "officer"
    upper_id = hashlib.sha256(canonical(upper)).hexdigest()

    def twice(r):
        r["keys"][upper_id] = upper
        r["roles"]["root"]["keyids"].append(upper_id)
        r["roles"]["root"]["threshold"] = 2
    doubled = root_with(twice)
    case("keys", "sign-one-key-under-two-keyids",
         {"key.json": base_key, "root.json": dump({"signed": doubled, "signatures": []})},
         sign_cmd, 1, ["hold the same public key", "nothing was signed"],
         "python-tuf counts both keyids: one key holder (or one thief) meets a threshold of 2",
         stdin=PASS + "\n")

    # 6. Private key material copied into a public key object.
    def private(r):
        r["keys"][TARGETS.keyid]["keyval"]["private"] = TARGETS.seed.hex()
    leaked = root_with(private)
    case("keys", "sign-draft-with-private-key-material",
         {"key.json": base_key, "root.json": dump({"signed": leaked, "signatures": []})},
         sign_cmd, 1, ["looks like private key material", "nothing was signed"],
         "a private key in a root is published to every client: whoever reads it owns the role",
         stdin=PASS + "\n")

    # Builders: root init refuses the same key twice and private material in a public key file.
    pub = dump(SIGNER.key)
    init = ["root", "init", "--key", "root=a.pub", "--key", "root=b.pub", "--threshold",
            "root=2", "--key", "targets=t.pub", "--key", "snapshot=t.pub", "--key",
            "timestamp=t.pub", "--expires", "2099-01-01", "-o", "root.json"]
    case("keys", "root-init-one-key-two-spellings",
         {"a.pub": pub, "b.pub": dump(upper), "t.pub": dump(TARGETS.key)}, init, 2,
         ["are the same public key spelled two ways"],
         "a 2-of-2 root that one key holder meets alone in python-tuf")
    leaky = copy.deepcopy(TARGETS.key)
    leaky["keyval"]["private"] = TARGETS.seed.hex()
    case("keys", "root-init-public-key-file-with-private-field",
         {"a.pub": pub, "b.pub": dump(ROOT2.key), "t.pub": dump(leaky)}, init, 2,
         ["t.pub: holds what looks like private key material (keyval.private)"],
         "the private key would be copied into the root every client downloads")

    # 4. A forged, unsigned previous root hides what a rotation changes.
    v2 = root_signed(2, root_keys=(SIGNER, EVE), threshold=1)
    forged_v1 = root_signed(1, root_keys=(SIGNER, EVE), threshold=1)
    case("keys", "sign-previous-root-unsigned",
         {"key.json": base_key, "root.json": dump({"signed": v2, "signatures": []}),
          "prev.json": dump({"signed": forged_v1, "signatures": []})},
         sign_cmd + ["--previous", "prev.json"], 1,
         ["is not signed by its own root keys", "nothing was signed"],
         "a review against a forged previous root shows no change where Eve was added",
         stdin=PASS + "\n")
# --- passphrase: weak passphrases for derived keys (issue 18, class 9) ---------------------


def passphrase_cases() -> None:
    derive = ["key", "derive", "--identity", "pypi.org/root/alice", "--passphrase-fd", "0"]
    weak = "error: this passphrase is too weak for a derived key: "
    for name, pw, why_found in [
        ("word-repeated-eight-times", "horse " * 7 + "horse",
         "it uses the same word twice (words 1 and 2)"),
        ("list-word-repeated-eight-times", " ".join(["abacus"] * 8),
         "it uses the same word twice (words 1 and 2)"),
        ("word-repeated-with-digits-case-and-l33t",
         "Staple1 staple2 st@ple3 STAPLE4 staple5 staple6 staple7 staple8",
         "it uses the same word twice (words 1 and 2)"),
        ("one-character-repeated", "x" * 64, "it is the same character repeated"),
        ("group-repeated", "hunter2" * 6, "it is the same group of characters repeated"),
        ("run-inside-random-characters", "Xk9#mP2$vL5@nQ8&wR3!a7%bT4^Zq0000jH6*",
         "it has the same character 4 times in a row"),
        ("keyboard-walk", "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/", "a keyboard pattern"),
        ("dates", "19850719 1990-03-14 2001/12/25 07.04.1776", "a date"),
        ("l33t-common-words", "P@ssw0rd M0nk3y Dr@g0n L3tm31n Sh@d0w F00tb@ll B@s3b@ll",
         "common words or passwords"),
        ("top-ten-password", "123456", "zxcvbn: This is a top-10 common password"),
        ("hand-picked-list-words", "happy sunny garden flower yellow orange purple",
         "at least 90 are needed"),
        ("six-list-words", "abacus zoom ladder opal shrubbery veal",
         "6 random words from the list are about 78 bits; at least 90 are needed"),
        ("twenty-random-characters", "Xk9#mP2$vL5@nQ8&wR3!", "at least 90 are needed"),
    ]:
        case("passphrase", name, {}, derive, 2,
             [weak, why_found, "`conclave passphrase generate`", "nothing was derived"],
             "a derived key's public key is published: anyone can guess its passphrase "
             "offline, forever",
             stdin=f"{pw}\n{pw}\n", not_stderr=[pw, "Stretching"])
    case("control", "strong-key-file-passphrase-is-quiet", {},
         ["key", "generate", "-o", "{tmp}/k.key", "--profile", "rfc9106-64mib",
          "--passphrase-fd", "0"], 0, ["Created "],
         "eight distinct list words, as `passphrase generate` makes them, draw no warning",
         stdin="abacus zoom ladder wildfire shrubbery veal quarry opal\n" * 2,
         not_stderr=["warning:"])
    case("passphrase", "key-file-passphrase-repeated-word-warns", {},
         ["key", "generate", "-o", "{tmp}/k.key", "--profile", "rfc9106-64mib",
          "--passphrase-fd", "0"], 0,
         ["warning: this passphrase looks weak: it uses the same word twice (words 1 and 2)"],
         "a key file's thief guesses offline too (a warning: the file must be stolen first)",
         stdin="horse horse horse horse\n" * 2, not_stderr=["horse"])


# --- overwrite: never destroy (issue 18, class 10) -----------------------------------------


def qr_text(record: bytes) -> str:
    """A CONCLAVE1: text as `qr read` takes it: the record, 4 bytes of SHA-256, base32."""
    sealed = record + hashlib.sha256(record).digest()[:4]
    return "CONCLAVE1:" + base64.b32encode(sealed).decode().rstrip("=")


def qr_signature_record(role: bytes, signer: K) -> bytes:
    pub = bytes.fromhex(signer.key["keyval"]["public"])
    return (bytes([1, len(role)]) + role + bytes([1]) + bytes([0x11]) * 32 + bytes([0]) + pub
            + bytes(64))


def overwrite_cases() -> None:
    base = keyfile(SIGNER.seed, SIGNER.key)
    key_b = dump(base)
    draft = root_signed(1, root_keys=(SIGNER, ROOT2), threshold=2)
    draft_b = dump({"signed": draft, "signatures": []})
    sig1 = dump(detached("root", 1, draft, SIGNER))
    sig2 = dump(detached("root", 1, draft, ROOT2))
    full = dump(sign(draft, [SIGNER, ROOT2]))
    sign_to = ["sign", "root.json", "--key", "key.json", "--passphrase-fd", "0", "-o"]
    never_key = "victim.key: cannot write: it is a conclave key file, which conclave never overwrites"
    damaged = {
        "with-bom": b"\xef\xbb\xbf" + key_b,
        "with-a-note-appended": key_b + b"\nalice's root key, backup of 2026-01-05\n",
        "truncated": key_b[: len(key_b) // 2],
        "with-its-format-changed": replace_once(key_b, "conclave-key-file", "conclave-key-fil"),
    }
    for how, victim in damaged.items():
        case("overwrite", f"sign-output-is-a-key-file-{how}",
             {"key.json": key_b, "root.json": draft_b, "victim.key": victim},
             sign_to + ["victim.key"], 2, [never_key, "nothing was written"],
             "a mistyped -o would replace the only copy of a private key with a signature",
             stdin=PASS + "\n", not_stderr=["Unlocking"])
        case("overwrite", f"merge-output-is-a-key-file-{how}",
             {"root.json": draft_b, "s1.sig": sig1, "s2.sig": sig2, "victim.key": victim},
             ["merge", "root.json", "s1.sig", "s2.sig", "-o", "victim.key"], 2,
             [never_key, "nothing was written"],
             "a mistyped -o would replace the only copy of a private key with metadata")
    case("overwrite", "sign-output-is-an-existing-signature-file",
         {"key.json": key_b, "root.json": draft_b, "s2.sig": sig2}, sign_to + ["s2.sig"], 2,
         ["s2.sig: cannot write: a conclave signature file is already there"],
         "another officer's signature would be lost", stdin=PASS + "\n")
    case("overwrite", "sign-output-is-a-damaged-signature-file",
         {"key.json": key_b, "root.json": draft_b, "s2.sig": b"\xef\xbb\xbf" + sig2[:90]},
         sign_to + ["s2.sig"], 2,
         ["s2.sig: cannot write: a conclave signature file is already there"],
         "a damaged signature may still be the one to recover", stdin=PASS + "\n")
    case("overwrite", "sign-output-is-another-file",
         {"key.json": key_b, "root.json": draft_b, "notes.txt": b"the ceremony's notes\n"},
         sign_to + ["notes.txt"], 2,
         ["notes.txt: cannot write: it already exists, and a signature goes into a new file"],
         "a signature goes into a new file, never over anything", stdin=PASS + "\n")
    case("overwrite", "merge-output-is-a-signature-file",
         {"root.json": draft_b, "s1.sig": sig1, "s2.sig": sig2},
         ["merge", "root.json", "s1.sig", "s2.sig", "-o", "s2.sig"], 2,
         ["s2.sig: cannot write: a conclave signature file is already there"],
         "merged metadata written over the signature file it was merged from")
    case("overwrite", "merge-allow-partial-over-a-fully-signed-file",
         {"root.json": draft_b, "s1.sig": sig1, "1.root.json": full},
         ["merge", "root.json", "s1.sig", "--allow-partial", "-o", "1.root.json"], 2,
         ["1.root.json: cannot write: it holds valid signatures by " + ROOT2.keyid,
          "(it meets every threshold; the merged file would not)"],
         "a half-signed draft written over the fully signed root in the repository")
    partial = dump(sign(draft, [ROOT2]))
    case("overwrite", "merge-drops-a-signature-the-file-had",
         {"root.json": draft_b, "s1.sig": sig1, "partial.json": partial},
         ["merge", "root.json", "s1.sig", "--allow-partial", "-o", "partial.json"], 2,
         ["partial.json: cannot write: it holds valid signatures by " + ROOT2.keyid],
         "progress saved between sessions lost by merging the draft instead of the saved file",
         not_stderr=["meets every threshold"])
    other = dict(draft, expires="2099-01-01T00:00:00Z")
    case("overwrite", "merge-other-draft-over-a-signed-file",
         {"root.json": draft_b, "s1.sig": sig1, "s2.sig": sig2,
          "1.root.json": dump(sign(other, [SIGNER, ROOT2]))},
         ["merge", "root.json", "s1.sig", "s2.sig", "-o", "1.root.json"], 2,
         ["1.root.json: cannot write: it holds other signed content (payload SHA-256 "
          + sha256(canonical(other)) + ", version 1)"],
         "another draft written over a signed file of the same name")
    case("overwrite", "merge-over-another-role",
         {"root.json": draft_b, "s1.sig": sig1, "s2.sig": sig2,
          "targets.json": dump(sign(targets_signed(), [TARGETS]))},
         ["merge", "root.json", "s1.sig", "s2.sig", "-o", "targets.json"], 2,
         ["targets.json would hold role targets, but this is root version 1",
          "nothing was merged or written"],
         "a root written over the targets metadata")
    case("overwrite", "merge-over-a-file-that-is-not-metadata",
         {"root.json": draft_b, "s1.sig": sig1, "s2.sig": sig2, "notes.txt": b"notes\n"},
         ["merge", "root.json", "s1.sig", "s2.sig", "-o", "notes.txt"], 2,
         ["notes.txt: cannot write: it holds something that is not metadata"],
         "metadata written over whatever file -o happened to name")

    # qr read: the role and every field are checked before a signature file is written.
    for name, role, why in [
        ("empty", b"", "role name must not be empty"),
        ("escape-sequence", b"root\x1b[2J", "role name must not contain control characters"),
        ("newline", b"claimed\nroot", "role name must not contain control characters"),
        ("del", b"root\x7f", "role name must not contain control characters"),
        ("c1-control", "root\u009b".encode(), "role name must not contain control characters"),
        ("path-traversal", b"../../etc/cron.d/x",
         "role name must not contain path separators or be . or .."),
        ("dotdot", b"..", "role name must not contain path separators or be . or .."),
    ]:
        case("overwrite", f"qr-read-signature-role-{name}", {},
             ["qr", "read", "-o", "out.sig"], 1,
             [f"the scanned text: the role name: {why}; nothing was written"],
             "a signature file for a role no repository can hold, its name shown raw",
             stdin=qr_text(qr_signature_record(role, SIGNER)) + "\n")
    case("overwrite", "qr-read-request-role-escape-sequence", {}, ["qr", "read"], 1,
         ["the role name: role name must not contain control characters"],
         "a request digest whose role rewrites the officer's terminal",
         stdin=qr_text(bytes([2, 6]) + b"ro\x1b[2J" + bytes([1]) + bytes([0x11]) * 32) + "\n")
    bad_s = qr_signature_record(b"root", SIGNER)[:-64] + bytes([0xff]) * 64
    case("overwrite", "qr-read-signature-not-canonical", {}, ["qr", "read", "-o", "out.sig"], 1,
         ["the signature is malformed for its key type; nothing was written"],
         "a signature no verifier accepts, written as if it were one",
         stdin=qr_text(bad_s) + "\n")
    case("control", "qr-read-valid-signature", {}, ["qr", "read", "-o", "{tmp}/out.sig"], 0,
         ["Wrote the signature by " + SIGNER.keyid],
         "the record the qr-read cases start from is read and written",
         stdin=qr_text(qr_signature_record(b"claimed", SIGNER)) + "\n")

    # A reader that goes away (`| head`): quiet, exit 141, never a panic.
    for name, files, command in [
        ("inspect", {"1.root.json": full}, ["inspect", "1.root.json"]),
        ("status", {"1.root.json": full}, ["status", "1.root.json"]),
        ("qr-show", {"s1.sig": sig1}, ["qr", "show", "s1.sig"]),
        ("help", {}, ["--help"]),
    ]:
        case("overwrite", f"stdout-closed-{name}", files, command, 141, [],
             "a closed pipe made conclave panic (exit 101) with a backtrace",
             not_stderr=["panicked", "error:"], stdout_closed=True)
# --- expiry (issue 18, class 11): builders and sign against the clock ---------------------
#
# A builder must never date a draft in the past (every client refuses it, so the ceremony's
# signatures are wasted) nor absurdly far ahead (the expiry bounds freeze attacks and how long
# a later-stolen key's signatures keep working); `sign` must say how the draft stands against
# its expiry and refuse an expired one. `python_tuf` records what pip's client does with such
# metadata.


def with_python_tuf(verdict: str) -> None:
    """Record python-tuf's verdict on the case just added."""
    CASES[-1][3]["python_tuf"] = verdict


NINE_CENTURIES = "2926-01-01"
TUF_EXPIRED = ("refuses it: ExpiredMetadataError once now >= expires (trusted_metadata_set), "
               "so the signatures gathered for it are wasted")
TUF_FAR = ("accepts it: python-tuf sets no upper bound on expires, so a freeze attack or a "
           "later-stolen key's signatures on this version work for centuries")


def expiry_cases() -> None:
    pubs = {f"{k.name}.pub": dump(k.key) for k in (ROOT1, TARGETS, SNAPSHOT, TIMESTAMP, DEV2)}
    init = ["root", "init", "--key", "root=root-1.pub", "--key", "targets=targets.pub",
            "--key", "snapshot=snapshot.pub", "--key", "timestamp=timestamp.pub"]
    case("expiry", "root-init-expiry-in-the-past", pubs,
         init + ["--expires", "2001-01-01", "-o", "1.root.json"], 2,
         ["role root: expiry 2001-01-01T00:00:00Z is not in the future",
          "nothing was written", "hint: give --expires with a time ahead"],
         "a root every client refuses on arrival: the root key holders sign for nothing")
    with_python_tuf(TUF_EXPIRED)
    case("expiry", "root-init-expiry-nine-centuries-ahead", pubs,
         init + ["--expires", NINE_CENTURIES, "-o", "1.root.json"], 2,
         ["role root: expiry 2926-01-01T00:00:00Z is", "more than the 36500 days",
          "--allow-long-expiry"],
         "a root that never expires: a freeze is unbounded, a stolen root key never ages out")
    with_python_tuf(TUF_FAR)

    old_root = dump(sign(root_signed(1, expires=PAST), [ROOT1]))
    case("expiry", "root-rotate-keeps-an-expired-expiry",
         dict(pubs, **{"1.root.json": old_root}),
         ["root", "rotate", "1.root.json", "--add-key", "targets=developer-2.pub", "-o",
          "2.root.json"], 2,
         ["role root: expiry 2001-01-01T00:00:00Z is not in the future",
          "without --expires, a new version keeps the previous version's expiry"],
         "a rotation drafted without --expires inherits an expiry already past")
    with_python_tuf(TUF_EXPIRED)

    tg = dump(sign(targets_signed(), [TARGETS]))
    case("expiry", "delegation-rotate-expiry-in-the-past",
         dict(pubs, **{"targets.json": tg}),
         ["delegation", "rotate", "targets.json", "--role", "projects", "--add-key",
          "developer-2.pub", "--expires", "2001-01-01", "-o", "2.targets.json"], 2,
         ["role targets: expiry 2001-01-01T00:00:00Z is not in the future",
          "nothing was written"],
         "a delegation change nobody can publish")
    with_python_tuf(TUF_EXPIRED)
    case("expiry", "delegation-rotate-nine-centuries-ahead",
         dict(pubs, **{"targets.json": tg}),
         ["delegation", "rotate", "targets.json", "--role", "projects", "--add-key",
          "developer-2.pub", "--expires", NINE_CENTURIES, "-o", "2.targets.json"], 2,
         ["role targets: expiry 2926-01-01T00:00:00Z", "more than the 36500 days"],
         "targets that never expire: its delegations can never be aged out")
    with_python_tuf(TUF_FAR)

    request = json.dumps({"project": "demo", "keys": [DEV2.key], "threshold": 1}) + "\n"
    case("expiry", "pypi-claim-expiry-in-the-past", {"requests.jsonl": request.encode()},
         ["pypi", "claim", "--requests", "requests.jsonl", "--expires", "2001-01-01", "-o",
          "1.claimed.json"], 2,
         ["role claimed: expiry 2001-01-01T00:00:00Z is not in the future",
          "nothing was written"],
         "a claimed role the admins sign and no client accepts")
    with_python_tuf(TUF_EXPIRED)

    layout = {f"{k.name}.pub": dump(k.key) for k in (DEV1, DEV2, EVE)}
    pypi_init = ["pypi", "init", "--key", "claimed=developer-1.pub", "--key",
                 "recently-claimed=developer-2.pub", "--key", "unclaimed=eve.pub", "--bins", "16",
                 "-o", "targets.json"]
    case("expiry", "pypi-init-expiry-in-the-past", layout,
         pypi_init + ["--expires", "2001-01-01"], 2,
         ["role targets: expiry 2001-01-01T00:00:00Z is not in the future",
          "nothing was written"],
         "a layout whose every file is refused on arrival")
    with_python_tuf(TUF_EXPIRED)
    case("expiry", "pypi-init-nine-centuries-ahead", layout,
         pypi_init + ["--expires", NINE_CENTURIES], 2,
         ["role targets: expiry 2926-01-01T00:00:00Z", "more than the 36500 days"],
         "a layout that never expires")
    with_python_tuf(TUF_FAR)

    repo = dict(in_repo(make_repo()), **{"developer-2.pub": dump(DEV2.key)})
    case("expiry", "revoke-expiry-in-the-past", repo,
         ["revoke", DEV1.keyid, "--repo", "repo", "--add-key", "projects=developer-2.pub",
          "--expires", "2001-01-01", "--out", "revoked"], 2,
         ["expiry 2001-01-01T00:00:00Z is not in the future", "nothing was written"],
         "a revocation whose drafts clients refuse leaves the revoked key trusted")
    with_python_tuf(TUF_EXPIRED)

    # sign: the review says EXPIRED, and nothing is signed (the key is never unlocked: no key
    # file is needed to see the refusal).
    expired = dump({"signed": root_signed(1, expires=PAST), "signatures": []})
    case("expiry", "sign-an-expired-draft", {"root.json": expired},
         ["sign", "root.json", "--key", "absent.key", "-o", "sig.json"], 1,
         ["expiry:   EXPIRED", "root.json (role root) EXPIRED at 2001-01-01T00:00:00Z",
          "nothing was signed", "--allow-expired"],
         "an officer signing what clients refuse, unwarned", not_stderr=["absent.key"])
    with_python_tuf(TUF_EXPIRED)
    bins = {"drafts/2.projects.json": dump({"signed": dict(projects_signed(2), expires=PAST),
                                            "signatures": []}),
            "targets.json": tg}
    case("expiry", "sign-a-round-holding-an-expired-draft", bins,
         ["sign", "drafts", "--delegator", "targets.json", "--key", "absent.key", "-o",
          "sigs"], 1,
         ["role projects, version 2, expires EXPIRED", "EXPIRED at 2001-01-01T00:00:00Z",
          "nothing was signed"],
         "one expired draft among a round's thousands, signed unwarned")
    with_python_tuf(TUF_EXPIRED)
    far = dump({"signed": root_signed(1, expires="2926-01-01T00:00:00Z"), "signatures": []})
    case("expiry", "sign-review-warns-nine-centuries-ahead", {"root.json": far},
         ["sign", "root.json", "--key", "absent.key", "-o", "sig.json"], 2,
         ["WARNING: role root: expires 2926-01-01T00:00:00Z", "beyond the 366 days of PEP 458"],
         "a far-future expiry drafted by hand must be read out before anyone signs")
    with_python_tuf(TUF_FAR)

    # Controls: --allow-expired signs anyway, loudly; merge of an expired draft warns.
    kf = keyfile(SIGNER.seed, SIGNER.key)
    expired_s = root_signed(1, root_keys=(SIGNER,), expires=PAST)
    case("control", "expired-draft-signed-with-allow-expired",
         {"root.json": dump({"signed": expired_s, "signatures": []}), "key.json": dump(kf)},
         ["sign", "root.json", "--key", "key.json", "--passphrase-fd", "0", "--allow-expired",
          "-o", "{tmp}/sig.json"], 0,
         ["WARNING: signing 1 EXPIRED draft(s) (--allow-expired)",
          "Wrote the signature by " + SIGNER.keyid],
         "the override exists, and says what it does", stdin=PASS + "\n")
    case("expiry", "merge-an-expired-draft-warns",
         {"root.json": dump({"signed": expired_s, "signatures": []}),
          "sig.json": dump(detached("root", 1, expired_s, SIGNER))},
         ["merge", "root.json", "sig.json", "-o", "{tmp}/merged.json"], 0,
         ["warning: root.json (role root) EXPIRED at 2001-01-01T00:00:00Z",
          "cannot be published as it is"],
         "a merged file nobody can publish must not look ready")
    with_python_tuf(TUF_EXPIRED)


# --- round (issue 18, class 5): a round carries only what it was for ----------------------
#
# A round (a directory of drafts signed and merged against one delegator) once checked a root
# draft against its own keys only and wrote it into the repository as N.root.json: a
# coordinator could slip a root listing their own key into a round of claimed bins, and the
# merge would replace the trust anchor. Each draft must be checked against its own delegator;
# a root has none but its previous root, so it is never part of a round, and no merge writes
# a root file except a root merged with its previous root.


def round_cases() -> None:
    delegator = dump(sign(targets_signed(), [TARGETS]))
    projects2 = projects_signed(2)
    evil_root = root_signed(2, root_keys=(EVE,), ts=(EVE,), snap=(EVE,), targets=(EVE,))
    evil_anchor = dict(evil_root, version=1)
    anchor = dump(sign(root_signed(1), [ROOT1]))

    def planted(root: dict, name: str) -> dict[str, bytes]:
        return {"targets.json": delegator, "repo/1.root.json": anchor,
                "drafts/2.projects.json": dump({"signed": projects2, "signatures": []}),
                f"drafts/{name}": dump({"signed": root, "signatures": []}),
                "sigs/2.projects.json.sig": dump(detached("projects", 2, projects2, DEV1)),
                f"sigs/{name}.sig": dump(detached("root", root["version"], root, EVE))}

    merge = ["merge", "drafts", "sigs", "--delegator", "targets.json", "-o", "repo"]
    case("round", "root-draft-planted-in-a-round-of-bins", planted(evil_root, "2.root.json"),
         merge, 1,
         ["drafts/2.root.json: a root (version 2) cannot be part of a round",
          "nothing was signed, merged or written", "--previous"],
         "the coordinator's root, signed by the coordinator's key alone, merged into the "
         "repository as the next root")
    with_python_tuf("refuses 2.root.json as an update of root v1 (not signed by v1's root "
                    "keys), and every client's update stops there: a denial of service")
    case("round", "root-draft-replacing-the-trust-anchor", planted(evil_anchor, "1.root.json"),
         merge, 1, ["drafts/1.root.json: a root (version 1) cannot be part of a round"],
         "repo/1.root.json replaced by the attacker's root: verify and export then anchor on it")
    with_python_tuf("trusts it outright when bootstrapped from the repository's 1.root.json "
                    "(as export hands the root to RSTUF): every role under the attacker's key")
    case("round", "root-draft-named-as-a-bin", planted(evil_root, "2.projects-x.json"), merge,
         1, ["drafts/2.projects-x.json: a root (version 2) cannot be part of a round"],
         "a root under an innocent name")
    case("round", "sign-a-round-holding-a-root", planted(evil_root, "2.root.json"),
         ["sign", "drafts", "--delegator", "targets.json", "--key", "absent.key", "-o",
          "{tmp}/sigs"], 1,
         ["drafts/2.root.json: a root (version 2) cannot be part of a round"],
         "an admin signing a round of bins would also sign the coordinator's root",
         not_stderr=["absent.key"])
    case("round", "status-of-a-round-holding-a-root", planted(evil_root, "2.root.json"),
         ["status", "drafts", "--delegator", "targets.json"], 1,
         ["a root (version 2) cannot be part of a round"],
         "status must not report a planted root as complete")
    files = planted(evil_root, "2.root.json")
    del files["drafts/2.root.json"], files["sigs/2.root.json.sig"]
    files["drafts/2.root.json"] = dump({"signed": projects2, "signatures": []})
    files["sigs/2.root.json.sig"] = dump(detached("targets", 2, projects2, DEV1))
    case("round", "targets-draft-named-as-a-root-file", files, merge, 1,
         ["drafts/2.root.json: 2.root.json would hold version 2 of role root, but this is "
          "targets version 2"],
         "merged, it would be written over the repository's 2.root.json")
    files = planted(evil_root, "2.root.json")
    del files["drafts/2.root.json"], files["sigs/2.root.json.sig"]
    files["drafts/3.projects.json"] = files.pop("drafts/2.projects.json")
    files["sigs/3.projects.json.sig"] = files.pop("sigs/2.projects.json.sig")
    case("round", "draft-named-for-another-version", files, merge, 1,
         ["3.projects.json would hold version 3 of role projects, but this is projects "
          "version 2"],
         "version 2 written over the repository's 3.projects.json: a rollback")

    # One file at a time: a root after version 1 merges only with --previous, and nothing
    # is written under another role's or version's root file name.
    eve_sig = dump(detached("root", 2, evil_root, EVE))
    single = {"root.json": dump({"signed": evil_root, "signatures": []}), "sig.json": eve_sig,
              "1.root.json": anchor}
    # (With 1.root.json beside the draft, merge finds it: rotation_cases below.)
    case("merge", "root-v2-merged-without-previous",
         {n: b for n, b in single.items() if n != "1.root.json"},
         ["merge", "root.json", "sig.json", "-o", "2.root.json"], 2,
         ["root version 2 can only be merged or counted with its previous root (version 1)",
          "--previous"],
         "a root signed by its own (the attacker's) keys alone, written as the next root")
    with_python_tuf("refuses it as an update of root v1: not signed by v1's root keys")
    case("merge", "root-given-a-delegator", single,
         ["merge", "root.json", "sig.json", "--delegator", "1.root.json", "-o", "2.root.json"],
         2, ["a root is not delegated", "--previous"],
         "the old root given as --delegator was ignored: the new root's own keys sufficed")
    tdraft = targets_signed(2)
    case("merge", "targets-merged-over-a-root-file",
         {"t.json": dump({"signed": tdraft, "signatures": []}),
          "sig.json": dump(detached("targets", 2, tdraft, TARGETS)), "1.root.json": anchor},
         ["merge", "t.json", "sig.json", "--role", "targets", "--delegator", "1.root.json",
          "-o", "1.root.json"], 2,
         ["-o: 1.root.json would hold version 1 of role root, but this is targets version 2"],
         "the trust anchor overwritten by another role's metadata")
    prev_ok = root_signed(2, root_keys=(ROOT1,))
    case("merge", "root-merged-over-an-older-root-file",
         {"root.json": dump({"signed": prev_ok, "signatures": []}),
          "sig.json": dump(detached("root", 2, prev_ok, ROOT1)), "1.root.json": anchor},
         ["merge", "root.json", "sig.json", "--previous", "1.root.json", "-o", "1.root.json"],
         2, ["-o: 1.root.json would hold version 1 of role root, but this is root version 2"],
         "root v2 written as 1.root.json: the chain loses its anchor")
    case("merge", "root-signed-as-another-role", single,
         ["merge", "root.json", "sig.json", "--role", "claimed", "--previous", "1.root.json",
          "-o", "out.json"], 2, ["--role: root metadata cannot be signed as role claimed"],
         "a root passed off as a delegated role's draft")


# ---------------------------------------------------------------------------------------------


# --- control-chars: invisible and reordering characters are shown escaped -------------------
#
# Keyids and delegated role names may hold any character but controls (TAP 12; python-tuf
# accepts them), so metadata can carry bidi overrides, zero-width and tag characters that make
# a name or keyid read as another on the officer's screen. Each case shows one such string and
# checks it is printed escaped and never raw, on stdout or stderr.

INVISIBLE = {
    "rlo": "\u202e", "lri": "\u2066", "lrm": "\u200e", "alm": "\u061c",
    "zwsp": "\u200b", "zwj": "\u200d", "word-joiner": "\u2060", "bom": "\ufeff",
    "tag": "\U000e0041", "soft-hyphen": "\u00ad", "line-separator": "\u2028",
    "variation-selector": "\ufe0f", "hangul-filler": "\u3164", "mongolian-vs": "\u180e",
    "cgj": "\u034f", "interlinear": "\ufffb", "no-break-space": "\u00a0",
}


def shown(c: str) -> str:
    """How conclave prints `c`: Rust's char::escape_unicode."""
    return "\\u{%x}" % ord(c)


def escaping_cases() -> None:
    def esc(area_case: str, files, command, exit, stderr, c, why, stdin=None, stdout=None):
        case("control-chars", area_case, files, command, exit, stderr, why, stdin=stdin,
             not_output=[c], stdout=stdout)

    for cls, c in INVISIBLE.items():
        def rename(st, c=c):
            st["targets"]["delegations"]["roles"][0]["name"] = f"proj{c}ects"
            st["targets"]["delegations"]["roles"][0]["paths"] = ["projects/*"]
        esc(f"role-name-{cls}", in_repo(make_repo(pre=rename)), VERIFY, 1,
            ["role-name-not-url-safe", f"proj{shown(c)}ects"], c,
            f"a role name holding U+{ord(c):04X} reads as another role's name")

        def alias(st, c=c):
            st["targets"]["delegations"]["roles"][0]["keyids"].append(f"dev{c}1")
        esc(f"keyid-{cls}", in_repo(make_repo(pre=alias)), VERIFY, 0,
            ["unresolved-keyid", f"dev{shown(c)}1"], c,
            f"a keyid holding U+{ord(c):04X} reads as an officer's keyid")

    # inspect shows every delegation with its keyids; sign shows them before anything is signed.
    c = INVISIBLE["rlo"]
    t = targets_signed()
    t["delegations"]["roles"][0]["name"] = f"proj{c}ects"
    signed_t = sign(t, [TARGETS])
    signed_t["signatures"].append({"keyid": f"sig{INVISIBLE['tag']}1", "sig": "00" * 64})
    esc("inspect-role-name-and-keyid", {"targets.json": dump(signed_t)},
        ["inspect", "targets.json"], 0, [], c,
        "inspect is what an officer reads to see who a role trusts and who signed",
        stdout=[f"proj{shown(c)}ects", f"sig{shown(INVISIBLE['tag'])}1"])
    draft = targets_signed()
    draft["delegations"]["roles"][0]["name"] = f"proj{c}{INVISIBLE['zwsp']}ects"
    draft["delegations"]["keys"][SIGNER.keyid] = copy.deepcopy(SIGNER.key)
    draft["delegations"]["roles"][0]["keyids"].append(SIGNER.keyid)
    draft["x-note" + INVISIBLE["bom"]] = "unknown" + INVISIBLE["line-separator"]
    for cls in ("rlo", "zwsp", "bom", "line-separator"):
        esc(f"sign-review-{cls}",
            {"key.json": dump(keyfile(SIGNER.seed, SIGNER.key)),
             "targets.json": dump({"signed": draft, "signatures": []})},
            ["sign", "targets.json", "--key", "key.json", "--passphrase-fd", "0", "-o",
             "{tmp}/sig.json"], 0, ["You are about to sign", shown(c)], INVISIBLE[cls],
            f"the review before signing must not show U+{ord(INVISIBLE[cls]):04X} raw",
            stdin=PASS + "\n")


# --- transcript: only an officer's key vouches for a transcript's head ---------------------
#
# A head signature says "I saw the ceremony up to this line". Anyone can rewrite the whole
# transcript, re-chain it (every line's hash recomputed) and sign its head with a key of their
# own; so `transcript verify --head-sig` counts a signature only by a key the plan gives an
# officer or the current root trusts for root or targets.


def transcript_bytes(steps: list[str]) -> bytes:
    prev, out = "0" * 64, []
    for i, step in enumerate(steps, 1):
        line = {"seq": i, "time": "2026-11-22T12:00:00Z", "step": step, "officer": None,
                "inputs": [], "outputs": [], "keyids": [], "note": None,
                "conclave_version": "0.1.0", "binary_sha256": sha256(b"binary"), "prev": prev}
        line["hash"] = prev = sha256(canonical(line))
        out.append(json.dumps(line, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
    return ("\n".join(out) + "\n").encode()


def head_signature(transcript: bytes, signer: K, public: K | None = None) -> bytes:
    last = json.loads(transcript.splitlines()[-1])
    msg = f"conclave-transcript-head/v1\nseq {last['seq']}\nsha256 {last['hash']}\n".encode()
    public = public or signer
    return dump({"format": "conclave-transcript-head", "format_version": 1, "seq": last["seq"],
                 "head_sha256": last["hash"],
                 "signature": {"keyid": signer.keyid, "sig": signer.sig(msg)},
                 "public_key": copy.deepcopy(public.key)})


def transcript_cases() -> None:
    forged = transcript_bytes(["ceremony genesis (rewritten)", "merge root v1 (rewritten)"])
    root = dump(sign(root_signed(), [ROOT1]))
    cmd = ["transcript", "verify", ".", "--head-sig", "head.sig"]

    def t(name, signer, exit, stderr, why, public=None, with_root=True, stdout=None):
        files = {"transcript.jsonl": forged, "head.sig": head_signature(forged, signer, public)}
        if with_root:
            files["repository/1.root.json"] = root
        case("transcript", name, files, cmd, exit, stderr, why, stdout=stdout)

    t("head-signed-by-root-key", ROOT1, 0, [],
      "control: a root key of the ceremony's root vouches for the head",
      stdout=["root key of root version 1"])
    t("re-chained-head-signed-by-attacker-key", EVE, 1,
      [f"the head is signed by key {EVE.keyid}, which is not an officer's key"],
      "a rewritten, re-chained transcript signed with a fresh key would pass as the record")
    t("head-signed-by-online-snapshot-key", SNAPSHOT, 1, ["not an officer's key"],
      "the online snapshot key is held by a server, not by anyone at the ceremony")
    t("head-signature-by-attacker-key-beside-officer-public-key", EVE, 1,
      [f"the signature names key {EVE.keyid}, but the public key in the file is {ROOT1.keyid}"],
      "an officer's public key in the file, beside a signature made with another key",
      public=ROOT1)
    t("head-signature-without-trusted-keys", ROOT1, 2, ["cannot tell whose keys may sign"],
      "with neither plan nor root there is no officer to vouch; nothing is trusted",
      with_root=False)


# --- rotation context and revocation rounds (issue 19) ----------------------------------------
#
# A root rotation is never counted against the new root's keys alone: the previous root is
# found beside the draft when not given, and without it merge and status refuse. In a
# revocation round (REVOKED.record beside the drafts, or --revoked), the revoked key's
# signature counts toward no threshold: a thief's copy plus one honest officer must not meet
# the old root's threshold.

ROOT4 = K("root-4")


def revocation_record(revoked: K, drafts: list[str]) -> bytes:
    return dump({"format": "conclave-revoked", "format_version": 1,
                 "date": "2026-01-01T00:00:00Z", "reason": "key copied by an attacker",
                 "keys": [{"keyid": revoked.keyid, "also_listed_as": [], "roles": ["root"]}],
                 "drafts": drafts})


def rotation_cases() -> None:
    anchor = dump(sign(root_signed(1), [ROOT1]))
    evil_root = root_signed(2, root_keys=(EVE,), ts=(EVE,), snap=(EVE,), targets=(EVE,))
    case("merge", "root-v2-previous-found-beside",
         {"root.json": dump({"signed": evil_root, "signatures": []}),
          "sig.json": dump(detached("root", 2, evil_root, EVE)), "1.root.json": anchor},
         ["merge", "root.json", "sig.json", "-o", "2.root.json"], 1,
         ["Previous root: 1.root.json (found beside the draft",
          "root v1 (previous root's keys): 0 of 1 needed have signed - NOT YET",
          "2.root.json was not written"],
         "the previous root was left out because --previous was forgotten: the attacker's "
         "keys alone met the new root's threshold",
         not_stderr=["every threshold is met"])
    case("status", "root-v2-counted-without-previous",
         {"root.json": dump({"signed": evil_root, "signatures": []}),
          "sig.json": dump(detached("root", 2, evil_root, EVE))},
         ["status", "root.json", "sig.json"], 2,
         ["root version 2 can only be merged or counted with its previous root (version 1)",
          "--previous"],
         "status said COMPLETE for a root only its own (the attacker's) keys signed",
         not_output=["COMPLETE"])

    # Root v1: root-1, root-2, root-3 (2 of 3). The revocation of root-1 drafts v2 with
    # root-2, root-3 and root-4 (2 of 3). The thief signs with a copy of root-1; with root-2
    # (honest) that is 2 of v1's keys, and root-2 with root-4 meet v2's own.
    v1 = root_signed(1, root_keys=(ROOT1, ROOT2, ROOT3), threshold=2)
    v2 = root_signed(2, root_keys=(ROOT2, ROOT3, ROOT4), threshold=2)
    round_files = {
        "1.root.json": dump(sign(v1, [ROOT1, ROOT2, ROOT3])),
        "2.root.json": dump({"signed": v2, "signatures": []}),
        "2.root.json.thief.sig": dump(detached("root", 2, v2, ROOT1)),
        "2.root.json.root-2.sig": dump(detached("root", 2, v2, ROOT2)),
        "2.root.json.root-4.sig": dump(detached("root", 2, v2, ROOT4)),
    }
    counted = [f"not counted: key {ROOT1.keyid} is revoked",
               "root v1 (previous root's keys): 1 of 2 needed have signed - NOT YET"]
    case("revocation", "thief-signature-in-the-round",
         dict(round_files, **{"REVOKED.record": revocation_record(ROOT1, ["2.root.json"])}),
         ["merge", "2.root.json", "-o", "2.root.json"], 1, counted,
         "one honest officer and the thief's copy of the revoked key met the old root's "
         "threshold", not_stderr=["every threshold is met"])
    case("revocation", "thief-signature-with-revoked-flag", round_files,
         ["merge", "2.root.json", "--revoked", ROOT1.keyid[:8], "-o", "2.root.json"], 1,
         counted, "the same, away from the revocation's directory, with --revoked",
         not_stderr=["every threshold is met"])
    merged = dict(round_files)
    merged["2.root.json"] = dump(sign(v2, [ROOT1, ROOT2, ROOT4]))
    for n in [n for n in merged if n.endswith(".sig")]:
        del merged[n]
    merged["REVOKED.record"] = revocation_record(ROOT1, ["2.root.json"])
    case("revocation", "verify-counts-no-revoked-key-on-the-drafts", in_repo(merged), VERIFY, 1,
         ["root-chain-old-threshold", f"not counted: key {ROOT1.keyid} is revoked"],
         "verify in the revocation's directory passed a root the thief co-signed")


# --- rstuf: pending metadata from RSTUF's DAS (issue 20) --------------------------------------
#
# `conclave rstuf sign PENDING` signs what RSTUF's GET /api/v1/metadata/sign returned. The
# online side may be the attacker's: what it calls pending, trusted_root and trusted_targets is
# checked against the officer's own root before anything is signed, and nothing is written for
# a refused document.

ONLINE = K("rstuf-online")


def rstuf_root(version: int = 1, root_keys=(ROOT1, SIGNER), threshold: int = 2) -> dict:
    return root_signed(version, root_keys=root_keys, threshold=threshold, ts=(ONLINE,),
                       snap=(ONLINE,), targets=(ONLINE,))


def pending_doc(members: dict) -> bytes:
    return dump({"data": {"metadata": members}, "message": "Metadata role(s) pending signing"})


def rstuf_cases() -> None:
    key = dump(keyfile(SIGNER.seed, SIGNER.key))
    cmd = ["rstuf", "sign", "pending.json", "--key", "key.json", "--passphrase-fd", "0", "-o"]
    v1 = rstuf_root()

    def rc(name, members, stderr, why, exit=1, extra=None, files=None):
        fs = {"key.json": key, "pending.json": members if isinstance(members, bytes)
              else pending_doc(members)}
        fs.update(files or {})
        case("rstuf", name, fs, cmd + ["body.json"] + (extra or []), exit, stderr, why,
             stdin=PASS + "\n")

    case("control", "rstuf-pending-bootstrap-root-signs",
         {"key.json": key, "pending.json": pending_doc({"root": sign(v1, [ROOT1])})},
         cmd + ["{tmp}/body.json"], 0,
         ["Wrote the signature by " + SIGNER.keyid, "root v1 (its own keys): 1 of 2 needed"],
         "the base pending document signs", stdin=PASS + "\n")

    changed = sign(v1, [ROOT1])
    changed["signed"] = dict(v1, expires="2099-01-01T00:00:00Z")
    rc("pending-root-changed-after-it-was-signed", {"root": changed},
       ["the signature by key " + ROOT1.keyid + " does not verify over its signed bytes",
        "nothing was signed or written"],
       "the online side edits a root an officer already signed and collects the rest of the "
       "signatures for its own version")
    rc("pending-root-signed-by-a-stranger", {"root": sign(v1, [EVE])},
       ["carries a signature by key " + EVE.keyid + ", which may not sign it"],
       "RSTUF's bootstrap refuses it later; an officer must not add a signature first")
    dup = canonical(sign(v1, [ROOT1])).decode().replace(
        '"expires":"' + FAR + '"', '"expires":"' + FAR + '","expires":"2099-01-01T00:00:00Z"', 1)
    rc("pending-root-duplicate-key", ('{"data":{"metadata":{"root":' + dup + '}},"message":""}')
       .encode(), ["not JSON conclave reads", "duplicate"],
       "Python keeps the last of two equal keys: the officer would review one expiry and "
       "RSTUF sign another")
    rc("pending-not-rstuf-shape", dump({"metadata": {"root": sign(v1, [ROOT1])}}),
       ["not what RSTUF's GET /api/v1/metadata/sign returns"],
       "a file that is not RSTUF's answer is not guessed at")
    rc("pending-online-targets", {"targets": {"signed": targets_signed(), "signatures": []}},
       ["RSTUF 1.0 signs with its online key"],
       "an offline key signing the online side's targets for it")

    anchor = sign(v1, [ROOT1, SIGNER])
    v2 = rstuf_root(2, root_keys=(SIGNER, EVE), threshold=1)
    rc("root-update-without-the-root-in-use", {"root": {"signed": v2, "signatures": []},
                                               "trusted_root": anchor},
       ["can only be checked against the root in use", "--trusted-root"],
       "the document's own trusted_root is the online side's word: a root update reviewed "
       "against it could hide any change", exit=2)
    evil_v1 = sign(rstuf_root(1, root_keys=(EVE, SIGNER), threshold=1), [EVE])
    rc("root-update-trusted-root-differs", {"root": {"signed": v2, "signatures": []},
                                            "trusted_root": evil_v1},
       ["the online side trusts another root than this officer does"],
       "RSTUF serves another root than the ceremony's: signing its update would extend the "
       "attacker's chain", extra=["--trusted-root", "1.root.json"],
       files={"1.root.json": dump(anchor)})
    rc("root-update-unsigned-trusted-root", {"root": {"signed": v2, "signatures": []}},
       ["--trusted-root", "not signed by its own root keys"],
       "a root in use nobody signed would make the change review show what a forger wants",
       exit=2, extra=["--trusted-root", "1.root.json"],
       files={"1.root.json": dump({"signed": v1, "signatures": []})})
    rc("bootstrap-root-given-a-trusted-root", {"root": sign(v1, [ROOT1])},
       ["is a bootstrap root"], "a bootstrap root is checked against itself only",
       exit=2, extra=["--trusted-root", "1.root.json"], files={"1.root.json": dump(anchor)})

    claimed_keys = {SIGNER.keyid: SIGNER.key}
    online_targets = {"_type": "targets", "spec_version": SPEC, "version": 1, "expires": FAR,
                      "targets": {},
                      "delegations": {"keys": claimed_keys, "roles": [
                          {"name": "claimed", "keyids": [SIGNER.keyid], "threshold": 1,
                           "terminating": True, "paths": ["*"]}]}}
    claimed = {"signed": {"_type": "targets", "spec_version": SPEC, "version": 1,
                          "expires": FAR, "targets": {}}, "signatures": []}
    rc("delegation-forged-trusted-targets",
       {"claimed": claimed, "trusted_targets": sign(online_targets, [EVE])},
       ["trusted_targets is not signed by the targets keys of the root in use"],
       "targets metadata the online side made up would let it pick who signs the delegation",
       extra=["--trusted-root", "1.root.json"], files={"1.root.json": dump(anchor)})
    rc("delegation-without-the-root-in-use",
       {"claimed": claimed, "trusted_targets": sign(online_targets, [ONLINE])},
       ["can only be checked against the root in use"],
       "the delegator would be checked against nothing", exit=2)
    rc("key-not-in-the-pending-root", {"root": sign(rstuf_root(root_keys=(ROOT1, ROOT2)),
                                                    [ROOT1])},
       ["may not sign role root", "nothing was signed"],
       "the officer's signature would be posted for a root that does not list their key")


def main() -> int:
    controls()
    json_cases()
    metadata_cases()
    rolename_cases()
    root_chain_cases()
    snapshot_timestamp_cases()
    delegation_cases()
    keyfile_cases()
    sigfile_cases()
    key_identity_cases()
    escaping_cases()
    transcript_cases()
    passphrase_cases()
    overwrite_cases()
    expiry_cases()
    round_cases()
    rotation_cases()
    rstuf_cases()
    areas = sorted({a for a, _, _, _ in CASES})
    for area in areas:
        shutil.rmtree(OUT / area, ignore_errors=True)
    for area, name, files, exp in CASES:
        d = OUT / area / name
        d.mkdir(parents=True)
        for fname, b in files.items():
            (d / fname).parent.mkdir(parents=True, exist_ok=True)
            (d / fname).write_bytes(b)
        (d / "expected.json").write_bytes(dump(exp))
    print(f"wrote {len(CASES)} cases in {len(areas)} areas under {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
