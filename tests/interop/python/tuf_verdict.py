#!/usr/bin/env python3
"""python-tuf's verdict on a TUF metadata directory ("repository layout").

Usage: tuf_verdict.py DIR [--json]

DIR holds metadata files named as on a TUF repository:

* ``N.root.json`` for every root version (``root.json`` may also be present; if it is, it must be
  a copy of one of the ``N.root.json`` files, or the only root when there are none);
* ``targets.json`` or ``V.targets.json``;
* delegated roles as ``ROLE.json`` or ``V.ROLE.json``;
* optionally ``snapshot.json`` / ``V.snapshot.json`` and ``timestamp.json``.

``expected.json`` (used by the committed test vectors) is ignored.

Rules, all applied by python-tuf's own code wherever it has code for them:

1. The lowest ``N.root.json`` is the trust anchor. It is loaded with the client's
   ``TrustedMetadataSet`` and every following version is fed to ``update_root`` in order. A gap in
   the sequence is a "root version skip" (the next present file is still fed to python-tuf so that
   its own error message is shown). The final root must be unexpired.
2. With timestamp and snapshot present, the client path is followed: ``update_timestamp``,
   ``update_snapshot``, ``update_targets`` and ``update_delegated_targets`` (file choice follows
   ``consistent_snapshot`` and the versions in timestamp/snapshot).
   Without them, targets is checked with ``Root.verify_delegate("targets", ...)`` plus an expiry
   and ``_type`` check, for every targets file present.
3. Delegations are walked recursively (``roles`` and ``succinct_roles``); each delegated role whose
   file is present is checked with ``parent.verify_delegate(name, ...)`` plus expiry and ``_type``
   (or ``update_delegated_targets`` on the snapshot path).
4. Any metadata file that fails to parse is invalid, and so is a role file that no trusted role
   delegates to.

Exit status 0 and ``valid`` when everything present verifies; otherwise exit status 1 and one
``invalid: <reason>`` line per problem. ``--json`` prints
``{"verdict": "valid"|"invalid", "problems": [...], "checked": [file names]}`` instead.

The module can be imported: ``verdict(path)`` returns a ``Verdict``.
"""

from __future__ import annotations

import datetime
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tuf.api.metadata import Metadata, Root, Targets
from tuf.ngclient._internal.trusted_metadata_set import TrustedMetadataSet
from tuf.ngclient.config import EnvelopeType

IGNORED_FILES = {"expected.json"}
TOP_LEVEL = ("root", "timestamp", "snapshot", "targets")
_NAME_RE = re.compile(r"^(?:(?P<version>[0-9]+)\.)?(?P<role>.+)\.json$")


@dataclass
class Verdict:
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return "invalid" if self.problems else "valid"

    def to_json(self) -> dict:
        return {"verdict": self.verdict, "problems": self.problems, "checked": self.checked}


def describe(exc: BaseException) -> str:
    """The exception's class and message, followed by those of its causes."""
    parts = []
    seen = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        msg = str(e)
        parts.append(f"{type(e).__name__}: {msg}" if msg else type(e).__name__)
        e = e.__cause__ or (e.__context__ if not e.__suppress_context__ else None)
    return " <- ".join(parts)


class _Files:
    """The metadata files of a directory, grouped by role name."""

    def __init__(self, root: Path):
        self.dir = root
        # role -> {version or None: file name}
        self.by_role: dict[str, dict[int | None, str]] = {}
        for p in sorted(root.iterdir()):
            if not p.is_file() or p.name in IGNORED_FILES or not p.name.endswith(".json"):
                continue
            m = _NAME_RE.match(p.name)
            assert m is not None
            version = int(m.group("version")) if m.group("version") is not None else None
            self.by_role.setdefault(m.group("role"), {})[version] = p.name

    def read(self, name: str) -> bytes:
        return (self.dir / name).read_bytes()

    def versions(self, role: str) -> dict[int | None, str]:
        return self.by_role.get(role, {})

    def pick(self, role: str, version: int | None, consistent: bool) -> str | None:
        """The file a client would use for `role` at `version`; else the best other candidate."""
        files = self.versions(role)
        if not files:
            return None
        if version is not None and consistent and version in files:
            return files[version]
        if None in files and not (consistent and version is not None):
            return files[None]
        if version is not None and version in files:
            return files[version]
        if None in files:
            return files[None]
        return files[max(v for v in files if v is not None)]


