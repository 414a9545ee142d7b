#!/usr/bin/env bash
# Installs the Debian 12 packages everest-bootstrapd needs to build, test and
# run (BUILD.md §1), skipping what is already there. Needs root or sudo.
set -euo pipefail

PKGS=(
  g++ cmake ninja-build pkg-config
  libboost1.81-dev libboost-system1.81-dev
  librdkafka-dev nlohmann-json3-dev libspdlog-dev prometheus-cpp-dev catch2
  libsqlite3-dev libsystemd-dev libssl-dev
  python3 curl jq procps
  systemd dpkg-dev lintian python3-yaml
  wrk clang libclang-rt-14-dev
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "deps.sh: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    SUDO="sudo"
  fi
  echo "deps.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Test-only tools from npm (the contract tests: Ajv and Redocly CLI), pinned by
# tests/contract/package-lock.json; reinstalled only when the lock changes.
# `deps.sh --runtime` (scripts/start.sh) skips them: running needs no Node.js.
[ "${1:-}" = "--runtime" ] && exit 0
contract="$(cd "$(dirname "$0")/.." && pwd)/tests/contract"
command -v npm >/dev/null || { echo "deps.sh: npm (Node.js >= 20) is needed for tests/contract" >&2; exit 1; }
stamp="$contract/node_modules/.lock-sha256"
want="$(sha256sum "$contract/package-lock.json" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "deps.sh: npm ci in tests/contract"
  (cd "$contract" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" > "$stamp"
fi
