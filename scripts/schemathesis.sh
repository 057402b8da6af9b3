#!/usr/bin/env bash
# Fuzzes the provisioner API against its own OpenAPI document with schemathesis (pip install schemathesis),
# on the in-memory engine. Expected leftovers (ST202): a reused Idempotency-Key with another body (422,
# by design) and workflows whose processors name unregistered images (400 from plan validation).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
port="${PORT:-18080}"
token="fuzz-token-0123456789"
cd "$here"
COMPUTE_NODE_API_TOKEN="$token" node -r ts-node/register/transpile-only scripts/serve-fake-engine.ts "$port" 2>/dev/null &
server=$!
trap 'kill $server' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
cd "$(mktemp -d)"   # schemathesis writes .schemathesis/ into the current directory
schemathesis run "http://127.0.0.1:$port/openapi.json" -H "Authorization: Bearer $token" --max-examples "${MAX_EXAMPLES:-60}" "$@"
