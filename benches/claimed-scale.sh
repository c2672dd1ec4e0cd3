#!/usr/bin/env bash
# Claimed role at scale: conclave against pinned python-tuf, same workload, same machine.
#
#   bash benches/claimed-scale.sh [N...]        (default: 10000 100000 1000000)
#
# Needs the interop venv (bash tests/run-all.sh makes it). Prints one JSON line per tool and
# size; docs/performance.md records the results.
set -euo pipefail
cd "$(dirname "$0")/.."
py=target/interop-venv/bin/python
[ -x "$py" ] || { echo "FATAL: $py missing: run bash tests/run-all.sh first" >&2; exit 1; }
out=${OUT:-target/claimed-scale}
mkdir -p "$out"
cargo build --locked --release --bench claimed_scale >/dev/null 2>&1 || cargo bench --locked --bench claimed_scale --no-run
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000 1000000)
echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB"
for n in "${sizes[@]}"; do
    cargo bench --locked --bench claimed_scale --quiet -- "$n" "$out" 2>/dev/null
    "$py" benches/claimed_scale_python_tuf.py "$n" "$out"
    rm -f "$out"/claimed-"$n"*.json
done
