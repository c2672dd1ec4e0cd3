#!/usr/bin/env bash
# The claimed-role round at scale, through the command line as PyPI admins would run it:
# `pypi claim` of N requests, two admins `sign`, `merge --delegator`. Prints wall time and peak
# RSS per command; docs/performance.md records the results.
#
#   bash benches/claimed-cli.sh [N]            (default 1000000)
#
# To compare builds (e.g. before and after a change), give their binaries in BINS; RUNS=K runs
# the round K times, the binaries taking turns in each run, over the same request file:
#
#   BINS="/path/before/conclave target/release/conclave" RUNS=3 bash benches/claimed-cli.sh
#
# Needs the interop venv (bash tests/run-all.sh makes it) to make N valid Ed25519 developer
# keys for the request file. Works in a temporary directory it removes at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
py=$PWD/target/interop-venv/bin/python
[ -x "$py" ] || { echo "FATAL: $py missing: run bash tests/run-all.sh first" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "FATAL: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }
if [ -z "${BINS:-}" ]; then
    cargo build --locked --release --bin conclave >/dev/null 2>&1 || cargo build --locked --release --bin conclave
    BINS=$PWD/target/release/conclave
fi
bins=()
for b in $BINS; do
    [ -x "$b" ] || { echo "FATAL: $b is not an executable" >&2; exit 1; }
    bins+=("$(realpath "$b")")
done
runs=${RUNS:-1}
w=$(mktemp -d /tmp/claimed-cli.XXXXXX)
trap 'rm -rf "$w"' EXIT
cd "$w"
pass="benchmark passphrase, not a secret"
"$py" - "$n" <<'PY'
import hashlib, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
n = int(sys.argv[1])
with open("requests.jsonl", "w") as f:
    for i in range(n):
        seed = hashlib.sha256(i.to_bytes(8, "little")).digest()
        public = Ed25519PrivateKey.from_private_bytes(seed).public_key()
        hexkey = public.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
        f.write('{"project":"project-%d","keys":[{"keytype":"ed25519","scheme":"ed25519",'
                '"keyval":{"public":"%s"}}],"threshold":1}\n' % (i, hexkey))
PY
echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $n projects, requests $(stat -c %s requests.jsonl) bytes"
run() {
    local what=$1
    shift
    /usr/bin/time -f "$what: %e s, peak RSS %M KiB" "$@" 2>&1 >/dev/null | grep -E "peak RSS|error" || {
        echo "FATAL: $what failed" >&2
        exit 1
    }
}
for i in "${!bins[@]}"; do
    c=${bins[$i]}
    mkdir "b$i"
    (
        cd "b$i"
        for k in admin1 admin2 online; do
            printf '%s\n%s\n' "$pass" "$pass" |
                "$c" key generate -o "$k.key" --profile rfc9106-64mib --passphrase-fd 0 >/dev/null 2>&1
            "$c" key public "$k.key" >"$k.pub"
        done
        "$c" pypi init --key claimed=admin1.pub --key claimed=admin2.pub --threshold claimed=2 \
            --key recently-claimed=online.pub --key unclaimed=online.pub --expires 365d \
            -o targets.json 2>/dev/null
    )
done
for r in $(seq 1 "$runs"); do
    for i in "${!bins[@]}"; do
        c=${bins[$i]}
        echo "## run $r, $c"
        (
            cd "b$i"
            rm -f claimed.json admin1.sig admin2.sig 1.claimed.json
            run "pypi claim" "$c" pypi claim --requests ../requests.jsonl --expires 90d -o claimed.json
            for a in admin1 admin2; do
                printf '%s\n' "$pass" | run "sign ($a)" "$c" sign claimed.json --role claimed \
                    --delegator targets.json --key "$a.key" --passphrase-fd 0 -o "$a.sig"
            done
            run "merge --delegator" "$c" merge claimed.json admin1.sig admin2.sig --role claimed \
                --delegator targets.json -o 1.claimed.json
            echo "signed claimed role: $(stat -c %s 1.claimed.json) bytes"
        )
    done
done
