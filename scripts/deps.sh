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
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps.sh: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
