#!/usr/bin/env bash
# Installs the Debian packages HEPML builds and tests with, or, when not root, prints the exact
# apt-get line and fails, so that a fresh clone on Debian needs nothing but `make demo`/`make test`.
set -euo pipefail
packages=(
  libopenblas-dev liblapacke-dev   # BLAS GEMM and LAPACK (PCA)
  zlib1g-dev libzstd-dev liblz4-dev libxxhash-dev liblzma-dev libsnappy-dev  # ROOT/Parquet/NPZ codecs
  libcairo2-dev fonts-dejavu-core  # plots
  pkg-config
)
if [ "${1:-}" = "--with-browser" ]; then packages+=(chromium); fi
# Test-only (`make test` passes --with-browser): the loopback servers of the remote-file tests.
if [ "${1:-}" = "--with-browser" ]; then packages+=(xrootd-server nginx); fi
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "HEPML needs these Debian packages. Install them with:" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