class _Checker:
    def __init__(self, directory: Path):
        self.files = _Files(directory)
        self.result = Verdict()
        self.now = datetime.datetime.now(datetime.timezone.utc)
        self.used: set[str] = set()
        self.trusted: TrustedMetadataSet | None = None

    def problem(self, msg: str) -> None:
        self.result.problems.append(msg)

    def check(self, name: str) -> None:
        self.used.add(name)
        if name not in self.result.checked:
            self.result.checked.append(name)

    # ---- root -------------------------------------------------------------------------------

    def roots(self) -> Root | None:
        files = self.files.versions("root")
        numbered = sorted(v for v in files if v is not None)
        if not numbered:
            if None not in files:
                self.problem("no root metadata: no N.root.json and no root.json")
                return None
            numbered_files = [files[None]]
        else:
            numbered_files = [files[v] for v in numbered]

        first = numbered_files[0]
        self.check(first)
        try:
            self.trusted = TrustedMetadataSet(self.files.read(first), EnvelopeType.METADATA)
        except Exception as e:  # noqa: BLE001
            self.problem(f"{first}: trust anchor rejected: {describe(e)}")
            return None

        if numbered:
            expected = self.trusted.root.version + 1
            if numbered[0] != self.trusted.root.version:
                self.problem(
                    f"{first}: file name says version {numbered[0]} but it holds version "
                    f"{self.trusted.root.version}"
                )
                return None
            for v in numbered[1:]:
                name = files[v]
                self.check(name)
                skip = v != expected
                try:
                    self.trusted.update_root(self.files.read(name))
                except Exception as e:  # noqa: BLE001
                    if skip:
                        self.problem(
                            f"root version skip: {expected}.root.json is missing; "
                            f"python-tuf on {name}: {describe(e)}"
                        )
                    else:
                        self.problem(f"{name}: {describe(e)}")
                    return None
                if skip:
                    # python-tuf accepted a file after a gap: cannot happen, but never hide it.
                    self.problem(f"root version skip: {expected}.root.json is missing")
                    return None
                expected = self.trusted.root.version + 1

        root = self.trusted.root
        if None in files and numbered:
            self.check(files[None])
            self._check_root_copy(files[None], files)

        if root.is_expired(self.now):
            self.problem(
                f"{self._root_file()}: ExpiredMetadataError: Final root.json is expired "
                f"(version {root.version}, expires {root.expires:%Y-%m-%dT%H:%M:%SZ})"
            )
            return None
        return root

    def _root_file(self) -> str:
        assert self.trusted is not None
        files = self.files.versions("root")
        return files.get(self.trusted.root.version, files.get(None, "root.json"))

    def _check_root_copy(self, name: str, files: dict[int | None, str]) -> None:
        try:
            md = Metadata.from_bytes(self.files.read(name))
        except Exception as e:  # noqa: BLE001
            self.problem(f"{name}: {describe(e)}")
            return
        if md.signed.type != "root":
            self.problem(f"{name}: Expected 'root', got '{md.signed.type}'")
            return
        twin = files.get(md.signed.version)
        if twin is None:
            self.problem(f"{name}: holds root version {md.signed.version}, which has no N.root.json")
            return
        other = Metadata.from_bytes(self.files.read(twin))
        if other.to_dict() != md.to_dict():
            self.problem(f"{name}: differs from {twin}, which has the same version")

    # ---- targets without snapshot -----------------------------------------------------------

    def _load(self, name: str, delegator, role: str) -> Targets | None:
        """Parse and verify one targets-type file against its delegator (no snapshot)."""
        self.check(name)
        try:
            md = Metadata.from_bytes(self.files.read(name))
        except Exception as e:  # noqa: BLE001
            self.problem(f"{name}: {describe(e)}")
            return None
        if md.signed.type != Targets.type:
            self.problem(f"{name}: RepositoryError: Expected 'targets', got '{md.signed.type}'")
            return None
        try:
            delegator.verify_delegate(role, md.signed_bytes, md.signatures)
        except Exception as e:  # noqa: BLE001
            self.problem(f"{name}: {describe(e)}")
            return None
        if md.signed.is_expired(self.now):
            self.problem(
                f"{name}: ExpiredMetadataError: New {role} is expired "
                f"(expires {md.signed.expires:%Y-%m-%dT%H:%M:%SZ})"
            )
            return None
        return md.signed

    def _load_all_versions(self, role: str, delegator) -> Targets | None:
        """Verify every present file of `role`; return the newest one that verified."""
        files = self.files.versions(role)
        best: Targets | None = None
        ok = True
        for _, name in sorted(files.items(), key=lambda kv: (kv[0] is not None, kv[0] or 0)):
            t = self._load(name, delegator, role)
            if t is None:
                ok = False
            elif best is None or t.version > best.version:
                best = t
        return best if ok else None

    # ---- snapshot path ----------------------------------------------------------------------

    def _client_load(self, role: str, delegator_name: str) -> Targets | None:
        assert self.trusted is not None
        snap = self.trusted.snapshot
        meta = snap.meta.get(f"{role}.json")
        version = meta.version if meta is not None else None
        name = self.files.pick(role, version, self.trusted.root.consistent_snapshot)
        if name is None:
            return None
        self.check(name)
        try:
            return self.trusted.update_delegated_targets(
                self.files.read(name), role, delegator_name
            )
        except Exception as e:  # noqa: BLE001
            self.problem(f"{name}: {describe(e)}")
            return None

    def snapshot_path(self) -> Targets | None:
        assert self.trusted is not None
        consistent = self.trusted.root.consistent_snapshot
        ts_name = self.files.pick("timestamp", None, False)
        assert ts_name is not None
        self.check(ts_name)
        try:
            ts = self.trusted.update_timestamp(self.files.read(ts_name))
        except Exception as e:  # noqa: BLE001
            self.problem(f"{ts_name}: {describe(e)}")
            return None
        snap_name = self.files.pick("snapshot", ts.snapshot_meta.version, consistent)
        if snap_name is None:
            self.problem(f"snapshot version {ts.snapshot_meta.version} named in {ts_name} is missing")
            return None
        self.check(snap_name)
        try:
            self.trusted.update_snapshot(self.files.read(snap_name))
        except Exception as e:  # noqa: BLE001
            self.problem(f"{snap_name}: {describe(e)}")
            return None
        if not self.files.versions("targets"):
            self.problem("no targets metadata: no targets.json and no V.targets.json")
            return None
        return self._client_load("targets", "root")

    # ---- delegations ------------------------------------------------------------------------

    def walk(self, top: Targets, snapshot_mode: bool) -> None:
        visited = {"targets"}
        stack: list[tuple[str, Targets]] = [("targets", top)]
        while stack:
            parent_name, parent = stack.pop()
            d = parent.delegations
            if d is None:
                continue
            children: list[str] = []
            if d.roles is not None:
                children = list(d.roles)
            elif d.succinct_roles is not None:
                sr = d.succinct_roles
                children = sorted(r for r in self.files.by_role if sr.is_delegated_role(r))
            for child in children:
                if child in TOP_LEVEL or not self.files.versions(child):
                    continue
                if snapshot_mode:
                    t = self._client_load(child, parent_name)
                else:
                    t = self._load_all_versions(child, parent)
                if t is not None and child not in visited:
                    visited.add(child)
                    stack.append((child, t))

    def run(self) -> Verdict:
        if self.roots() is None:
            return self.result
        has_ts = bool(self.files.versions("timestamp"))
        has_snap = bool(self.files.versions("snapshot"))
        snapshot_mode = has_ts and has_snap
        if has_ts != has_snap:
            missing = "snapshot" if has_ts else "timestamp"
            self.problem(
                f"{missing} metadata is missing while "
                f"{'timestamp' if has_ts else 'snapshot'} metadata is present"
            )
            return self.result
        if snapshot_mode:
            top = self.snapshot_path()
        else:
            assert self.trusted is not None
            if not self.files.versions("targets"):
                # A root-only directory (the output of a root ceremony): the root chain, checked
                # above, is all there is to verify.
                return self.result
            top = self._load_all_versions("targets", self.trusted.root)
        if top is None:
            return self.result
        self.walk(top, snapshot_mode)

        if not self.result.problems:
            for role, files in sorted(self.files.by_role.items()):
                if role in TOP_LEVEL:
                    continue
                if not any(n in self.used for n in files.values()):
                    names = ", ".join(sorted(files.values()))
                    self.problem(f"{names}: role '{role}' is not delegated by any trusted role")
        return self.result


def verdict(directory: str | Path) -> Verdict:
    """python-tuf's verdict on the metadata directory `directory`."""
    return _Checker(Path(directory)).run()


def main(argv: list[str]) -> int:
    args = [a for a in argv if a != "--json"]
    as_json = "--json" in argv
    if len(args) != 1:
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    d = Path(args[0])
    if not d.is_dir():
        sys.stderr.write(f"not a directory: {d}\n")
        return 2
    v = verdict(d)
    if as_json:
        print(json.dumps(v.to_json(), indent=2, ensure_ascii=False))
    elif v.problems:
        for p in v.problems:
            print(f"invalid: {p}")
    else:
        print("valid")
    return 0 if not v.problems else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
