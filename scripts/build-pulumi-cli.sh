#!/usr/bin/env bash
# Builds the Pulumi CLI from its Go module (github.com/pulumi/pulumi/pkg/v3, cmd/pulumi) at the
# version of @pulumi/pulumi in package.json, for machines where it cannot be downloaded.
# Usage: scripts/build-pulumi-cli.sh [out-dir]   (default: ~/.cache/compute-node/pulumi-<version>)
# Then: PULUMI_CLI_ROOT=<out-dir> compute-node serve --local …   or   npm run test:engine
#
# Inline Automation API programs do not need the Node.js language host (the CLI connects to the
# program's in-process language server), so only the CLI itself is built.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
version="${PULUMI_VERSION:-$(node -p "require('$here/node_modules/@pulumi/pulumi/package.json').version")}"
out="${1:-${XDG_CACHE_HOME:-$HOME/.cache}/compute-node/pulumi-$version}"

if [ -x "$out/bin/pulumi" ] && "$out/bin/pulumi" version 2>/dev/null | grep -q "v$version"; then
  echo "$out/bin/pulumi (v$version) is already built"
  exit 0
fi

command -v go >/dev/null || { echo "go is not installed: install Go 1.25 or newer" >&2; exit 1; }
work="$(mktemp -d)"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

# The checksum database is not reachable from every machine that reaches the module proxy; the
# modules' own go.sum files still pin every dependency of the build.
export GONOSUMDB="${GONOSUMDB:-github.com/pulumi/pulumi}"
moddir() { go mod download -json "$1@v$version" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);if(j.Error){console.error(j.Error);process.exit(1)}console.log(j.Dir)})'; }

echo "fetching github.com/pulumi/pulumi pkg/v3 and sdk/v3 at v$version"
pkg="$(moddir github.com/pulumi/pulumi/pkg/v3)"
sdk="$(moddir github.com/pulumi/pulumi/sdk/v3)"
cp -r "$pkg" "$work/pkg"
cp -r "$sdk" "$work/sdk"
chmod -R u+w "$work"

# pkg/go.mod replaces the sdk with ../sdk, as in the repository: the copy above recreates that layout.
cd "$work/pkg"
mkdir -p "$out/bin"
echo "building $out/bin/pulumi (this takes a while: several minutes on 2 cores)"
GOFLAGS="${GOFLAGS:-} -mod=mod" go build -trimpath \
  -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version" \
  -o "$out/bin/pulumi" ./cmd/pulumi
"$out/bin/pulumi" version
echo "built: PULUMI_CLI_ROOT=$out"
