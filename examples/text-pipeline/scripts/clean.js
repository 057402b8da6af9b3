// Normalises line endings and whitespace, drops empty lines.
"use strict";
const { readInputs, write } = require("./io");

for (const { name, text } of readInputs()) {
  const lines = text.replace(/\r\n?/g, "\n").split("\n").map((l) => l.replace(/\s+/g, " ").trim()).filter(Boolean);
  write(name, lines.join("\n") + "\n");
}
