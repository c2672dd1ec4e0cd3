#!/usr/bin/env python3
"""Print pip requirements for the RSTUF test venv from the worker's and API's Pipfile.lock.

Usage: requirements.py WORKER_DIR API_DIR > requirements.txt

Every package of both locks' "default" section at its locked version, with its environment
marker (pip skips what does not apply to the running Python), plus the API's locked test
client (httpx and httpcore from its "develop" section, used by FastAPI's TestClient). Where
both locks pin a package, the worker's pin serves both. psycopg2 is replaced by
psycopg2-binary at the same version (no C build needed).
"""

import json
import sys


def entries(lock, section):
    for name, spec in sorted(lock[section].items()):
        version = spec.get("version")
        if not version:
            sys.exit(f"{name}: no locked version in the {section} section")
        yield name, version, spec.get("markers")


def main():
    worker_dir, api_dir = sys.argv[1:3]
    with open(f"{worker_dir}/Pipfile.lock") as f:
        worker = json.load(f)
    with open(f"{api_dir}/Pipfile.lock") as f:
        api = json.load(f)
    chosen = {}
    for name, version, markers in entries(worker, "default"):
        chosen[name] = (version, markers)
    for name, version, markers in entries(api, "default"):
        chosen.setdefault(name, (version, markers))
    for name, version, markers in entries(api, "develop"):
        if name in ("httpx", "httpcore"):
            chosen.setdefault(name, (version, markers))
    for name, (version, markers) in sorted(chosen.items()):
        if name == "psycopg2":
            name = "psycopg2-binary"
        line = f"{name}{version}"
        if markers:
            line += f" ; {markers}"
        print(line)


if __name__ == "__main__":
    main()
