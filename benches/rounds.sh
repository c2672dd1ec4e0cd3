#!/usr/bin/env bash
# The claim rounds as PyPI admins run them, through the command line, one process per step,
# against pinned python-tuf doing the same work, and against the machine's fastest SHA-512
# (OpenSSL's), all in one run:
#
#   bash benches/rounds.sh [N...]        (default: 10000 100000 1000000)
#
# For each N:
# - bootstrap: `pypi claim` of N requests (over min(N, 1000) distinct developer keys) into an
#   empty claimed, `sign` by admin 1, `sign` by admin 2, `merge --delegator`, `verify` of the
#   repository (root, targets, claimed);
# - monthly: the same steps for N/100 new projects, each with its own key, claimed into the
#   N already claimed (N = 1M: 10,000 new projects, as in issue 24).
# python-tuf does each round in one process (benches/rounds_python_tuf.py). The floor is
# OpenSSL's SHA-512 (Python's hashlib) over the monthly round's signed claimed file held in
# memory (median of 3), times 8: the passes Ed25519 needs for sign + sign (2 each) + merge +
# verify (2 checks each).
#
# Prints a Markdown table per N (wall time and peak RSS per step, RSS against the claimed
# file's size) and the ratios; docs/performance.md records the results. Needs the interop
# venv (bash tests/run-all.sh makes it; its hashlib is OpenSSL's) and /usr/bin/time. BIN=path runs that
# conclave instead of building the release binary. Works in a temporary directory it removes.
set -euo pipefail
cd "$(dirname "$0")/.."
py=$PWD/target/interop-venv/bin/python
script=$PWD/benches/rounds_python_tuf.py
[ -x "$py" ] || { echo "FATAL: $py missing: run bash tests/run-all.sh first" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "FATAL: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }
if [ -z "${BIN:-}" ]; then
    cargo build --locked --release --bin conclave >/dev/null 2>&1 || cargo build --locked --release --bin conclave
    BIN=$PWD/target/release/conclave
fi
c=$(realpath "$BIN")
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000 1000000)
w=$(mktemp -d /tmp/rounds.XXXXXX)
trap 'rm -rf "$w"' EXIT
cd "$w"
pass="benchmark passphrase, not a secret"
quiet() { "$@" >/dev/null 2>&1 || { echo "FATAL: $* failed" >&2; exit 1; }; }

# The keys and the trust chain above claimed (not timed).
for k in admin1 admin2 online; do
    printf '%s\n%s\n' "$pass" "$pass" |
        quiet "$c" key generate -o "$k.key" --profile rfc9106-64mib --passphrase-fd 0
    "$c" key public "$k.key" >"$k.pub"
done
quiet "$c" root init --key root=admin1.pub --key targets=admin1.pub --key snapshot=online.pub \
    --key timestamp=online.pub --expires 365d -o root.json
printf '%s\n' "$pass" | quiet "$c" sign root.json --role root --key admin1.key --passphrase-fd 0 -o root.sig
quiet "$c" merge root.json root.sig --role root -o 1.root.json
quiet "$c" pypi init --key claimed=admin1.pub --key claimed=admin2.pub --threshold claimed=2 \
    --key recently-claimed=online.pub --key unclaimed=online.pub --expires 365d -o targets.json
printf '%s\n' "$pass" | quiet "$c" sign targets.json --role targets --delegator 1.root.json \
    --key admin1.key --passphrase-fd 0 -o targets.sig
quiet "$c" merge targets.json targets.sig --role targets --delegator 1.root.json -o signed-targets.json

requests() { # N DISTINCT PREFIX OUT
    "$py" - "$@" <<'PY'
import hashlib, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
n, distinct, prefix, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
keys = []
for i in range(distinct):
    seed = hashlib.sha256(prefix.encode() + i.to_bytes(8, "little")).digest()
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    keys.append(public.public_bytes(Encoding.Raw, PublicFormat.Raw).hex())
with open(out, "w") as f:
    for i in range(n):
        f.write('{"project":"%s-%d","keys":[{"keytype":"ed25519","scheme":"ed25519",'
                '"keyval":{"public":"%s"}}],"threshold":1}\n' % (prefix, i, keys[i % distinct]))
PY
}

