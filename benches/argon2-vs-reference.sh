#!/usr/bin/env bash
# Argon2id speed: conclave against the reference C implementation, same parameters, same
# machine. An attacker guessing passphrases uses the fastest code there is, so conclave should
# be close to it (goal: within 1.2x). Two builds of the reference are timed:
#   - Debian's package `argon2` (built for baseline x86-64: SSE only), installed with apt-get
#     if missing;
#   - the same reference source built here with `-march=native` (AVX2 where the CPU has it),
#     the fastest Argon2id on the machine. Its source is the copy of the PHC reference that
#     the PyPI sdist of argon2-cffi-bindings ships (pinned below by version and SHA-256),
#     because package registries are what a build machine of this kind can reach.
# The three are run in turn, one derivation each, RUNS times, and timed alike (whole
# processes); prints one line per profile with the medians and the ratios.
#
#   bash benches/argon2-vs-reference.sh        (RUNS=N to change the number of runs, default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v argon2 >/dev/null || { echo "installing Debian's argon2" >&2; apt-get install -y argon2 >/dev/null; }
runs=${RUNS:-5}

SDIST=argon2_cffi_bindings-26.2.0.tar.gz
SDIST_SHA256=f21ab89bb9850f32b9ca038d9961424bb0d3669d579cbbbfed068cffa6fc0643
native=target/argon2-reference-native/argon2
if [ ! -x "$native" ]; then
    echo "building the reference implementation with -march=native (once)" >&2
    work=target/argon2-reference-native
    rm -rf "$work" && mkdir -p "$work"
    python3 - "$work/$SDIST" "$SDIST_SHA256" <<'PY'
import hashlib, json, sys, urllib.parse, urllib.request
dest, want = sys.argv[1], sys.argv[2]
index = "https://pypi.org/pypi/argon2-cffi-bindings/json"
with urllib.request.urlopen(index, timeout=60) as r:
    meta = json.load(r)
url = next(u["url"] for u in meta["releases"]["26.2.0"] if u["packagetype"] == "sdist")
with urllib.request.urlopen(urllib.parse.urljoin(index, url), timeout=120) as r:
    data = r.read()
got = hashlib.sha256(data).hexdigest()
if got != want:
    sys.exit(f"{dest}: SHA-256 {got}, expected {want}: not building from it")
open(dest, "wb").write(data)
PY
    tar -xzf "$work/$SDIST" -C "$work"
    make -s -C "$work"/argon2_cffi_bindings-26.2.0/extras/libargon2 OPTTARGET=native argon2 >/dev/null
    cp "$work"/argon2_cffi_bindings-26.2.0/extras/libargon2/argon2 "$native"
fi

# conclave's benchmark binary, built once; each of its runs below is one derivation.
cargo bench --locked --bench argon2 --no-run --quiet 2>/dev/null || cargo bench --locked --bench argon2 --no-run
bench=$(cargo bench --locked --bench argon2 --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "argon2" and m.get("executable"):
        print(m["executable"])')
[ -x "$bench" ] || { echo "could not find the argon2 benchmark binary" >&2; exit 1; }

seconds() { # command...: wall time of one run, in seconds
    local s e
    s=$(date +%s.%N)
    "$@" >/dev/null
    e=$(date +%s.%N)
    echo "$e - $s" | bc -l
}
ref() { # binary salt t m_log2 p
    echo -n "benchmark passphrase" | "$1" "$2" -id -t "$3" -m "$4" -p "$5" -l 32 -r
}
median() { sort -g | sed -n "$(( (runs + 1) / 2 ))p"; }
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%Y-%m-%dT%H:%MZ); $runs runs each, alternated"
for name in rfc9106-2gib rfc9106-64mib; do
    case $name in
        rfc9106-2gib) args=(1 21 4) ;;
        rfc9106-64mib) args=(3 16 4) ;;
    esac
    c=() n=() d=()
    # One run of each in turn: a slow minute on a shared machine slows all three alike. Each
    # is timed the same way, as a whole process (start-up included, a few milliseconds).
    for i in $(seq "$runs"); do
        c+=("$(seconds "$bench" "$name")")
        n+=("$(seconds ref "$native" "saltsaltsaltsalt$i" "${args[@]}")")
        d+=("$(seconds ref "$(command -v argon2)" "saltsaltsaltsalt$i" "${args[@]}")")
    done
    cm=$(printf '%s\n' "${c[@]}" | median)
    nm=$(printf '%s\n' "${n[@]}" | median)
    dm=$(printf '%s\n' "${d[@]}" | median)
    printf '%-14s conclave %6.3f s   reference -march=native %6.3f s (ratio %.2f)   Debian reference %6.3f s (ratio %.2f)\n' \
        "$name" "$cm" "$nm" "$(echo "$cm / $nm" | bc -l)" "$dm" "$(echo "$cm / $dm" | bc -l)"
done
