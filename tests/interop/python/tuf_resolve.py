#!/usr/bin/env python3
"""Resolve target paths with python-tuf's ngclient, as pip would.

Usage: tuf_resolve.py DIR TARGET [TARGET ...]

DIR is a TUF repository in consistent-snapshot layout (1.root.json, ..., timestamp.json,
N.snapshot.json, N.targets.json, N.<role>.json). A real ``tuf.ngclient.Updater`` is
bootstrapped with DIR/1.root.json and reads the repository through a fetcher that serves DIR
(no HTTP server). ``refresh()`` runs the client workflow (root chain, timestamp, snapshot,
targets); ``get_targetinfo(TARGET)`` then walks the delegations (pre-order depth first,
terminating delegations, path patterns and hash prefixes, thresholds) exactly as python-tuf
does for pip.

Prints one line per target, ``found: TARGET length=N`` or ``not found: TARGET``, and after
each the roles the client downloaded for it (``roles: a b c``). Exit 0 when every target was
found, 1 when one was not or the client refused the metadata (``error: ...``).
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

from tuf.api.exceptions import DownloadHTTPError
from tuf.ngclient import Updater
from tuf.ngclient.fetcher import FetcherInterface

BASE = "http://conclave.invalid/metadata/"


class DirFetcher(FetcherInterface):
    def __init__(self, root: Path):
        self.root = root
        self.fetched: list[str] = []

    def _fetch(self, url: str) -> Iterator[bytes]:
        if not url.startswith(BASE):
            raise DownloadHTTPError(f"not served: {url}", 404)
        name = unquote(url[len(BASE) :])
        path = self.root / name
        if "/" in name or not path.is_file():
            raise DownloadHTTPError(f"not found: {name}", 404)
        self.fetched.append(name)
        return iter([path.read_bytes()])


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    repo = Path(argv[0])
    fetcher = DirFetcher(repo)
    all_found = True
    with tempfile.TemporaryDirectory() as cache:
        try:
            updater = Updater(
                metadata_dir=cache,
                metadata_base_url=BASE,
                fetcher=fetcher,
                bootstrap=(repo / "1.root.json").read_bytes(),
            )
            updater.refresh()
            for target in argv[1:]:
                before = len(fetcher.fetched)
                info = updater.get_targetinfo(target)
                roles = [n.split(".", 1)[1].rsplit(".json", 1)[0] for n in fetcher.fetched[before:]]
                if info is None:
                    all_found = False
                    print(f"not found: {target}")
                else:
                    print(f"found: {target} length={info.length}")
                print(f"roles: {' '.join(roles)}")
        except Exception as e:  # noqa: BLE001
            print(f"error: {type(e).__name__}: {e}")
            return 1
    return 0 if all_found else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