# step NAME COMMAND...: runs it, keeps "NAME wall rss_kib" in steps.txt.
step() {
    local name=$1
    shift
    /usr/bin/time -o time.txt -f "%e %M" "$@" >/dev/null 2>err.txt </dev/null || {
        echo "FATAL: $name failed:" >&2
        cat err.txt >&2
        exit 1
    }
    echo "$name $(cat time.txt)" >>steps.txt
}
signed_by() { # NAME DRAFT KEY SIG
    printf '%s\n' "$pass" >pass.txt
    /usr/bin/time -o time.txt -f "%e %M" "$c" sign "$2" --role claimed --delegator signed-targets.json \
        --key "$3" --passphrase-fd 3 -o "$4" >/dev/null 2>err.txt 3<pass.txt </dev/null || {
        echo "FATAL: $1 failed:" >&2
        cat err.txt >&2
        exit 1
    }
    echo "$1 $(cat time.txt)" >>steps.txt
}
round() { # ROUND REQUESTS [CURRENT]
    local r=$1 reqs=$2 current=${3:-}
    rm -rf "$r" && mkdir -p "$r/repo"
    cp 1.root.json "$r/repo/1.root.json"
    cp signed-targets.json "$r/repo/targets.json"
    step "$r pypi claim" "$c" pypi claim ${current:+--claimed "$current"} --requests "$reqs" \
        --expires 90d -o "$r/draft.json"
    signed_by "$r sign (admin 1)" "$r/draft.json" admin1.key "$r/admin1.sig"
    signed_by "$r sign (admin 2)" "$r/draft.json" admin2.key "$r/admin2.sig"
    step "$r merge --delegator" "$c" merge "$r/draft.json" "$r/admin1.sig" "$r/admin2.sig" \
        --role claimed --delegator signed-targets.json -o "$r/repo/claimed.json"
    step "$r verify" "$c" verify "$r/repo"
    rm -f "$r/draft.json" "$r/draft.json.review.txt"
}
python_round() { # ROUND REQUESTS
    /usr/bin/time -o time.txt -f "%e %M" "$py" "$script" "$1" "$2" py >/dev/null 2>err.txt || {
        echo "FATAL: python-tuf $1 failed:" >&2
        cat err.txt >&2
        exit 1
    }
    echo "$1 python-tuf $(cat time.txt)" >>steps.txt
}

echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, conclave $c"
for n in "${sizes[@]}"; do
    new=$((n / 100))
    requests "$n" $((n < 1000 ? n : 1000)) project boot.jsonl
    requests "$new" "$new" new new.jsonl
    rm -f steps.txt && rm -rf py && mkdir py
    round bootstrap boot.jsonl
    round monthly new.jsonl bootstrap/repo/claimed.json
    python_round bootstrap boot.jsonl
    python_round monthly new.jsonl
    # OpenSSL's SHA-512 (Python's hashlib is OpenSSL's) over the bytes in memory: the hash
    # alone, no reading, no process start; the median of 3.
    floor=$("$py" - monthly/repo/claimed.json <<'PY'
import hashlib, sys, time
data = open(sys.argv[1], "rb").read()
times = []
for _ in range(3):
    t = time.perf_counter()
    hashlib.sha512(data).digest()
    times.append(time.perf_counter() - t)
print(sorted(times)[1])
PY
)
    N=$n NEW=$new FLOOR=$floor BOOT=$(stat -c %s bootstrap/repo/claimed.json) \
        MONTH=$(stat -c %s monthly/repo/claimed.json) "$py" - steps.txt <<'PY'
import os, sys
rows = [l.rsplit(" ", 2) for l in open(sys.argv[1]).read().splitlines()]
n, new, floor = int(os.environ["N"]), int(os.environ["NEW"]), float(os.environ["FLOOR"])
size = {"bootstrap": int(os.environ["BOOT"]), "monthly": int(os.environ["MONTH"])}
print(f"\n## {n:,} projects (bootstrap: {n:,} requests into an empty claimed; "
      f"monthly: {new:,} new projects into {n:,})\n")
print("| round | step | wall | peak RSS | RSS / claimed file |")
print("|---|---|---|---|---|")
total = {}
for name, wall, rss in rows:
    rnd, what = name.split(" ", 1)
    wall, mib = float(wall), int(rss) / 1024
    ratio = int(rss) * 1024 / size[rnd]
    if what != "python-tuf":
        total[rnd] = total.get(rnd, 0) + wall
        print(f"| {rnd} | `{what}` | {wall:.2f} s | {mib:,.0f} MiB | {ratio:.2f}x |")
for name, wall, rss in rows:
    rnd, what = name.split(" ", 1)
    if what == "python-tuf":
        wall = float(wall)
        print(f"| {rnd} | conclave, all steps | {total[rnd]:.2f} s | | |")
        print(f"| {rnd} | python-tuf, one process | {wall:.2f} s | {int(rss) / 1024:,.0f} MiB "
              f"| {int(rss) * 1024 / size[rnd]:.2f}x |")
        print(f"| {rnd} | **python-tuf / conclave** | **{wall / total[rnd]:.1f}x** | | |")
month = {name.split(" ", 1)[1]: float(wall) for name, wall, _ in rows if name.startswith("monthly")}
four = sum(v for k, v in month.items() if k.startswith(("sign", "merge", "verify")))
mb = size["monthly"] / 1e6
print(f"\nFloor: OpenSSL's SHA-512 (hashlib) over the monthly signed claimed file ({mb:,.1f} MB) "
      f"in memory: {floor:.3f} s (median of 3, {mb / floor:,.0f} MB/s); 8 passes {8 * floor:.2f} s. "
      f"Monthly sign + sign + merge + verify: {four:.2f} s = **{four / (8 * floor):.2f}x the floor**. "
      f"Monthly claim {month['pypi claim']:.2f} s against one sign "
      f"{min(month['sign (admin 1)'], month['sign (admin 2)']):.2f} s.")
print(f"Claimed file: bootstrap {size['bootstrap'] / 1e6:,.1f} MB, monthly {mb:,.1f} MB.")
PY
done
