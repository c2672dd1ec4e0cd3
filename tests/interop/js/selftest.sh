#!/bin/sh
# Self-test for verify.mjs: builds fixture repositories with make_fixture.mjs
# (independent of tuf-js) and checks that verify.mjs accepts the good ones
# and rejects tampered or unreachable ones.
# usage: sh tests/interop/js/selftest.sh
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cd "$here"

if [ ! -d node_modules/tuf-js ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund >/dev/null
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/conclave-tufjs-selftest.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

target=demo/demo-1.0.tar.gz
failures=0
n=0

# fixture NAME [make_fixture options...]
fixture() {
    name=$1
    shift
    node make_fixture.mjs "$work/$name" "$@" >/dev/null
}

# expect ok|fail DESCRIPTION FIXTURE [extra verify.mjs args...]
expect() {
    want=$1 desc=$2 fx=$3
    shift 3
    n=$((n + 1))
    if out=$(node verify.mjs "$work/$fx/metadata" --target "$target" "$@" 2>&1); then got=ok; else got=fail; fi
    if [ "$got" = "$want" ]; then
        echo "pass: $desc -> $(printf '%s\n' "$out" | tail -n 1)"
    else
        echo "FAIL: $desc: expected $want, got $got"
        printf '%s\n' "$out" | sed 's/^/    /'
        failures=$((failures + 1))
    fi
}

# flip_hex FILE — change the first hex digit of the first signature.
flip_sig() {
    node -e '
        const fs = require("fs");
        const f = process.argv[1];
        const md = JSON.parse(fs.readFileSync(f, "utf8"));
        const s = md.signatures[0].sig;
        md.signatures[0].sig = (s[0] === "0" ? "1" : "0") + s.slice(1);
        fs.writeFileSync(f, JSON.stringify(md, null, 1) + "\n");
    ' "$1"
}

# --- good repositories --------------------------------------------------------
fixture ed25519
expect ok "ed25519 keys, listed delegations, root rotated 1->2" ed25519
expect ok "artifact bytes match the demo role's length and sha256" ed25519 --artifacts "$work/ed25519/artifacts"

fixture ecdsa --key-type ecdsa
expect ok "ecdsa/ecdsa-sha2-nistp256 PEM keys" ecdsa

fixture succinct --layout succinct
expect ok "TAP 15 succinct_roles bins under claimed" succinct

fixture oddname --demo-role 'demo proj+x/(1)'
expect ok "role name needing URL-encoding" oddname

# --- tampered or unreachable ------------------------------------------------------
cp -R "$work/ed25519" "$work/badsig"
flip_sig "$work/badsig/metadata/1.demo.json"
expect fail "flipped signature on the demo role" badsig

cp -R "$work/ed25519" "$work/badroot"
flip_sig "$work/badroot/metadata/2.root.json"
expect fail "flipped old-root signature on root v2" badroot

cp -R "$work/ed25519" "$work/badlen"
sed 's/"length": 27/"length": 28/' "$work/ed25519/metadata/1.demo.json" >"$work/badlen/metadata/1.demo.json"
if cmp -s "$work/ed25519/metadata/1.demo.json" "$work/badlen/metadata/1.demo.json"; then
    echo "FAIL: could not tamper with the target length"
    failures=$((failures + 1))
fi
expect fail "target length changed after signing" badlen

cp -R "$work/ed25519" "$work/badart"
printf 'X' >>"$work/badart/artifacts/$target"
expect fail "artifact bytes differ from the signed hash" badart --artifacts "$work/badart/artifacts"

cp -R "$work/ed25519" "$work/nosnap"
rm "$work/nosnap/metadata/1.snapshot.json"
expect fail "snapshot missing" nosnap

fixture expired --expires 2020-01-01T00:00:00Z
expect fail "everything expired" expired

fixture star --claimed-paths '["*"]'
expect fail 'claimed paths ["*"] does not match demo/... (pattern "*" does not cross "/")' star

fixture noterm --omit-terminating
expect fail "delegation without terminating is rejected by tuf-js" noterm

n=$((n + 1))
if node verify.mjs "$work/ed25519/metadata" --target demo/missing-1.0.tar.gz >/dev/null 2>&1; then
    echo "FAIL: unknown target accepted"
    failures=$((failures + 1))
else
    echo "pass: unknown target is an error"
fi

if [ "$failures" -ne 0 ]; then
    echo "selftest: $failures of $n checks failed"
    exit 1
fi
echo "selftest: all $n checks passed"
