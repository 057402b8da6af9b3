#!/usr/bin/env node
"use strict";
/*
 * `npm run bench:cli`: how fast the built CLI starts, as ratios against `node -e 0` measured in the
 * same run (so a busy or slow machine moves both). Each figure is the median of --runs runs (default
 * 7, at least 5); cases are interleaved run by run so drifting load hits them alike. Writes
 * bench/results/cli.{json,md} and prints the table. Not part of `npm test`.
 *
 *   node bench/cli.js [--runs N]
 */
const { spawn } = require("node:child_process");
const { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } = require("node:fs");
const http = require("node:http");
const net = require("node:net");
const { tmpdir } = require("node:os");
const { join } = require("node:path");

const ROOT = join(__dirname, "..");
const BIN = join(ROOT, "bin", "compute-node.js");
const EXAMPLE = join(ROOT, "examples", "text-pipeline");
const RESULTS = join(__dirname, "results");

// The issue's bar: each case's median as a multiple of `node -e 0`'s median.
const CASES = [
  { name: "node -e 0", kind: "exit", argv: ["-e", "0"], baseline: true },
  { name: "--help", kind: "exit", argv: [BIN, "--help"], bar: 3 },
  { name: "validate example", kind: "exit", argv: [BIN, "validate", join(EXAMPLE, "workflow.json"), "--processors", join(EXAMPLE, "processors.json")], bar: 5 },
  { name: "compile example", kind: "exit", argv: [BIN, "compile", join(EXAMPLE, "workflow.json"), "--processors", join(EXAMPLE, "processors.json")], bar: 6 },
  { name: "serve --local → 200 /healthz", kind: "serve", bar: 10 },
];

function parseRuns(argv) {
  const i = argv.indexOf("--runs");
  const runs = i >= 0 ? Number(argv[i + 1]) : 7;
  if (!Number.isInteger(runs) || runs < 5) throw new Error("--runs must be a whole number of at least 5 (the figures are medians)");
  return runs;
}

function elapsedMs(start) {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Spawn to exit; a non-zero exit fails the benchmark (a fast failure is no result). */
function timeExit(argv) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, argv, { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(elapsedMs(start)) : reject(new Error(`node ${argv.join(" ")} exited ${code}: ${stderr.slice(-500)}`))));
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function healthy(port) {
  return new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path: "/healthz", timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("error", () => resolve(false));
    req.on("timeout", () => req.destroy());
  });
}

/** Spawn to the first 200 from /healthz (polled every 5 ms), then SIGTERM and wait for the exit. */
async function timeServe() {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "cn-bench-serve-"));
  const env = { ...process.env, COMPUTE_NODE_API_TOKEN: "bench-token-0123456789abcdef", PULUMI_SKIP_UPDATE_CHECK: "true" };
  const start = process.hrtime.bigint();
  const child = spawn(process.execPath, [BIN, "serve", "--local", "--port", String(port), "--data-dir", dataDir], { cwd: ROOT, env, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise((resolve) => child.on("exit", resolve));
  let gaveUp = false;
  const timer = setTimeout(() => (gaveUp = true), 60_000);
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`serve exited ${child.exitCode} before answering: ${stderr.slice(-500)}`);
      if (gaveUp) throw new Error("serve did not answer /healthz within 60 s");
      if (await healthy(port)) return elapsedMs(start);
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    clearTimeout(timer);
    child.kill("SIGTERM");
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function main() {
  if (!existsSync(join(ROOT, "dist", "lib", "cli", "main.js"))) throw new Error("dist/ is missing: run `npm run build` first (the benchmark measures the built CLI)");
  const runs = parseRuns(process.argv.slice(2));
  const samples = new Map(CASES.map((c) => [c.name, []]));
  // One unmeasured round warms the file cache, as a user's second call would find it.
  for (const c of CASES) await (c.kind === "serve" ? timeServe() : timeExit(c.argv));
  for (let run = 1; run <= runs; run++) {
    for (const c of CASES) samples.get(c.name).push(await (c.kind === "serve" ? timeServe() : timeExit(c.argv)));
    process.stderr.write(`run ${run}/${runs} done\n`);
  }
  const baseline = median(samples.get(CASES.find((c) => c.baseline).name));
  const rows = CASES.map((c) => {
    const ms = median(samples.get(c.name));
    const ratio = ms / baseline;
    return { case: c.name, medianMs: Math.round(ms * 10) / 10, ratio: Math.round(ratio * 100) / 100, ...(c.bar ? { bar: c.bar, withinBar: ratio <= c.bar } : {}), samplesMs: samples.get(c.name).map((v) => Math.round(v * 10) / 10) };
  });
  const result = { runs, node: process.version, platform: `${process.platform}-${process.arch}`, baseline: "node -e 0", rows, allWithinBar: rows.every((r) => r.withinBar !== false) };
  const table = [
    `CLI start-up, median of ${runs} runs, ratio against \`node -e 0\` (${Math.round(baseline)} ms) in the same run`,
    "",
    "| case | median ms | ratio | bar | ok |",
    "| --- | ---: | ---: | ---: | :---: |",
    ...rows.map((r) => `| ${r.case} | ${r.medianMs} | ${r.ratio}× | ${r.bar ? `≤ ${r.bar}×` : "baseline"} | ${r.bar ? (r.withinBar ? "yes" : "NO") : ""} |`),
    "",
  ].join("\n");
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, "cli.json"), JSON.stringify(result, null, 2) + "\n");
  writeFileSync(join(RESULTS, "cli.md"), table);
  process.stdout.write(table);
  process.stdout.write(`\nwritten: ${join(RESULTS, "cli.json")}, ${join(RESULTS, "cli.md")}\n`);
  if (!result.allWithinBar) process.exitCode = 1;
}

main().catch((err) => {
  process.stderr.write(`bench:cli failed: ${err.message}\n`);
  process.exitCode = 1;
});
