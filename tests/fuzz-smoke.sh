#!/usr/bin/env bash
# A short fuzzing pass over every parser (fuzz/fuzz_targets/*), seeded from the test vectors.
#
# Installs cargo-fuzz if missing, runs each target for FUZZ_SECONDS (default 10) and fails on
# any crash, panic, timeout or out-of-memory; the input that did it is left in
# fuzz/artifacts/TARGET/. Longer campaigns: see docs/security.md.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-10}"
targets=(cjson metadata keyfile detached verify attestation optical slip39)

# cargo-fuzz passes nightly-only flags (-Zsanitizer); RUSTC_BOOTSTRAP lets the stable
# toolchain accept them. Without CARGO_CACHE_RUSTC_INFO=0 a single run without
# RUSTC_BOOTSTRAP caches a failed probe in target/.rustc_info.json and every later run fails.
export RUSTC_BOOTSTRAP=1
export CARGO_CACHE_RUSTC_INFO=0

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz (cargo install cargo-fuzz --locked)" >&2
    cargo install cargo-fuzz --locked --quiet
fi

# Seeds: real metadata, key files and signature files from the vectors, each target's own
# corpus in a scratch directory so runs do not accumulate state.
corpus=target/fuzz-corpus
rm -rf "$corpus"
for t in "${targets[@]}"; do mkdir -p "$corpus/$t"; done
n=0
small() { [ "$(stat -c %s "$1")" -le 65536 ]; }
seed() { # seed TARGET FILE
    n=$((n + 1))
    cp "$2" "$1/seed-$n"
}
while IFS= read -r -d '' f; do
    small "$f" || continue
    seed "$corpus/cjson" "$f"
    seed "$corpus/metadata" "$f"
done < <(find tests/vectors/repos tests/vectors/attacks examples -name '*.json' ! -name expected.json -print0)
# The same metadata compact and with sorted keys, the shape large roles are read in pieces in.
python3 - "$corpus/metadata" <<'PY'
import json, os, sys
d = sys.argv[1]
for name in sorted(os.listdir(d)):
    try:
        doc = json.load(open(os.path.join(d, name), encoding="utf-8"))
    except Exception:
        continue
    text = json.dumps(doc, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # the attack vectors' lone surrogates
        continue
    open(os.path.join(d, name + "-compact"), "wb").write(data)
PY
while IFS= read -r -d '' f; do
    small "$f" && seed "$corpus/keyfile" "$f"
done < <(find tests/vectors/attacks/keyfile tests/vectors/attacks/control -name 'key*.json' -print0)
while IFS= read -r -d '' f; do
    small "$f" && seed "$corpus/detached" "$f"
done < <(find tests/vectors/attacks/signature-file tests/vectors/attacks/merge tests/vectors/attacks/control -name 'sig*.json' -print0)
# attestation: records (first byte 0) and DER slot+device pairs (first byte 1, 2-byte length).
while IFS= read -r -d '' f; do
    small "$f" || continue
    n=$((n + 1))
    { printf '\0'; cat "$f"; } >"$corpus/attestation/seed-$n"
done < <(find tests/vectors/attestation/cases -name 'record.json' -print0)
for d in tests/vectors/attestation/real/*/; do
    n=$((n + 1))
    python3 - "$d" "$corpus/attestation/seed-$n" <<'PY'
import base64, struct, sys
def der(path):
    body = "".join(l for l in open(path) if not l.startswith("-----"))
    return base64.b64decode(body)
slot, device = der(sys.argv[1] + "slot.pem"), der(sys.argv[1] + "device.pem")
open(sys.argv[2], "wb").write(b"\x01" + struct.pack(">H", len(slot)) + slot + device)
PY
done
# optical: the CONCLAVE1: texts, and the same records raw (a 0 byte, then the record without
# its checksum; see fuzz_targets/optical.rs).
for f in tests/vectors/optical/*.txt; do
    seed "$corpus/optical" "$f"
    n=$((n + 1))
    python3 -c 'import base64, sys
body = open(sys.argv[1]).read().strip().split(":", 1)[1]
raw = base64.b32decode(body + "=" * (-len(body) % 8))
open(sys.argv[2], "wb").write(b"\0" + raw[:-4])' "$f" "$corpus/optical/seed-$n"
done
# slip39: each official vector's shares, one a line.
python3 - "$corpus/slip39" <<'PY'
import json, os, sys
for i, v in enumerate(json.load(open("tests/vectors/slip39/vectors.json"))):
    open(os.path.join(sys.argv[1], "vector-%d" % i), "w").write("\n".join(v[1]) + "\n")
PY
# verify takes NUL-separated files in the order fuzz_targets/verify.rs names them.
names=(1.root.json 2.root.json timestamp.json snapshot.json targets.json projects.json root.json 3.root.json)
while IFS= read -r -d '' dir; do
    n=$((n + 1))
    out="$corpus/verify/seed-$n"
    : >"$out"
    for i in "${!names[@]}"; do
        [ "$i" -gt 0 ] && printf '\0' >>"$out"
        f="$dir/${names[$i]}"
        if [ -f "$f" ] && small "$f"; then cat "$f" >>"$out"; fi
    done
done < <(find tests/vectors/repos tests/vectors/attacks -mindepth 1 -maxdepth 3 -type d \( -path '*/repos/*' -o -name repo \) -print0)

cargo fuzz build >target/fuzz-build.log 2>&1 || { tail -n 40 target/fuzz-build.log >&2; echo "FATAL: cargo fuzz build failed" >&2; exit 1; }
for t in "${targets[@]}"; do
    echo "fuzzing $t for ${seconds}s ($(find "$corpus/$t" -type f | wc -l) seeds)" >&2
    # metadata reads each input in pieces on worker threads too, and LeakSanitizer counts the
    # thread-exit bookkeeping glibc allocates for those threads (in __cxa_thread_atexit_impl)
    # as a leak; leak checking stays on for every other target.
    leaks=1
    [ "$t" = metadata ] && leaks=0
    if ! cargo fuzz run "$t" "$corpus/$t" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -detect_leaks="$leaks" >"target/fuzz-$t.log" 2>&1; then
        tail -n 60 "target/fuzz-$t.log" >&2
        echo "FATAL: fuzz target $t failed; the input is in fuzz/artifacts/$t/" >&2
        exit 1
    fi
    grep -E '^stat::number_of_executed_units' "target/fuzz-$t.log" | sed "s/^/  $t: /" >&2 || true
done
echo "fuzz smoke: every target ran ${seconds}s without a crash" >&2
