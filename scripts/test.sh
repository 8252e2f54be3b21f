#!/usr/bin/env bash
# Runs every test on a machine that has only the Rust toolchain: installs
# what the tests need where it can (tmux for the end-to-end test, groff and
# man for the man-page test, openssl, ffmpeg for the conform tests, moto's
# S3 server for the storage tests), then `cargo test --locked`. Arguments go to `cargo test`.
# Tools it cannot install are named; the tests that need them fail saying so.
set -euo pipefail
cd "$(dirname "$0")/.."

have() { command -v "$1" >/dev/null 2>&1; }
if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi

# command -> Debian package
declare -A PKG=([tmux]=tmux [groff]=groff-base [man]=man-db [openssl]=openssl [python3]=python3 [bash]=bash [ffmpeg]=ffmpeg [ffprobe]=ffmpeg)
missing=()
for tool in "${!PKG[@]}"; do
  have "$tool" || missing+=("${PKG[$tool]}")
done
if ! have pip3 && ! have pip && ! python3 -m pip --version >/dev/null 2>&1; then
  missing+=(python3-pip)
fi
if [ ${#missing[@]} -gt 0 ]; then
  if have apt-get; then
    echo "installing: ${missing[*]}" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  elif have brew; then
    echo "installing: ${missing[*]}" >&2
    brew install tmux groff openssl python ffmpeg || true
  else
    echo "warning: please install ${missing[*]}; the tests that need them will fail" >&2
  fi
fi

# moto's S3 server, for the storage tests.
if ! have moto_server; then
  echo "installing: moto[server] (pip)" >&2
  python3 -m pip install --quiet --user 'moto[server]' 2>/dev/null \
    || python3 -m pip install --quiet --user --break-system-packages 'moto[server]' \
    || echo "warning: cannot install moto[server]; run: pip install 'moto[server]'" >&2
  export PATH="$HOME/.local/bin:$PATH"
fi

cargo test --locked "$@"
