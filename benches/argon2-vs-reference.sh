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
# Prints one line per profile.
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

cargo bench --locked --bench argon2 --quiet 2>/dev/null > target/argon2-conclave.txt || \
    cargo bench --locked --bench argon2 > target/argon2-conclave.txt
ref() { # binary t m_log2 p
    local times=()
    for i in $(seq "$runs"); do
        local s e
        s=$(date +%s.%N)
        echo -n "benchmark passphrase" | "$1" "saltsaltsaltsalt$i" -id -t "$2" -m "$3" -p "$4" -l 32 -r >/dev/null
        e=$(date +%s.%N)
        times+=("$(echo "$e - $s" | bc -l)")
    done
    printf '%s\n' "${times[@]}" | sort -g | sed -n "$(( (runs + 1) / 2 ))p"
}
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%Y-%m-%d)"
while read -r _ name _ secs _; do
    case $name in
        rfc9106-2gib) args=(1 21 4) ;;
        rfc9106-64mib) args=(3 16 4) ;;
        *) continue ;;
    esac
    d=$(ref "$(command -v argon2)" "${args[@]}")
    n=$(ref "$native" "${args[@]}")
    printf '%-14s conclave %6.3f s   reference -march=native %6.3f s (ratio %.2f)   Debian reference %6.3f s (ratio %.2f)\n' \
        "$name" "$secs" "$n" "$(echo "$secs / $n" | bc -l)" "$d" "$(echo "$secs / $d" | bc -l)"
done < target/argon2-conclave.txt
