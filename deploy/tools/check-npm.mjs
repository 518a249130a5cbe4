#!/usr/bin/env node
// The npm packages of deploy/tools are installed, at the versions package-lock.json pins.
// If not: `npm ci --prefix deploy/tools` (scripts/setup.sh --test does it).
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const lock = JSON.parse(readFileSync(path.join(here, "package-lock.json"), "utf8"));
const problems = [];
let count = 0;
for (const [where, info] of Object.entries(lock.packages)) {
  if (!where) continue;
  count++;
  const pj = path.join(here, where, "package.json");
  if (!existsSync(pj)) { problems.push(`${where} is not installed`); continue; }
  const version = JSON.parse(readFileSync(pj, "utf8")).version;
  if (version !== info.version) problems.push(`${where} is ${version}, package-lock.json pins ${info.version}`);
}
for (const p of problems) console.log(p);
if (problems.length) {
  console.log(`${problems.length} problem(s): run \`npm ci --prefix deploy/tools\` (scripts/setup.sh --test)`);
  process.exit(1);
}
console.log(`deploy/tools: ${count} npm packages installed as package-lock.json pins (node ${process.version})`);
