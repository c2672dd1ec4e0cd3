#!/usr/bin/env bash
# The whole conclave test suite, from a fresh machine.
#
# Installs what the tests need (a Python venv with pinned python-tuf, tuf-js from npm, the tough
# checker from its own Cargo.lock), then
# runs formatting and lint checks and every Rust test. Anything missing fails the run, loudly:
# no test is ever skipped because a dependency is absent.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n==> %s\n' "$*" >&2; }
die() { printf '\nFATAL: %s\n' "$*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' is not installed: $2"; }

need cargo "install the Rust toolchain (rustup)"
need python3 "install Python 3.11+ with the venv module"
need node "install Node.js 20+ (it runs the tuf-js interop client)"
need npm "install npm (it installs the pinned tuf-js)"

say "Python venv with pinned python-tuf (tests/interop/python/requirements.txt)"
venv=target/interop-venv
req=tests/interop/python/requirements.txt
if ! [ -x "$venv/bin/python" ] || ! cmp -s "$req" "$venv/.installed-requirements"; then
    rm -rf "$venv"
    python3 -m venv "$venv" || die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$req" \
        || die "could not install the pinned Python packages from $req"
    cp "$req" "$venv/.installed-requirements"
fi
"$venv/bin/python" -c 'import tuf, securesystemslib, cryptography, shamir_mnemonic; print("python-tuf", tuf.__version__)' \
    || die "the interop venv cannot import python-tuf"
export CONCLAVE_INTEROP_PYTHON="$PWD/$venv/bin/python"

say "tuf-js (tests/interop/js/package-lock.json)"
(cd tests/interop/js && npm ci --no-audit --no-fund --loglevel=error) \
    || die "npm ci failed in tests/interop/js"

say "tuf-js verifier self-test (accepts good fixtures, rejects tampered ones)"
sh tests/interop/js/selftest.sh || die "the tuf-js verifier self-test failed"

# --- tough (issue 21): the third client, built once from its own Cargo.lock ----------------
say "tough checker (tests/interop/tough: tough 0.24.0, own Cargo.lock) into target/tough-checker"
cargo build --locked --quiet --manifest-path tests/interop/tough/Cargo.toml \
    --target-dir target/tough-checker \
    || die "could not build the tough checker in tests/interop/tough (tough 0.24.0 from crates.io; aws-lc-sys needs a C compiler)"
export CONCLAVE_TOUGH_CHECKER="$PWD/target/tough-checker/debug/tough-check"
[ -x "$CONCLAVE_TOUGH_CHECKER" ] || die "the tough checker was not built at $CONCLAVE_TOUGH_CHECKER"
# --- end of tough ---------------------------------------------------------------------------

# --- Hardware tokens (issue 4, PKCS#11): SoftHSM2 for tests/hsm.rs ---------------------------
say "SoftHSM2 (PKCS#11 token for tests/hsm.rs)"
if ! command -v softhsm2-util >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 \
        || die "softhsm2-util is missing and there is no apt-get: install SoftHSM2 (Debian package softhsm2)"
    if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq || die "apt-get update failed (needed to install softhsm2)"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq softhsm2 >/dev/null \
        || die "could not install softhsm2 with apt-get"
fi
softhsm2-util --version >/dev/null || die "softhsm2-util is installed but does not run"

# YubiKey PIV (tests/yubikey.rs): the real PC/SC stack with an emulated card. pcscd and
# vsmartcard's vpcd reader driver at run time; libpcsclite-dev + pkg-config to build the
# `yubikey` feature. The tests start pcscd themselves (`pcscd --foreground --auto-exit`) when
# it is not running, and fail loudly when any of this is missing. ykcs11 is Yubico's PKCS#11
# module (tests/yubikey.rs signs through it too: `sign --pkcs11 ...;module-path=libykcs11.so`).
say "pcscd, vsmartcard-vpcd, ykcs11, libpcsclite-dev, pkg-config (YubiKey tests, --features yubikey)"
yk_pkgs=""
command -v pcscd >/dev/null 2>&1 || yk_pkgs="$yk_pkgs pcscd"
[ -e /usr/lib/pcsc/drivers/serial/libifdvpcd.so ] || yk_pkgs="$yk_pkgs vsmartcard-vpcd"
[ -e /usr/lib/x86_64-linux-gnu/libykcs11.so ] || yk_pkgs="$yk_pkgs ykcs11"
pkg-config --exists libpcsclite 2>/dev/null || yk_pkgs="$yk_pkgs libpcsclite-dev"
command -v pkg-config >/dev/null 2>&1 || yk_pkgs="$yk_pkgs pkg-config"
if [ -n "$yk_pkgs" ]; then
    command -v apt-get >/dev/null 2>&1 \
        || die "missing:$yk_pkgs and there is no apt-get: install them (Debian package names)"
    if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq || die "apt-get update failed (needed to install$yk_pkgs)"
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $yk_pkgs >/dev/null \
        || die "could not install$yk_pkgs with apt-get"
