#!/usr/bin/env bash
# Installs the Debian packages HEPML builds and tests with, or, when not root, prints the exact
# apt-get line and fails, so that a fresh clone on Debian needs nothing but `make demo`/`make test`.
set -euo pipefail
packages=(
  libblis4-pthread                 # matrix products (BLIS, opened at run time)
  libopenblas-dev liblapacke-dev   # LAPACK (PCA) and the CBLAS header
  zlib1g-dev libdeflate-dev libzstd-dev liblz4-dev libxxhash-dev liblzma-dev libsnappy-dev  # ROOT/Parquet/NPZ codecs
  libcairo2-dev fonts-dejavu-core  # plots
  libsqlite3-dev                   # hepml hcal serve's results
  pkg-config
)
# Test-only packages: --with-browser (chromium, for the report and dashboard tests), --with-slurm (a private
# single-node Slurm for the batch tests), --with-servers (xrootd and nginx on loopback for the
# remote-file tests). Without root the optional ones are only suggested and their tests are shown
# as skipped.
optional=()
for option in "$@"; do
  case "$option" in
    --with-browser) packages+=(chromium) ;;
    --with-slurm) optional+=(slurm-wlm munge) ;;
    --with-servers) optional+=(xrootd-server nginx) ;;
    *) echo "unknown option $option" >&2; exit 2 ;;
  esac
done
missing=()
for package in "${packages[@]}" "${optional[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] && [ ${#optional[@]} -gt 0 ]; then
  required=()
  for package in "${missing[@]}"; do
    case " ${optional[*]} " in *" $package "*) ;; *) required+=("$package") ;; esac
  done
  if [ ${#required[@]} -eq 0 ]; then
    echo "note: the Slurm, XRootD and HTTP server tests need: sudo apt-get install -y ${missing[*]}; they will be skipped" >&2
    exit 0
  fi
  missing=("${required[@]}")
fi
if [ "$(id -u)" -eq 0 ]; then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "HEPML needs these Debian packages. Install them with:" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
