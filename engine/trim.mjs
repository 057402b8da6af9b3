#!/usr/bin/env node
// Trims a writable copy of terraform-provider-aws to the service packages in engine/services.txt:
//  1. internal/provider/sdkv2/service_packages_gen.go registers (and so imports) only those services;
//  2. internal/conns/awsclient_gen.go keeps only the AWS SDK client accessors that code reachable
//     from the shim package still calls (every accessor imports one aws-sdk-go-v2 service package,
//     which is most of what the full build compiles).
// Usage: node engine/trim.mjs <module-copy> <services.txt>
// Prints what it kept; exits non-zero when the generated files do not look as expected, so a new
// upstream layout fails loudly instead of building the whole provider.
import { readFileSync, writeFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";

const [root, servicesFile] = process.argv.slice(2);
if (!root || !servicesFile) {
  console.error("usage: node engine/trim.mjs <terraform-provider-aws copy> <services.txt>");
  process.exit(2);
}
const MODULE = "github.com/hashicorp/terraform-provider-aws";
const services = new Set(
  readFileSync(servicesFile, "utf8")
    .split("\n")
    .map((l) => l.replace(/#.*/, "").trim())
    .filter(Boolean),
);

function fail(message) {
  console.error(`engine trim: ${message}`);
  process.exit(1);
}

// 1. Registered service packages.
const spFile = join(root, "internal/provider/sdkv2/service_packages_gen.go");
let sp = readFileSync(spFile, "utf8");
const registered = [...sp.matchAll(/^\t\t([a-z0-9]+)\.ServicePackage\(ctx\),$/gm)].map((m) => m[1]);
if (registered.length < 50) fail(`${spFile}: expected the generated list of ServicePackage(ctx) calls, found ${registered.length}`);
const missing = [...services].filter((s) => !registered.includes(s));
if (missing.length) fail(`services.txt names service packages upstream does not register: ${missing.join(", ")}`);
sp = sp
  .split("\n")
  .filter((line) => {
    const imp = /^\t"github\.com\/hashicorp\/terraform-provider-aws\/internal\/service\/([a-z0-9]+)"$/.exec(line);
    if (imp) return services.has(imp[1]);
    const call = /^\t\t([a-z0-9]+)\.ServicePackage\(ctx\),$/.exec(line);
    if (call) return services.has(call[1]);
    return true;
  })
  .join("\n");
writeFileSync(spFile, sp);

// 2. Packages of the module reachable from the shim (and the provider), by their imports.
function goFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith(".go") && !f.endsWith("_test.go")).map((f) => join(dir, f));
}
function imports(text) {
  const out = [];
  const block = /^import\s*\(([\s\S]*?)^\)/gm;
  for (const m of text.matchAll(block)) for (const q of m[1].matchAll(/"([^"]+)"/g)) out.push(q[1]);
  for (const m of text.matchAll(/^import\s+(?:[\w.]+\s+)?"([^"]+)"/gm)) out.push(m[1]);
  return out;
}
const seen = new Set();
const queue = ["shim", "internal/provider"];
const sources = [];
while (queue.length) {
  const rel = queue.shift();
  if (seen.has(rel)) continue;
  seen.add(rel);
  for (const file of goFiles(join(root, rel))) {
    const text = readFileSync(file, "utf8");
    sources.push(text);
    for (const imp of imports(text)) if (imp === MODULE || imp.startsWith(`${MODULE}/`)) queue.push(imp === MODULE ? "." : imp.slice(MODULE.length + 1));
  }
}
const reachableServices = [...seen].filter((p) => p.startsWith("internal/service/")).map((p) => p.slice("internal/service/".length)).sort();

// 3. Client accessors still called.
const acFile = join(root, "internal/conns/awsclient_gen.go");
const ac = readFileSync(acFile, "utf8");
const funcRe = /^func \(c \*AWSClient\) (\w+Client)\(ctx context\.Context\) [^{]+\{\n[\s\S]*?^\}\n/gm;
const accessors = [...ac.matchAll(funcRe)];
if (accessors.length < 50) fail(`${acFile}: expected the generated AWSClient accessors, found ${accessors.length}`);
const called = new Set();
const callRe = /\.(\w+Client)\(/g;
for (const text of sources) {
  if (text === ac) continue;
  for (const m of text.matchAll(callRe)) called.add(m[1]);
}
let body = ac;
const kept = [];
for (const m of accessors) {
  if (called.has(m[1])) kept.push(m[1]);
  else body = body.replace(m[0], "");
}
// Drop the imports nothing uses any more.
body = body.replace(/^import \(\n([\s\S]*?)^\)\n/m, (_all, lines) => {
  const rest = body.slice(body.indexOf(")\n", body.indexOf("import (")) + 2);
  const keptLines = lines.split("\n").filter((line) => {
    const m = /^\t(?:(\w+) )?"([^"]+)"$/.exec(line);
    if (!m) return line.trim() !== "";
    const alias = m[1] ?? m[2].split("/").pop();
    return new RegExp(`\\b${alias}\\.`).test(rest);
  });
  return `import (\n${keptLines.join("\n")}\n)\n`;
});
writeFileSync(acFile, body);

console.log(`engine trim: ${services.size} service packages registered (${[...services].join(", ")})`);
console.log(`engine trim: ${reachableServices.length} service packages compiled (${reachableServices.join(", ")})`);
console.log(`engine trim: ${kept.length} of ${accessors.length} AWS SDK clients kept (${kept.join(", ")})`);
