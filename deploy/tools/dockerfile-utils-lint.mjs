#!/usr/bin/env node
// `dockerfile-utils lint` (the VS Code Docker extension's validator) exits 0 on warnings; this
// runs the same validator through its API and fails on any diagnostic, warning or error.
//   node dockerfile-utils-lint.mjs Dockerfile
import { readFileSync } from "node:fs";
import utils from "dockerfile-utils";

const file = process.argv[2];
if (!file) {
  console.error("usage: dockerfile-utils-lint.mjs DOCKERFILE");
  process.exit(2);
}
const text = readFileSync(file, "utf8");
const lines = text.split("\n");
const diagnostics = utils.validate(text);
const severity = { 1: "error", 2: "warning", 3: "information", 4: "hint" };
for (const d of diagnostics) {
  const line = d.range.start.line;
  console.log(`${file}:${line + 1}:${d.range.start.character + 1}: ${severity[d.severity] ?? d.severity}: ${d.message}`);
  console.log(`    ${lines[line]}`);
}
console.log(`dockerfile-utils: ${diagnostics.length} diagnostic(s)`);
process.exit(diagnostics.length ? 1 : 0);
