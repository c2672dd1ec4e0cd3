#!/usr/bin/env bash
# A root rotation planned before anyone signs: carol leaves, dave joins, and alice moves to
# a new key ("same officer, new key": she signs with both).
#
#   ceremony-scripts/rotate-root.sh WORKDIR
#
# Runs ceremony-scripts/genesis.sh first (root v1: alice, bob, carol, 2 of 3). Then the new
# plan is checked, `ceremony plan-rotation` shows feasibility and every signing task, and the
# officers sign v2: it needs 2 of v1's root keys AND 2 of v2's.
#
# REHEARSAL: passphrases are printed here; the keys protect nothing.
set -euo pipefail

work=${1:?usage: $0 WORKDIR}
conclave=${CONCLAVE:-conclave}
here=$(cd "$(dirname "$0")" && pwd)
bash "$here/genesis.sh" "$work"
cd "$work"

step=0
step() { step=$((step + 1)); printf '\n=== Rotation step %d: %s\n' "$step" "$*" >&2; }
check() { printf '    CHECK (%s): %s\n' "$1" "$2" >&2; }
pass() { printf '%s passphrase for the genesis rehearsal' "$1"; }
twice() { printf '%s\n%s\n' "$1" "$1"; }

step "New keys: dave joins; alice makes a new key file"
for k in dave-root alice-root-2; do
    twice "$(pass "$k")" | "$conclave" key generate -o "officers/$k.key" \
        --profile rfc9106-64mib --passphrase-fd 0 > "officers/$k.pub.json"
done

step "The rotation plan: the genesis plan with the new root key set"
# alice's old key and carol's key stay listed, retired, so conclave knows who holds them.
sed -e 's/^keys = \["alice-root", "bob-root", "carol-root"\]/keys = ["alice-root-2", "bob-root", "dave-root"]/' \
    -e 's/^name = "genesis rehearsal (ceremony-scripts\/genesis.sh)"/name = "root rotation rehearsal"/' \
    plan.toml > plan-v2.toml
cat >> plan-v2.toml <<'PLAN'

[officers.dave]
name = "Dave"

[keys.dave-root]
officer = "dave"
source = "key-file"
key_file = "../officers/dave-root.key"
public_key = "officers/dave-root.pub.json"

[keys.alice-root-2]
officer = "alice"
source = "key-file"
key_file = "../officers/alice-root-2.key"
public_key = "officers/alice-root-2.pub.json"
PLAN
python3 - plan-v2.toml <<'PY'
import sys, re
p = sys.argv[1]; s = open(p).read()
for k in ("alice-root", "carol-root"):
    s = re.sub(r'(\[keys\.%s\]\n(?:[^\[\n][^\n]*\n)*)' % re.escape(k), lambda m: m.group(1) + "retired = true\n", s, count=1)
open(p, "w").write(s)
PY
"$conclave" ceremony check plan-v2.toml

step "Plan the rotation before anyone signs"
"$conclave" ceremony plan-rotation --root ceremony/repository/1.root.json --plan plan-v2.toml -o ceremony/drafts/2.root.json
check "everyone" "the report says feasible; alice has two tasks (old key and new key)"

step "Signing: alice (old key and new key), bob, dave"
cd ceremony
printf '%s\n' "acid acorn acre acrobat acronym acting action activate" |
    "$conclave" sign drafts/2.root.json --previous repository/1.root.json \
        --derive rehearsal.example/root/alice --passphrase-fd 0 -o signatures/2.root.alice-root.sig
for k in alice-root-2 bob-root dave-root; do
    printf '%s\n' "$(pass "$k")" |
        "$conclave" sign drafts/2.root.json --previous repository/1.root.json \
            --key "../officers/$k.key" --passphrase-fd 0 -o "signatures/2.root.$k.sig"
done
"$conclave" status drafts/2.root.json --previous repository/1.root.json

step "Merge v2 against both thresholds; verify the chain v1 -> v2"
"$conclave" merge drafts/2.root.json signatures/2.root.*.sig --previous repository/1.root.json -o repository/2.root.json
"$conclave" verify repository
"$conclave" transcript verify .
cd ..
rm -rf repo && cp -r ceremony/repository repo
printf '\nRotation complete: repo/ holds root v1 and v2.\n' >&2
