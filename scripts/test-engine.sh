#!/usr/bin/env bash
# Optional test tier (not part of `npm test`): the provisioner's Automation API engine against a
# real Pulumi CLI, built from its Go module on first use, with a local file backend.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
version="$(node -p "require('$here/node_modules/@pulumi/pulumi/package.json').version")"
root="${PULUMI_CLI_ROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/compute-node/pulumi-$version}"
[ -x "$root/bin/pulumi" ] || "$here/scripts/build-pulumi-cli.sh" "$root"
cd "$here"
PULUMI_CLI_ROOT="$root" PULUMI_SKIP_UPDATE_CHECK=true exec npx mocha --no-config -r ts-node/register/transpile-only -r test/setup.ts \
  --extension ts --timeout 180000 'test-engine/**/*.test.ts' "$@"
