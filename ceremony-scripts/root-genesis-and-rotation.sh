#!/usr/bin/env bash
# Root genesis and a root rotation, step by step, as officers would run them.
#
#   ceremony-scripts/root-genesis-and-rotation.sh WORKDIR
#
# Three root officers: alice keeps a key file; bob and carol use passphrase-derived keys.
# Root v1 is 2-of-3. Each officer signs in a separate process; the coordinator merges and
# verifies. Then v2 replaces carol's key with dave's (a new derived key): it must be signed by
# 2 of v1's root keys AND 2 of v2's.
#
# REHEARSAL: the passphrases below are printed in this script, so the keys it makes protect
# nothing. At a real ceremony each officer types their own passphrase at the prompt (drop
# --passphrase-fd), and the key-file passphrase is never written down next to the file.
#
# Environment: CONCLAVE (the conclave binary; default: `conclave` on PATH).
set -euo pipefail

work=${1:?usage: $0 WORKDIR}
conclave=${CONCLAVE:-conclave}
mkdir -p "$work"/{keys,pub,draft,sigs,repo}
cd "$work"

step=0
step() { step=$((step + 1)); printf '\n=== Step %d: %s\n' "$step" "$*" >&2; }
check() { printf '    CHECK (%s): %s\n' "$1" "$2" >&2; }

# Rehearsal passphrases: one line per prompt, in prompt order.
alice_pass='rehearsal alice key file passphrase'
bob_pass='abacus abdomen abdominal abide abiding ability ablaze able'
carol_pass='acid acorn acre acrobat acronym acting action activate'
dave_pass='zealous zebra zen zero zesty zigzag zipfile zipping'
online_pass='rehearsal online key passphrase'
twice() { printf '%s\n%s\n' "$1" "$1"; }

step "Key generation: alice makes a key file; bob and carol derive keys"
twice "$alice_pass" | "$conclave" key generate -o keys/alice.key --profile rfc9106-64mib --passphrase-fd 0 > pub/alice.pub
twice "$bob_pass" | "$conclave" key derive --identity rehearsal.example/root/bob --passphrase-fd 0 > pub/bob.pub
twice "$carol_pass" | "$conclave" key derive --identity rehearsal.example/root/carol --passphrase-fd 0 > pub/carol.pub
check "each officer" "the fingerprint printed for your key is the one you wrote on your key record"

step "Online keys (targets, snapshot, timestamp) for the repository"
for r in targets snapshot timestamp; do
    twice "$online_pass" | "$conclave" key generate -o "keys/$r.key" --profile rfc9106-64mib --passphrase-fd 0 > "pub/$r.pub"
done

step "Draft root v1: root 2-of-3"
"$conclave" root init \
    --key root=pub/alice.pub --key root=pub/bob.pub --key root=pub/carol.pub --threshold root=2 \
    --key targets=pub/targets.pub --key snapshot=pub/snapshot.pub --key timestamp=pub/timestamp.pub \
    --expires 365d -o draft/1.root.json
check "coordinator" "the draft lists the three officers' keyids and threshold 2"

step "Each officer signs v1 in their own session"
printf '%s\n' "$alice_pass" | "$conclave" sign draft/1.root.json --key keys/alice.key --passphrase-fd 0 -o sigs/1.root.alice.sig
printf '%s\n' "$bob_pass" | "$conclave" sign draft/1.root.json --derive rehearsal.example/root/bob --passphrase-fd 0 -o sigs/1.root.bob.sig
printf '%s\n' "$carol_pass" | "$conclave" sign draft/1.root.json --derive rehearsal.example/root/carol --passphrase-fd 0 -o sigs/1.root.carol.sig
check "all officers" "the payload digest words each of you saw are the same"

step "Merge v1 and verify"
"$conclave" merge draft/1.root.json sigs/1.root.alice.sig sigs/1.root.bob.sig sigs/1.root.carol.sig -o repo/1.root.json
"$conclave" verify repo

step "Rotation: dave replaces carol"
twice "$dave_pass" | "$conclave" key derive --identity rehearsal.example/root/dave --passphrase-fd 0 > pub/dave.pub
carol_keyid=$("$conclave" key id pub/carol.pub)
"$conclave" root rotate repo/1.root.json --remove-key "root=$carol_keyid" --add-key root=pub/dave.pub -o draft/2.root.json
check "coordinator" "the changes list exactly: carol's key removed, dave's key added"

step "Who must sign v2"
"$conclave" status draft/2.root.json --previous repo/1.root.json

step "Officers sign v2: alice and bob (keys in v1 and v2), dave (new key)"
printf '%s\n' "$alice_pass" | "$conclave" sign draft/2.root.json --previous repo/1.root.json --key keys/alice.key --passphrase-fd 0 -o sigs/2.root.alice.sig
printf '%s\n' "$bob_pass" | "$conclave" sign draft/2.root.json --previous repo/1.root.json --derive rehearsal.example/root/bob --passphrase-fd 0 -o sigs/2.root.bob.sig
printf '%s\n' "$dave_pass" | "$conclave" sign draft/2.root.json --previous repo/1.root.json --derive rehearsal.example/root/dave --passphrase-fd 0 -o sigs/2.root.dave.sig

step "Merge v2 against both thresholds and verify the chain 1 -> 2"
"$conclave" merge draft/2.root.json sigs/2.root.alice.sig sigs/2.root.bob.sig sigs/2.root.dave.sig --previous repo/1.root.json -o repo/2.root.json
"$conclave" status repo/2.root.json --previous repo/1.root.json --check
"$conclave" verify repo
check "all officers" "verify reports the root chain v1 -> v2 with no problems"
printf '\nDone: %s/repo holds 1.root.json and 2.root.json.\n' "$work" >&2