fi
command -v pcscd >/dev/null 2>&1 || die "pcscd is not installed"
[ -e /usr/lib/pcsc/drivers/serial/libifdvpcd.so ] || die "vsmartcard-vpcd's driver is missing"
[ -e /usr/lib/x86_64-linux-gnu/libykcs11.so ] || die "Yubico's ykcs11 module is missing (Debian package ykcs11)"
pkg-config --exists libpcsclite || die "libpcsclite-dev is not visible to pkg-config"
# --- end of hardware tokens -----------------------------------------------------------------

# --- A real terminal (issue 19): tests/reprompt.rs types at conclave's prompts in a
# pseudo-terminal made by util-linux `script` (Debian package bsdutils).
say "script (util-linux; pseudo-terminal for tests/reprompt.rs)"
if ! command -v script >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 \
        || die "script is missing and there is no apt-get: install util-linux's script (Debian package bsdutils)"
    if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq || die "apt-get update failed (needed to install bsdutils)"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq bsdutils >/dev/null \
        || die "could not install bsdutils with apt-get"
fi
script --version >/dev/null 2>&1 || die "script is installed but does not run"
# --- end of a real terminal -----------------------------------------------------------------
# --- RSTUF (issue 20): the real worker and API, Redis and PostgreSQL for tests/rstuf.rs ------
say "redis-server, postgresql (tests/rstuf.rs starts them on loopback itself)"
rs_pkgs=""
command -v redis-server >/dev/null 2>&1 || rs_pkgs="$rs_pkgs redis-server"
command -v redis-cli >/dev/null 2>&1 || rs_pkgs="$rs_pkgs redis-tools"
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || rs_pkgs="$rs_pkgs postgresql"
if [ -n "$rs_pkgs" ]; then
    command -v apt-get >/dev/null 2>&1 \
        || die "missing:$rs_pkgs and there is no apt-get: install them (Debian package names)"
    if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq || die "apt-get update failed (needed to install$rs_pkgs)"
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $rs_pkgs >/dev/null \
        || die "could not install$rs_pkgs with apt-get"
fi
command -v redis-server >/dev/null 2>&1 || die "redis-server is not installed"
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || die "PostgreSQL's initdb is missing"
say "RSTUF venv (target/rstuf-venv: worker and API Pipfile.lock pins, sources checked by SHA256SUMS)"
bash tests/interop/rstuf/setup.sh || die "could not set up RSTUF's worker and API"
export CONCLAVE_RSTUF_PYTHON="$PWD/target/rstuf-venv/bin/python"
# --- end of RSTUF ---------------------------------------------------------------------------

# --- Hardening (issue 6): fuzz smoke and supply-chain policy -------------------------------
say "fuzz smoke: every parser fuzzed briefly (tests/fuzz-smoke.sh)"
bash tests/fuzz-smoke.sh || die "fuzzing found a crash (input in fuzz/artifacts/)"

say "cargo deny check bans licenses sources (deny.toml; advisories need GitHub: docs/dependencies.md)"
if ! cargo deny --version >/dev/null 2>&1; then
    cargo install cargo-deny --locked --quiet || die "could not install cargo-deny"
fi
cargo deny --locked check bans licenses sources \
    || die "a dependency breaks the policy in deny.toml (see docs/dependencies.md)"
# --- end of hardening -----------------------------------------------------------------------

say "cargo fmt --check"
cargo fmt --all -- --check || die "the tree is not formatted: run 'cargo fmt --all'"

say "cargo clippy --all-targets -- -D warnings (default features, then --features yubikey)"
cargo clippy --locked --all-targets --quiet -- -D warnings
cargo clippy --locked --all-targets --features yubikey --quiet -- -D warnings

say "cargo test (unit, CLI, vectors, interop with python-tuf and tuf-js)"
# --features yubikey adds the YubiKey backend and tests/yubikey.rs (emulated card over pcscd).
cargo test --locked --all-targets --features yubikey
cargo test --locked --doc
