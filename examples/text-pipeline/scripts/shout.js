// Upper-cases every document; names are prefixed so a merge downstream cannot collide.
"use strict";
const { readInputs, write } = require("./io");

for (const { name, text } of readInputs()) write(`shout-${name}`, text.toUpperCase());
