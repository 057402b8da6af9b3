// Fan-in of three branches: the report first, then every transformed document.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { write } = require("./io");

const dir = process.env.INPUT_DIR;
const names = fs.readdirSync(dir).sort((a, b) => (a === "report.md" ? -1 : b === "report.md" ? 1 : a.localeCompare(b)));
const parts = names.map((name) => `===== ${name} =====\n${fs.readFileSync(path.join(dir, name), "utf8").trimEnd()}\n`);
write("bundle.txt", parts.join("\n"));
