#!/usr/bin/env bash
# Argon2id speed: conclave against the reference C implementation (Debian package `argon2`),
# same parameters, same machine. An attacker guessing passphrases uses the fastest code there
# is, so conclave should be close to it (goal: within 1.2x). Prints one line per profile.
#
#   bash benches/argon2-vs-reference.sh        (RUNS=N to change the number of runs, default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v argon2 >/dev/null || { echo "installing Debian's argon2" >&2; apt-get install -y argon2 >/dev/null; }
runs=${RUNS:-5}
cargo bench --locked --bench argon2 --quiet 2>/dev/null > target/argon2-conclave.txt || \
    cargo bench --locked --bench argon2 > target/argon2-conclave.txt
ref() { # t m_log2 p
    local times=()
    for i in $(seq "$runs"); do
        local s e
        s=$(date +%s.%N)
        echo -n "benchmark passphrase" | argon2 "saltsaltsaltsalt$i" -id -t "$1" -m "$2" -p "$3" -l 32 -r >/dev/null
        e=$(date +%s.%N)
        times+=("$(echo "$e - $s" | bc -l)")
    done
    printf '%s\n' "${times[@]}" | sort -g | sed -n "$(( (runs + 1) / 2 ))p"
}
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%Y-%m-%d)"
while read -r _ name _ secs _; do
    case $name in
        rfc9106-2gib) r=$(ref 1 21 4) ;;
        rfc9106-64mib) r=$(ref 3 16 4) ;;
        *) continue ;;
    esac
    printf '%-14s conclave %6.3f s   reference C %6.3f s   ratio %.2f\n' "$name" "$secs" "$r" "$(echo "$secs / $r" | bc -l)"
done < target/argon2-conclave.txt
