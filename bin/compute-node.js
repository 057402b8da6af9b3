#!/usr/bin/env node
"use strict";
// The CLI ships as TypeScript and runs through ts-node's transpile-only mode: no build step to forget.
require("ts-node").register({ transpileOnly: true, project: require("path").join(__dirname, "..", "tsconfig.json") });
// A closed pipe (`compute-node … | head`) is the reader being done, not an error.
process.stdout.on("error", (err) => { if (err.code === "EPIPE") process.exit(process.exitCode || 0); else throw err; });
require("../lib/cli/main").main(process.argv).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(err && err.stack ? err.stack : String(err)); process.exitCode = 1; },
);
