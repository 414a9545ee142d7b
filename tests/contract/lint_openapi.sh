#!/usr/bin/env bash
# Bundles schemas/openapi.json with the schema files (schemas/bundle.py) and lints
# the result with Redocly CLI's `recommended` rules (tests/contract/redocly.yaml).
# Fails on any error or warning. Needs `npm ci` (or `npm install`) in tests/contract first.
#
# Usage: tests/contract/lint_openapi.sh [bundle-output-path]   (default /tmp/x.json)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:-/tmp/x.json}"

if [[ ! -x "$here/node_modules/.bin/redocly" ]]; then
  echo "lint_openapi: Redocly CLI is not installed: run 'npm ci' in $here" >&2
  exit 2
fi

python3 "$root/schemas/bundle.py" "$root/schemas" "$out"

report="$(mktemp)"
stderr_log="$(mktemp)"
trap 'rm -f "$report" "$stderr_log"' EXIT
set +e
REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
  npx --no-install --prefix "$here" redocly lint --config "$here/redocly.yaml" \
  --format json --max-problems 10000 "$out" >"$report" 2>"$stderr_log"
rc=$?
set -e

# The JSON report: {"totals": {"errors", "warnings", "ignored"}, "problems": [...]}.
if ! python3 - "$report" "$out" <<'PY'
import json, sys
try:
    with open(sys.argv[1], encoding="utf-8") as f:
        data = json.load(f)
except (OSError, ValueError) as e:
    print(f"lint_openapi: no JSON report from redocly ({e})")
    sys.exit(1)
for p in data.get("problems", []):
    where = ", ".join(l.get("pointer", "?") for l in p.get("location", []))
    print(f"{p.get('severity', '?'):5} {p.get('ruleId', '?')}: {p.get('message', '')} at {where}")
t = data.get("totals", {})
print(f"{sys.argv[2]}: {t.get('errors', '?')} errors, {t.get('warnings', '?')} warnings "
      f"({t.get('ignored', 0)} ignored) under Redocly recommended rules")
sys.exit(0 if t.get("errors") == 0 and t.get("warnings") == 0 and t.get("ignored", 0) == 0 else 1)
PY
then
  grep -v -e '^\s*$' -e '║' -e '╔' -e '╚' "$stderr_log" >&2 || true
  echo "lint_openapi: FAILED" >&2
  exit 1
fi
if [[ $rc -ne 0 ]]; then
  cat "$stderr_log" >&2
  echo "lint_openapi: redocly exited $rc" >&2
  exit 1
fi
echo "lint_openapi: OK"
