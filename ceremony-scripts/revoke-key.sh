#!/usr/bin/env bash
# Revoking a PyPI admin's compromised claimed key.
#
#   ceremony-scripts/revoke-key.sh WORKDIR
#
# Runs ceremony-scripts/claim-projects.sh first (root v1: alice, bob, carol, 2 of 3; targets;
# claimed v1 with three projects, signed by alice and carol). Then alice reports that her
# claimed key file was copied. `conclave revoke` shows every role that trusts the key, drafts
# the new versions without it (targets v2, and claimed v2 because its signatures no longer meet
# the threshold without alice's), and lists who must sign; the remaining officers sign; the
# result verifies and the revoked key can no longer sign. (A root key is revoked the same way:
# see `conclave ceremony rehearse`, which revokes bob's root key.)
#
# REHEARSAL: passphrases are printed here; the keys protect nothing.
set -euo pipefail

work=${1:?usage: $0 WORKDIR}
conclave=${CONCLAVE:-conclave}
here=$(cd "$(dirname "$0")" && pwd)
bash "$here/claim-projects.sh" "$work"
cd "$work"

step=0
step() { step=$((step + 1)); printf '\n=== Revocation step %d: %s\n' "$step" "$*" >&2; }
check() { printf '    CHECK (%s): %s\n' "$1" "$2" >&2; }
pass() { printf '%s passphrase for the genesis rehearsal' "$1"; }

cd ceremony
"$conclave" transcript note . --step "incident: alice reports her claimed key file was copied" --officer alice

step "Blast radius of alice's claimed key (dry run: nothing is written)"
alice_claimed=$("$conclave" key id ../officers/alice-claimed.pub.json)
"$conclave" revoke "$alice_claimed" --repo repository --dry-run
check "alice" "the keyid read aloud (groups and words) is the key on her key record"

step "Draft the new versions without it"
"$conclave" revoke "$alice_claimed" --repo repository -o revoke-alice-claimed
check "everyone" "the plan lists targets (claimed's keys) and who must sign each draft"

step "targets v2 (claimed delegation without alice's key): bob and carol sign with targets keys"
for who in bob carol; do
    printf '%s\n' "$(pass "$who-targets")" |
        "$conclave" sign revoke-alice-claimed/2.targets.json --delegator repository/1.root.json \
            --key "../officers/$who-targets.key" --passphrase-fd 0 -o "signatures/2.targets.$who-targets.sig"
done
"$conclave" merge revoke-alice-claimed/2.targets.json signatures/2.targets.*.sig \
    --delegator repository/1.root.json -o revoke-alice-claimed/2.targets.json
if [ -e revoke-alice-claimed/2.claimed.json ]; then
    # claimed was signed by alice and carol: with alice's key gone it is re-issued, signed by
    # the remaining admins.
    for who in bob carol; do
        printf '%s\n' "$(pass "$who-claimed")" |
            "$conclave" sign revoke-alice-claimed/2.claimed.json --delegator revoke-alice-claimed/2.targets.json \
                --key "../officers/$who-claimed.key" --passphrase-fd 0 -o "signatures/2.claimed.$who-claimed.sig"
    done
    "$conclave" merge revoke-alice-claimed/2.claimed.json signatures/2.claimed.*.sig \
        --delegator revoke-alice-claimed/2.targets.json -o revoke-alice-claimed/2.claimed.json
fi

step "A signature by the revoked key no longer counts"
if printf '%s\n' "$(pass alice-claimed)" |
    "$conclave" sign revoke-alice-claimed/2.claimed.json --delegator revoke-alice-claimed/2.targets.json \
        --key ../officers/alice-claimed.key --passphrase-fd 0 -o signatures/attacker.sig 2>/dev/null; then
    echo "the revoked key was allowed to sign" >&2; exit 1
fi
check "witness" "sign refused the revoked key"

step "Verify the repository after the revocation"
"$conclave" verify revoke-alice-claimed
"$conclave" transcript verify .
cd ..
rm -rf repo && mkdir repo && cp ceremony/revoke-alice-claimed/*.json repo/
printf '\nRevocation complete: repo/ is the repository after the revocation.\n' >&2
