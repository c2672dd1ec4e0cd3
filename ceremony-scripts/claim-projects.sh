#!/usr/bin/env bash
# A PEP 480 claim round: PyPI admins move a batch of projects into claimed, offline.
#
#   ceremony-scripts/claim-projects.sh WORKDIR
#
# Runs ceremony-scripts/genesis.sh first (root, targets with claimed, recently-claimed and
# unclaimed), then: the batch of claim requests arrives (JSON Lines, one project per line, each
# with its developers' public keys), is checked line by line, reviewed, drafted as claimed v1,
# signed by two of the three admins' claimed keys, merged against targets, verified.
#
# REHEARSAL: passphrases are printed here; the keys protect nothing.
set -euo pipefail

work=${1:?usage: $0 WORKDIR}
conclave=${CONCLAVE:-conclave}
here=$(cd "$(dirname "$0")" && pwd)
bash "$here/genesis.sh" "$work"
cd "$work"

step=0
step() { step=$((step + 1)); printf '\n=== Claim step %d: %s\n' "$step" "$*" >&2; }
check() { printf '    CHECK (%s): %s\n' "$1" "$2" >&2; }
pass() { printf '%s passphrase for the genesis rehearsal' "$1"; }
twice() { printf '%s\n%s\n' "$1" "$1"; }

step "The developers' public keys arrive with the batch (normally from Warehouse)"
mkdir -p developers
: > ceremony/claims-batch-1.jsonl
for p in sampleproject Requests numpy; do
    twice "$(pass "dev-$p")" | "$conclave" key generate -o "developers/$p.key" \
        --profile rfc9106-64mib --passphrase-fd 0 > "developers/$p.pub.json"
    printf '{"project": "%s", "keys": [%s], "threshold": 1}\n' "$p" \
        "$(tr -d '\n' < "developers/$p.pub.json")" >> ceremony/claims-batch-1.jsonl
done
check "admins" "the batch file's SHA-256 equals the one announced by the online side"
sha256sum ceremony/claims-batch-1.jsonl >&2

step "A bad batch is refused line by line, and nothing is written"
printf '{"project": "ok-project", "keys": [], "threshold": 1}\nnot json\n' > ceremony/bad-batch.jsonl
if "$conclave" pypi claim --requests ceremony/bad-batch.jsonl -o ceremony/drafts/never.json; then
    echo "a bad batch was accepted" >&2; exit 1
fi
test ! -e ceremony/drafts/never.json
check "admins" "each bad line was reported with its number"

step "Draft claimed v1 from the batch; read the review (projects and keys added)"
"$conclave" pypi claim --requests ceremony/claims-batch-1.jsonl --expires 90d -o ceremony/drafts/1.claimed.json
check "admins" "the review lists exactly the projects of the batch (names normalised per PEP 503)"

step "Two admins sign claimed v1 (2 of 3), each comparing the PGP words aloud"
cd ceremony
for who in alice carol; do
    printf '%s\n' "$(pass "$who-claimed")" |
        "$conclave" sign drafts/1.claimed.json --delegator repository/1.targets.json \
            --key "../officers/$who-claimed.key" --passphrase-fd 0 -o "signatures/1.claimed.$who-claimed.sig"
done
"$conclave" status drafts/1.claimed.json --delegator repository/1.targets.json

step "Merge claimed v1 against targets' delegation, verify"
"$conclave" merge drafts/1.claimed.json signatures/1.claimed.*.sig --delegator repository/1.targets.json -o repository/1.claimed.json
"$conclave" verify repository
"$conclave" transcript verify .
cd ..
rm -rf repo && cp -r ceremony/repository repo
printf '\nClaim round complete: repo/1.claimed.json delegates 3 projects.\n' >&2
