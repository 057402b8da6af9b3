#!/usr/bin/env bash
# npm run engine:e2e — the real-engine tier (docs/engine.md): for each mode, `compute-node node up`
# through the Pulumi CLI and the AWS provider `npm run engine:build` made, against moto on a free
# loopback port; SDK read-back of the mode's invariants, a no-op second up, a workflow deployed and
# started on the node, a config update, destroy down to the retained log archive; the provisioning
# service over the same engine; and the served schema against the node program.
# Not part of `npm test`. Needs the engine cache (built here on first use, ~15 min) and python3 with moto.
# Extra arguments go to mocha, e.g. `npm run engine:e2e -- --grep basic`.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"
"$here/scripts/engine-build.sh"
python3 -c "import moto.server" 2>/dev/null || { echo "engine:e2e needs python3 with moto (pip install 'moto[server]==5.2.1')" >&2; exit 1; }
PULUMI_SKIP_UPDATE_CHECK=true exec npx mocha --no-config -r ts-node/register/transpile-only -r test/setup.ts \
  --extension ts --timeout 1800000 'test-engine/e2e/**/*.e2e.ts' "$@"
