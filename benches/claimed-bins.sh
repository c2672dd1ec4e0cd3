#!/usr/bin/env bash
# Single-file claimed against claimed in hash bins (pypi init --claimed-bins N): file sizes,
# files the admins sign per monthly claim round, what a client downloads.
#
#   bash benches/claimed-bins.sh [PROJECTS...]     (default: 100000 1000000)
#
# For each size: the single file and 1024, 4096 and 16384 bins; round 1 claims every
# project, the monthly round claims 1 % more (new projects). Every file is signed by two
# admin Ed25519 keys and measured as conclave writes it. Prints a Markdown table (docs/pypi.md
# records it) and the raw JSON lines to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
CHANGE=${CHANGE:-1}
BINS=${BINS:-"0 1024 4096 16384"}
cargo bench --locked --bench claimed_bins --no-run >/dev/null 2>&1
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100000 1000000)
echo "Measured $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; a round claims ${CHANGE} % new projects."
echo
echo "| projects | layout | claimed | bins: each (max) / all | files signed per round | bytes signed per round | round build+sign | client, first lookup | client, after a round |"
echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|"
for n in "${sizes[@]}"; do
    for b in $BINS; do
        line=$(cargo bench --locked --bench claimed_bins --quiet -- "$n" "$b" "$CHANGE" 2>/dev/null)
        echo "$line" >&2
        python3 - "$line" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
kb = lambda x: f"{x/1000:.1f} MB" if x >= 1000 else f"{x:.0f} KB"
if r["bins"] == 0:
    print(f"| {r['projects']:,} | single file | {r['claimed_mb']:.1f} MB | — | 1 | {r['round_signed_mb']:.1f} MB | {r['round_s']:.1f} s | {kb(r['client_first_kb'])} | {kb(r['client_round_kb'])} |")
else:
    print(f"| {r['projects']:,} | {r['bins']:,} bins | {kb(r['hub_kb'])} | {r['bin_kb_mean']:.1f} KB ({r['bin_kb_max']:.1f} KB) / {r['bins_total_mb']:.1f} MB | {r['round_files']:,} | {r['round_signed_mb']:.1f} MB | {r['round_s']:.1f} s | {kb(r['client_first_kb'])} | {kb(r['client_round_kb'])} |")
PY
    done
done
