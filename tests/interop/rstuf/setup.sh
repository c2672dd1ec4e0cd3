#!/usr/bin/env bash
# Build target/rstuf-venv: RSTUF's worker and API (the archives in ../shared/third-party/rstuf,
# checked against their SHA256SUMS) unpacked under target/rstuf-src, and a Python venv with
# both Pipfile.lock's pins. Run from the repository root: tests/run-all.sh calls it.
# RSTUF_SOURCES overrides where the archives are. Fails loudly; never half-installs silently.
set -euo pipefail
cd "$(dirname "$0")/../../.."
die() { printf '\nFATAL: %s\n' "$*" >&2; exit 1; }

sources="${RSTUF_SOURCES:-$PWD/../shared/third-party/rstuf}"
[ -f "$sources/SHA256SUMS" ] || sources=/work/shared/third-party/rstuf
[ -f "$sources/SHA256SUMS" ] || die "no RSTUF archives (set RSTUF_SOURCES to the folder with SHA256SUMS)"
(cd "$sources" && sha256sum --quiet -c SHA256SUMS) || die "$sources: the archives do not match SHA256SUMS"

src=target/rstuf-src
venv=target/rstuf-venv
stamp="$(cat "$sources/SHA256SUMS" tests/interop/rstuf/requirements.py tests/interop/rstuf/setup.sh | sha256sum | cut -c1-64)"
if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.installed" 2>/dev/null)" = "$stamp" ]; then
    exit 0
fi
rm -rf "$src" "$venv"
mkdir -p "$src"
for a in "$sources"/*.tar.gz; do
    tar -xzf "$a" -C "$src" || die "cannot unpack $a"
done
worker="$(ls -d "$src"/repository-service-tuf-worker-*)"
api="$(ls -d "$src"/repository-service-tuf-api-*)"
python3 tests/interop/rstuf/requirements.py "$worker" "$api" > "$src/requirements.txt" \
    || die "cannot read the Pipfile.lock files"
# The worker's lock needs Python 3.12 or later (numpy 2.5; the worker imports awswrangler,
# which imports numpy). RSTUF_PYTHON names one; otherwise the first that fits.
py=""
for c in "${RSTUF_PYTHON:-}" python3.14 python3.13 python3.12 python3 "$HOME"/.pyenv/versions/3.1[2-9]*/bin/python3; do
    [ -n "$c" ] || continue
    if "$c" -c 'import sys, venv; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then py="$c"; break; fi
done
[ -n "$py" ] || die "RSTUF's worker needs Python 3.12+ with venv (Debian 13: python3; or set RSTUF_PYTHON)"
"$py" -m venv "$venv" || die "$py -m venv failed (on Debian: apt-get install python3-venv)"
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$src/requirements.txt" \
    || die "could not install RSTUF's locked dependencies ($src/requirements.txt)"
"$venv/bin/python" -c 'import tuf, fastapi, httpx, sqlalchemy, redis, psycopg2, celery, alembic' \
    || die "the RSTUF venv cannot import its dependencies"
echo "$stamp" > "$venv/.installed"
