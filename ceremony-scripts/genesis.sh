#!/usr/bin/env bash
# Genesis from a ceremony plan: root v1, targets v1 with the PyPI (PEP 458/480) layout.
#
#   ceremony-scripts/genesis.sh WORKDIR
#
# People: a coordinator (runs the machine), three root officers (alice: derived key; bob,
# carol: key files), the same three as targets and claimed signers (key files), a witness.
# Every numbered step is read aloud by the coordinator, done, and initialled on the paper
# script by the witness. Checkpoints (CHECK) say who compares what.
#
# REHEARSAL: the passphrases are printed in this script, so the keys protect nothing. At a
# real ceremony each officer types their own passphrase at the prompt (drop --passphrase-fd).
#
# Leaves: WORKDIR/ceremony (the ceremony directory, transcript included), WORKDIR/repo (the
# signed metadata) and WORKDIR/bundle (the export). Environment: CONCLAVE (default: conclave).
set -euo pipefail

work=${1:?usage: $0 WORKDIR}
conclave=${CONCLAVE:-conclave}
mkdir -p "$work/officers"
cd "$work"

step=0
step() { step=$((step + 1)); printf '\n=== Step %d: %s\n' "$step" "$*" >&2; }
check() { printf '    CHECK (%s): %s\n' "$1" "$2" >&2; }
pass() { printf '%s passphrase for the genesis rehearsal' "$1"; }
twice() { printf '%s\n%s\n' "$1" "$1"; }

step "Before the ceremony: each officer makes their keys and hands over the PUBLIC keys"
twice "acid acorn acre acrobat acronym acting action activate" |
    "$conclave" key derive --identity rehearsal.example/root/alice --passphrase-fd 0 > officers/alice-root.pub.json
for who in bob carol; do
    twice "$(pass "$who-root")" | "$conclave" key generate -o "officers/$who-root.key" \
        --profile rfc9106-64mib --passphrase-fd 0 > "officers/$who-root.pub.json"
done
for who in alice bob carol; do
    for role in targets claimed; do
        twice "$(pass "$who-$role")" | "$conclave" key generate -o "officers/$who-$role.key" \
            --profile rfc9106-64mib --passphrase-fd 0 > "officers/$who-$role.pub.json"
    done
done
for online in timestamp snapshot recently-claimed unclaimed; do
    twice "$(pass "$online")" | "$conclave" key generate -o "officers/online-$online.key" \
        --profile rfc9106-64mib --passphrase-fd 0 > "officers/online-$online.pub.json"
done
check "each officer" "the keyid printed for your key matches your own key record"

step "The plan: written and approved before the day, printed for everyone"
{
    cat <<'PLAN'
[ceremony]
format = 1
name = "genesis rehearsal (ceremony-scripts/genesis.sh)"
rehearsal = true

[officers.alice]
name = "Alice"
[officers.bob]
name = "Bob"
[officers.carol]
name = "Carol"

[keys.alice-root]
officer = "alice"
source = "derived"
identity = "rehearsal.example/root/alice"
public_key = "officers/alice-root.pub.json"
PLAN
    for who in bob carol; do
        printf '\n[keys.%s-root]\nofficer = "%s"\nsource = "key-file"\nkey_file = "../officers/%s-root.key"\npublic_key = "officers/%s-root.pub.json"\n' "$who" "$who" "$who" "$who"
    done
    for who in alice bob carol; do
        for role in targets claimed; do
            printf '\n[keys.%s-%s]\nofficer = "%s"\nsource = "key-file"\nkey_file = "../officers/%s-%s.key"\npublic_key = "officers/%s-%s.pub.json"\n' "$who" "$role" "$who" "$who" "$role" "$who" "$role"
        done
    done
    for online in timestamp snapshot recently-claimed unclaimed; do
        printf '\n[keys.online-%s]\nsource = "online"\npublic_key = "officers/online-%s.pub.json"\n' "$online" "$online"
    done
    cat <<'PLAN'

[roles.root]
keys = ["alice-root", "bob-root", "carol-root"]
threshold = 2
expires = "365d"

[roles.targets]
keys = ["alice-targets", "bob-targets", "carol-targets"]
threshold = 2
expires = "365d"

[roles.snapshot]
keys = ["online-snapshot"]

[roles.timestamp]
keys = ["online-timestamp"]

[pypi]
bins = 256

[pypi.claimed]
keys = ["alice-claimed", "bob-claimed", "carol-claimed"]
threshold = 2
expires = "90d"

[pypi.recently-claimed]
keys = ["online-recently-claimed"]

[pypi.unclaimed]
keys = ["online-unclaimed"]
PLAN
} > plan.toml

step "Check the plan against its policy"
"$conclave" ceremony check plan.toml
check "each officer" "your keys are listed under the right roles, with your keyid"
check "witness" "no 'error:' lines; each 'warning:' line was read aloud and accepted"

step "Genesis: draft root v1 and targets v1 (PyPI layout) in a new ceremony directory"
# --allow-network: this rehearsal runs on networked machines. At a real ceremony drop it:
# genesis then refuses to run while any network interface is up.
"$conclave" ceremony genesis plan.toml -o ceremony --allow-network > /dev/null
check "coordinator" "SIGNING-TASKS.txt lists a payload SHA-256 for root and for targets; read them aloud"
cd ceremony

step "Root v1: alice and bob sign (2 of 3); each compares the PGP words aloud first"
printf '%s\n' "acid acorn acre acrobat acronym acting action activate" |
    "$conclave" sign drafts/1.root.json --derive rehearsal.example/root/alice --passphrase-fd 0 -o signatures/1.root.alice-root.sig
printf '%s\n' "$(pass bob-root)" |
    "$conclave" sign drafts/1.root.json --key ../officers/bob-root.key --passphrase-fd 0 -o signatures/1.root.bob-root.sig
check "all officers" "the PGP words each signer saw are the ones read aloud"

step "Merge root v1 (every signature checked before it goes in)"
"$conclave" merge drafts/1.root.json signatures/1.root.alice-root.sig signatures/1.root.bob-root.sig -o repository/1.root.json

step "Targets v1: bob and carol sign with their targets keys"
for who in bob carol; do
    printf '%s\n' "$(pass "$who-targets")" |
        "$conclave" sign drafts/1.targets.json --delegator repository/1.root.json \
            --key "../officers/$who-targets.key" --passphrase-fd 0 -o "signatures/1.targets.$who-targets.sig"
done
"$conclave" merge drafts/1.targets.json signatures/1.targets.*.sig --delegator repository/1.root.json -o repository/1.targets.json

step "Verify everything with the clients' rules"
"$conclave" verify repository

step "Export the bundle for the online repository"
"$conclave" export . -o ../bundle
check "witness" "read the SHA-256 of bundle/SHA256SUMS aloud and write it on the paper record"
sha256sum ../bundle/SHA256SUMS >&2

step "Close the transcript: verify the chain, print the paper record"
"$conclave" transcript verify .
"$conclave" transcript print . > ../transcript.txt
check "everyone" "the head digest on the screen equals the one on the printed record; initial every step"

cd ..
rm -rf repo && cp -r ceremony/repository repo
printf '\nGenesis complete: ceremony/ (with transcript.jsonl), repo/, bundle/.\n' >&2
