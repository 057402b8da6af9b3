// ROT13 of every document (registered as a Lambda-capable processor in processors.json).
"use strict";
const { readInputs, write } = require("./io");

const rot13 = (s) => s.replace(/[a-z]/gi, (c) => String.fromCharCode(((c.toLowerCase().charCodeAt(0) - 97 + 13) % 26) + (c <= "Z" ? 65 : 97)));
for (const { name, text } of readInputs()) write(`rot13-${name}`, rot13(text));
