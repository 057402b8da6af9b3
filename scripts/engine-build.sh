#!/usr/bin/env bash
# npm run engine:build — builds the real Pulumi engine for this machine into the gitignored cache
# .engine/ (docs/engine.md):
#   .engine/pulumi-<cli>/bin/pulumi                                   the Pulumi CLI (scripts/build-pulumi-cli.sh)
#   .engine/pulumi-home/plugins/resource-aws-v<aws>/pulumi-resource-aws  the AWS provider (engine/), and
#   .engine/pulumi-home/plugins/resource-aws-v<aws>/schema.json          the schema it serves
# where <cli> is the version of @pulumi/pulumi and <aws> the version of @pulumi/aws in package.json.
# Both are reused while their inputs are unchanged; pass --force to rebuild the provider anyway.
# Needs Go (1.26) and the Go module proxy; runs the compilers with nice.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
cache="$here/.engine"
force=false
[ "${1:-}" = "--force" ] && force=true

cli_version="$(node -p "require('$here/node_modules/@pulumi/pulumi/package.json').version")"
aws_version="$(node -p "require('$here/node_modules/@pulumi/aws/package.json').version")"
tpa_module="github.com/hashicorp/terraform-provider-aws"
tpa_version="$(awk -v m="$tpa_module" '$1 == m { print $2; exit }' "$here/engine/go.mod")"
home="$cache/pulumi-home"
plugin_dir="$home/plugins/resource-aws-v$aws_version"
binary="$plugin_dir/pulumi-resource-aws"
src="$cache/src/terraform-provider-aws"

command -v go >/dev/null || { echo "engine:build: go is not installed; install Go 1.26 or newer (docs/engine.md)" >&2; exit 1; }
[ -n "$tpa_version" ] || { echo "engine:build: engine/go.mod does not require $tpa_module" >&2; exit 1; }
export GONOSUMDB="${GONOSUMDB:-github.com/pulumi}"
export GOFLAGS="${GOFLAGS:-} -mod=mod"

timings=()
t_start=$(date +%s)
step() { # step NAME COMMAND... : runs and records the seconds it took
  local name="$1"; shift
  local t0=$(date +%s)
  echo "==> $name"
  "$@"
  local t1=$(date +%s)
  timings+=("$(printf '%-44s %5ss' "$name" "$((t1 - t0))")")
}

# 1. The CLI (its own script caches by version).
step "Pulumi CLI $cli_version" nice "$here/scripts/build-pulumi-cli.sh" "$cache/pulumi-$cli_version"

# The Node.js dynamic provider (pulumi.dynamic.Resource, e.g. the node's destroy hook), which the CLI
# distribution bundles next to `pulumi`: bound to this checkout's @pulumi/pulumi, because inline
# programs run from work directories without node_modules.
dynamic="$cache/pulumi-$cli_version/bin/pulumi-resource-pulumi-nodejs"
cat > "$dynamic" <<SCRIPT
#!/bin/sh
# Written by scripts/engine-build.sh: the Node.js dynamic resource provider of @pulumi/pulumi in $here.
# NODE_PATH: the providers' serialized code requires packages (ts-node…) from the program's work
# directory, which has no node_modules; the checkout's are the ones the program itself used.
NODE_PATH="$here/node_modules\${NODE_PATH:+:\$NODE_PATH}" exec node "$here/node_modules/@pulumi/pulumi/cmd/dynamic-provider" "\$@"
SCRIPT
chmod +x "$dynamic"

# 2. The provider, keyed by everything it is built from.
stamp_of() {
  {
    echo "aws=$aws_version tpa=$tpa_version go=$(go env GOVERSION)"
    (cd "$here/engine" && find . -type f ! -name '*_test.go' | LC_ALL=C sort | xargs sha256sum)
  } | sha256sum | cut -d' ' -f1
}
stamp="$(stamp_of)"
if ! $force && [ -x "$binary" ] && [ -f "$plugin_dir/schema.json" ] && [ "$(cat "$plugin_dir/.compute-node-stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "==> AWS provider v$aws_version: cached ($binary)"
  timings+=("$(printf '%-44s %5s' "AWS provider v$aws_version" "cached")")
else
  prepare_source() {
    local dir
    dir="$(go mod download -json "$tpa_module@$tpa_version" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);if(j.Error){console.error(j.Error);process.exit(1)}console.log(j.Dir)})')"
    rm -rf "$src" && mkdir -p "$(dirname "$src")"
    cp -r "$dir" "$src" && chmod -R u+w "$src"
    # Documentation and examples are not compiled; the copy is smaller without them.
    rm -rf "$src/website" "$src/docs" "$src/examples" "$src/infrastructure"
    for p in "$here"/engine/patches/*.patch; do
      echo "    patch $(basename "$p")"
      patch -s -p1 -d "$src" < "$p"
    done
    cp -r "$here/engine/upstream/." "$src/"
    node "$here/engine/trim.mjs" "$src" "$here/engine/services.txt" | sed 's/^/    /'
  }
  step "terraform-provider-aws $tpa_version: copy, patch, trim" prepare_source
  mkdir -p "$plugin_dir"
  build_provider() {
    (cd "$here/engine" && nice go mod download && \
      if [ -x /usr/bin/time ]; then /usr/bin/time -f "    peak RSS %M KB, %e s elapsed, %U s user" nice go build -trimpath -ldflags "-s -w -X main.version=$aws_version" -o "$binary.tmp" .;
      else nice go build -trimpath -ldflags "-s -w -X main.version=$aws_version" -o "$binary.tmp" .; fi)
    mv "$binary.tmp" "$binary"
    echo "    $(du -h "$binary" | cut -f1) $binary"
  }
  step "AWS provider v$aws_version: go build" build_provider
  step "AWS provider v$aws_version: served schema" "$binary" --emit-schema "$plugin_dir/schema.json"
  echo "$stamp" > "$plugin_dir/.compute-node-stamp"
fi

echo
echo "where the time went:"
printf '  %s\n' "${timings[@]}"
echo "  $(printf '%-44s %5ss' total "$(($(date +%s) - t_start))")"
echo
echo "engine ready: $cache/pulumi-$cli_version/bin/pulumi, PULUMI_HOME=$home (compute-node node … and serve find both)"
