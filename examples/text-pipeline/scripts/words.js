// Word frequencies across all documents.
"use strict";
const { readInputs, write } = require("./io");

const counts = new Map();
let total = 0;
for (const { text } of readInputs()) {
  for (const word of text.toLowerCase().match(/[a-z']+/g) ?? []) {
    counts.set(word, (counts.get(word) ?? 0) + 1);
    total++;
  }
}
const top = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 10);
write("words.json", { totalWords: total, distinctWords: counts.size, top: top.map(([word, count]) => ({ word, count })) });
