#!/usr/bin/env bash
# Builds everest-bootstrapd and starts it on 127.0.0.1:8080 in the foreground.
# Installs missing Debian packages first. When no kubeconfig is found
# ($KUBECONFIG, then ~/.kube/config) it runs against the project's simulated
# Everest: the stateful fake everestctl/kubectl in tests/fakes, first on PATH,
# with the cluster kept in ./sim/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

"./scripts/deps.sh" --runtime
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build -j2 everest-bootstrapd

kc="${KUBECONFIG:-$HOME/.kube/config}"
if [ ! -f "$kc" ]; then
  mkdir -p "$root/sim"
  "$root/tests/fakes/fakectl" --kubeconfig "$root/sim/kubeconfig" init >/dev/null
  export KUBECONFIG="$root/sim/kubeconfig"
  export PATH="$root/tests/fakes:$PATH"
  export EVEREST_SIMULATED=true
  cat >&2 <<MSG
################################################################################
#  NO KUBECONFIG FOUND ($kc).
#  Running against the SIMULATED Everest in $root/sim
#  (fake everestctl and kubectl from tests/fakes). No real cluster is touched.
################################################################################
MSG
fi
export JOB_DB_PATH="${JOB_DB_PATH:-$root/var/jobs.db}"
exec "$root/build/everest-bootstrapd"
