// Joins the two analyses of the diamond (words + lines) into one Markdown report.
"use strict";
const { readJson, write } = require("./io");

const words = readJson("words.json");
const lines = readJson("lines.json");
const out = [
  "# Text pipeline report",
  "",
  `${lines.documents.length} documents, ${words.totalWords} words (${words.distinctWords} distinct).`,
  "",
  "| document | lines | longest line |",
  "| --- | --- | --- |",
  ...lines.documents.map((d) => `| ${d.document} | ${d.lines} | ${d.longestLine} |`),
  "",
  "Most frequent words: " + words.top.map((t) => `${t.word} (${t.count})`).join(", "),
  "",
];
write("report.md", out.join("\n"));
