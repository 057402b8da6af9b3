#!/usr/bin/env node
"use strict";
// Runs the compiled CLI in dist/ (built by `npm run build`; `npm ci` runs it through `prepare`).
// COMPUTE_NODE_FROM_SOURCE=1 runs the TypeScript in lib/ instead, through ts-node: for working on
// compute-node itself without rebuilding after each change. It starts in seconds, not milliseconds.
const path = require("node:path");
const root = path.join(__dirname, "..");
let main;
if (process.env.COMPUTE_NODE_FROM_SOURCE === "1") {
  require("ts-node").register({ transpileOnly: true, project: path.join(root, "tsconfig.json") });
  main = require(path.join(root, "lib", "cli", "main.ts")).main;
} else {
  const entry = path.join(root, "dist", "lib", "cli", "main.js");
  try {
    main = require(entry).main;
  } catch (err) {
    // Only the entry itself missing means "not built"; a module it needs being missing is another problem (its stack says which).
    if (err && err.code === "MODULE_NOT_FOUND" && String(err.message).split("\n")[0].includes(entry)) {
      process.stderr.write(`compute-node is not built: ${path.relative(process.cwd(), entry) || entry} is missing. Run \`npm run build\` in ${root} (npm ci does it for you).\n`);
      process.exit(1);
    }
    throw err;
  }
}
// A closed pipe (`compute-node … | head`) is the reader being done, not an error.
process.stdout.on("error", (err) => { if (err.code === "EPIPE") process.exit(process.exitCode || 0); else throw err; });
main(process.argv).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(err && err.stack ? err.stack : String(err)); process.exitCode = 1; },
);
