#!/usr/bin/env python3
"""python-tuf's ngclient on a repository directory, as of a given time.

Usage: tuf_client_at.py REPO_DIR INITIAL_ROOT TIME TARGETPATH

REPO_DIR holds ``metadata/`` and ``targets/`` as a TUF server serves them (the layout of
tuf-conformance's static repositories). The real ``Updater`` starts from INITIAL_ROOT (the
trust anchor), reads files through a local fetcher (no network), refreshes with its reference
time set to TIME (ISO 8601, e.g. ``2025-02-09T12:02:08Z``) instead of the clock, and downloads
TARGETPATH, checking its length and hashes.

Prints one JSON line ``{"ok": true, "root_version": N}`` and exits 0, or
``{"ok": false, "error": "..."}`` and exits 1.
"""

from __future__ import annotations

import datetime
import json
import os
import sys
import tempfile

from tuf.api.exceptions import DownloadHTTPError
from tuf.ngclient import Updater
from tuf.ngclient.fetcher import FetcherInterface


class Files(FetcherInterface):
    """Serve file:// URLs from disk; a missing file is the server's 404."""

    def _fetch(self, url):
        path = url[len("file://") :]
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            raise DownloadHTTPError(f"{url}: not found", 404)
        yield data


def main() -> int:
    repo, initial_root, when, target = sys.argv[1:5]
    at = datetime.datetime.fromisoformat(when.replace("Z", "+00:00"))
    with open(initial_root, "rb") as f:
        trusted = f.read()
    work = tempfile.mkdtemp()
    meta = os.path.join(work, "metadata")
    downloads = os.path.join(work, "downloads")
    os.mkdir(meta)
    os.mkdir(downloads)
    try:
        updater = Updater(
            metadata_dir=meta,
            metadata_base_url=f"file://{os.path.abspath(repo)}/metadata/",
            target_base_url=f"file://{os.path.abspath(repo)}/targets/",
            target_dir=downloads,
            fetcher=Files(),
            bootstrap=trusted,
        )
        # The client's clock: every expiry is judged against this time.
        updater._trusted_set.reference_time = at
        updater.refresh()
        info = updater.get_targetinfo(target)
        if info is None:
            raise ValueError(f"{target}: not found")
        updater.download_target(info)
    except Exception as e:  # every failure of the client is its verdict
        print(json.dumps({"ok": False, "error": f"{type(e).__name__}: {e}"}))
        return 1
    print(json.dumps({"ok": True, "root_version": updater._trusted_set.root.version}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
