// Shared by the example processors: the processor contract is only INPUT_DIR, OUTPUT_DIR and the exit code.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const inputDir = process.env.INPUT_DIR;
const outputDir = process.env.OUTPUT_DIR;
if (!inputDir || !outputDir) {
  console.error("INPUT_DIR and OUTPUT_DIR must be set");
  process.exit(2);
}

/** Text files of INPUT_DIR (merged inputs are symlinks, which readFileSync follows). */
function readInputs(filter = (name) => name.endsWith(".txt")) {
  return fs
    .readdirSync(inputDir)
    .filter(filter)
    .sort()
    .map((name) => ({ name, text: fs.readFileSync(path.join(inputDir, name), "utf8") }));
}

function readJson(name) {
  return JSON.parse(fs.readFileSync(path.join(inputDir, name), "utf8"));
}

function write(name, content) {
  fs.writeFileSync(path.join(outputDir, name), typeof content === "string" ? content : JSON.stringify(content, null, 2) + "\n");
  console.log(`wrote ${name}`);
}

module.exports = { readInputs, readJson, write };
