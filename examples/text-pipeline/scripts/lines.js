// Line statistics per document.
"use strict";
const { readInputs, write } = require("./io");

const documents = readInputs().map(({ name, text }) => {
  const lines = text.split("\n").filter(Boolean);
  const longest = lines.reduce((a, b) => (b.length > a.length ? b : a), "");
  return { document: name, lines: lines.length, longestLine: longest };
});
write("lines.json", { documents });
