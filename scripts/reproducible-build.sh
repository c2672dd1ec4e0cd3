#!/usr/bin/env bash
# Build the release binary twice, from two copies of the committed tree in two different
# directories, and check the two binaries are bit-for-bit identical.
#
# Usage: scripts/reproducible-build.sh [--vendored] [--features yubikey] [COMMIT]   (default HEAD)
#
# --features yubikey builds the binary with the YubiKey backend (needs libpcsclite-dev and
# pkg-config): the binary for a ceremony whose officers hold YubiKeys. Its hash differs from
# the default build's; everyone must build with the same features.
#
# With --vendored the second build is the one an air-gapped machine does: from sources
# fetched with `cargo vendor --versioned-dirs`, `--offline --frozen`, with the vendor
# directory remapped to the registry path the first build saw, so the two must still match.
#
# What makes the builds independent of where and when they run:
#   --locked                  exactly the dependency versions in Cargo.lock
#   SOURCE_DATE_EPOCH         the commit time, for anything that embeds a date
#   --remap-path-prefix       the checkout directory and CARGO_HOME become fixed names, so
#                             panic locations and debug paths do not carry the build path
#   separate target dirs      nothing is shared between the two builds but the registry cache
# Prints the SHA-256 officers compare (README: "Checking the binary you are about to run").
set -euo pipefail
cd "$(dirname "$0")/.."

vendored=0
features=()
while [ $# -gt 0 ]; do
    case "$1" in
    --vendored) vendored=1; shift ;;
    --features)
        [ $# -ge 2 ] || { echo "usage: --features needs a value (yubikey)" >&2; exit 2; }
        features=(--features "$2"); shift 2 ;;
    -*) echo "unknown option $1 (see the usage at the top of $0)" >&2; exit 2 ;;
    *) break ;;
    esac
done
commit="$(git rev-parse "${1:-HEAD}")"
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct "$commit")}"
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
work="$(mktemp -d "${TMPDIR:-/tmp}/conclave-repro.XXXXXX")"
trap 'rm -rf "$work"' EXIT

build() { # build DIR [vendored] -> prints the binary's SHA-256
    local dir="$1" mode="${2:-registry}" flags registry
    mkdir -p "$dir"
    git archive --format=tar "$commit" | tar -x -C "$dir"
    flags="--remap-path-prefix=$dir=/build/conclave --remap-path-prefix=$cargo_home=/cargo"
    (
        cd "$dir"
        if [ "$mode" = vendored ]; then
            # The step done online; the tree (vendor/ included) then goes to the air-gapped
            # machine, which needs nothing but the Rust toolchain.
            mkdir -p .cargo
            cargo vendor --locked --versioned-dirs --quiet vendor >.cargo/config.toml
            # Vendored crates must appear at the path registry builds see, or panic
            # locations inside dependencies differ. The later remap wins.
            registry="$(cd "$cargo_home/registry/src" && ls -d index.crates.io-* | head -n 1)"
            flags="$flags --remap-path-prefix=$dir/vendor=/cargo/registry/src/$registry"
            RUSTFLAGS="$flags" CARGO_TARGET_DIR="$dir/target" CARGO_INCREMENTAL=0 \
                cargo build --release --frozen --quiet ${features[@]+"${features[@]}"} --bin conclave
        else
            # Not inherited from the caller: the flags are part of what is being reproduced.
            RUSTFLAGS="$flags" CARGO_TARGET_DIR="$dir/target" CARGO_INCREMENTAL=0 \
                cargo build --release --locked --quiet ${features[@]+"${features[@]}"} --bin conclave
        fi
    ) >&2
    sha256sum "$dir/target/release/conclave" | cut -d' ' -f1
}

start=$(date +%s)
echo "building $commit (SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH) in two directories..." >&2
a="$(build "$work/a")"
if [ "$vendored" = 1 ]; then
    b="$(build "$work/second/copy/of/the/tree" vendored)"
else
    b="$(build "$work/second/copy/of/the/tree")"
fi
echo "build 1: $a" >&2
echo "build 2: $b" >&2
echo "took $(( $(date +%s) - start ))s" >&2
if [ "$a" != "$b" ]; then
    echo "FAILED: the two builds differ; the binary is not reproducible" >&2
    exit 1
fi
echo "reproducible: sha256 $a  conclave ($(rustc --version), commit $commit${features[1]:+, features ${features[1]}})"
