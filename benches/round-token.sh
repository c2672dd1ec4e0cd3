#!/usr/bin/env bash
# A claim round on a token (issue 22): `pypi init --claimed-bins N` (default 4096) writes the
# round (claimed + N bins), and one admin signs the whole directory with one `conclave sign
# --pkcs11` on SoftHSM2 (one PIN entry for the round). Prints conclave's own summary line
# ("Signed N drafts in T (R signatures per second)") and the command's wall time, for an
# ECDSA P-256 key and an Ed25519 key.
#
#   bash benches/round-token.sh [BINS]        # CONCLAVE=path/to/conclave (default target/release)
#
# With PIV=path/to/piv_emulator (`cargo build --features yubikey --example piv_emulator`, and a
# conclave built with --features yubikey) the same round is also signed with `--yubikey` on the
# emulated PIV card over pcscd + vpcd (pcscd must be running with vsmartcard's vpcd reader and
# its first port free). The emulator answers at once: this measures conclave, libpcsclite and
# pcscd per signature, not a YubiKey's own signing time.
#
# Needs softhsm2 (softhsm2-util). A benchmark, not a test: nothing is asserted about speed.
set -euo pipefail
bins="${1:-4096}"
root="$(cd "$(dirname "$0")/.." && pwd)"
conclave="${CONCLAVE:-$root/target/release/conclave}"
[ -x "$conclave" ] || { echo "no conclave at $conclave: cargo build --release (or set CONCLAVE)" >&2; exit 2; }
module=/usr/lib/softhsm/libsofthsm2.so
[ -e "$module" ] || { echo "SoftHSM2 is missing: apt-get install softhsm2" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rc=$?; [ $rc -eq 0 ] || tail -5 "$work/log" >&2; rm -rf "$work"' EXIT
cd "$work"
mkdir tokens repo
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$work" > softhsm2.conf
export SOFTHSM2_CONF="$work/softhsm2.conf"
pin=123456
softhsm2-util --init-token --free --label bench --so-pin 12345678 --pin "$pin" >/dev/null
pass="round benchmark passphrase, not a secret"
c() { "$conclave" "$@"; }
for k in officer online; do
    printf '%s\n%s\n' "$pass" "$pass" | c key generate -o "$k.key" --profile rfc9106-64mib --passphrase-fd 0 > "$k.pub" 2>>log
done
uri() { echo "pkcs11:token=bench;object=$1?module-path=$module"; }
printf '%s\n' "$pin" | c key generate --pkcs11 "$(uri admin-p256)" --type ecdsa-p256 --passphrase-fd 0 > admin-p256.pub 2>>log
printf '%s\n' "$pin" | c key generate --pkcs11 "$(uri admin-ed25519)" --type ed25519 --passphrase-fd 0 > admin-ed25519.pub 2>>log
claimed_keys=(--key claimed=admin-p256.pub --key claimed=admin-ed25519.pub)
if [ -n "${PIV:-}" ]; then
    "$PIV" --serial 22334455 --pin 314159 >>log 2>&1 &
    piv_pid=$!
    trap 'rc=$?; kill "$piv_pid" 2>/dev/null; [ $rc -eq 0 ] || tail -5 "$work/log" >&2; rm -rf "$work"' EXIT
    sleep 2
    printf '314159\n' | c key generate --yubikey 22334455:9c --touch-policy "${PIV_TOUCH:-cached}" -o admin-piv.pub \
        --passphrase-fd 0 >/dev/null 2>>log
    claimed_keys+=(--key claimed=admin-piv.pub)
fi
c root init --key root=officer.pub --key targets=officer.pub --key snapshot=online.pub \
    --key timestamp=online.pub --expires 365d -o root-draft.json 2>>log
printf '%s\n' "$pass" | c sign root-draft.json --key officer.key --passphrase-fd 0 -o root.sig 2>>log
c merge root-draft.json root.sig -o repo/1.root.json 2>>log
c pypi init "${claimed_keys[@]}" --threshold claimed=2 \
    --key recently-claimed=online.pub --key unclaimed=online.pub --expires 365d \
    --bins 16 --claimed-bins "$bins" -o targets-draft.json 2>>log
ctx=(--role targets --delegator repo/1.root.json)
printf '%s\n' "$pass" | c sign targets-draft.json "${ctx[@]}" --key officer.key --passphrase-fd 0 -o t.sig 2>>log
c merge targets-draft.json t.sig "${ctx[@]}" -o repo/1.targets.json 2>>log
drafts=$(ls claimed | wc -l)
echo "| key (SoftHSM2 $(softhsm2-util --version)) | drafts | conclave's summary | wall time |"
echo "|---|---|---|---|"
for key in p256 ed25519; do
    start=$(date +%s.%N)
    out=$(printf '%s\n' "$pin" | c sign claimed --delegator repo/1.targets.json \
        --pkcs11 "$(uri "admin-$key")" --passphrase-fd 0 -o "sigs-$key" 2>&1)
    end=$(date +%s.%N)
    summary=$(printf '%s\n' "$out" | grep -o 'Signed [0-9]* drafts in .*' | tail -1)
    [ -n "$summary" ] || { printf '%s\n' "$out" >&2; echo "no summary line" >&2; exit 1; }
    printf '| %s | %s | %s | %.1f s |\n' "$key" "$drafts" "$summary" "$(echo "$end - $start" | bc)"
done
if [ -n "${PIV:-}" ]; then
    start=$(date +%s.%N)
    out=$(printf '314159\n' | c sign claimed --delegator repo/1.targets.json \
        --yubikey 22334455:9c --passphrase-fd 0 -o sigs-piv 2>&1)
    end=$(date +%s.%N)
    summary=$(printf '%s\n' "$out" | grep -o 'Signed [0-9]* drafts in .*' | tail -1)
    [ -n "$summary" ] || { printf '%s\n' "$out" >&2; echo "no summary line" >&2; exit 1; }
    printf '| PIV P-256, emulated card over pcscd (--yubikey) | %s | %s | %.1f s |\n' "$drafts" "$summary" "$(echo "$end - $start" | bc)"
fi
