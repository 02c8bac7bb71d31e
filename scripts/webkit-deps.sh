#!/usr/bin/env bash
# Installs what tests/helpers/webkit.ts runs: WebKitGTK's MiniBrowser (shipped in
# libwebkit2gtk-4.1-0, under /usr/lib/<arch>/webkit2gtk-4.1/), a virtual X server
# for it, and the sqlite3 CLI that reads its cookie store and ITP's database.
# Idempotent: installs only the packages that are missing; run as root (or with sudo).
PACKAGES=(libwebkit2gtk-4.1-0 xvfb sqlite3)

set -euo pipefail
. "$(dirname "$0")/lib/apt.sh"

apt_need "[webkit-deps]" "${PACKAGES[@]}"

echo "[webkit-deps] installing ${need[*]}"
# No recommends: the harness needs no fonts beyond what the libraries pull in.
apt_install "${need[@]}"
echo "[webkit-deps] done"
