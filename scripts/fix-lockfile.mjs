#!/usr/bin/env node
// Restores entries for the platform-specific optional packages (other operating systems' and CPUs'
// builds of rollup, esbuild, msgpackr-extract, ...) that npm 11 leaves out of package-lock.json when the
// registry it resolves through does not serve them (npm/cli#9342, #8320). Without the entries `npm ci`
// refuses the lockfile as out of sync; with them it skips those optional packages as it should.
// Run after `npm install` changes the lockfile: node scripts/fix-lockfile.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const pkgs = lock.packages;
let added = 0;
for (const [where, entry] of Object.entries({ ...pkgs })) {
  const optional = entry.optionalDependencies ?? {};
  for (const [name, spec] of Object.entries(optional)) {
    // Resolve like node: nested first, then hoisted.
    const nested = `${where}/node_modules/${name}`;
    const hoisted = `node_modules/${name}`;
    if (pkgs[nested] || pkgs[hoisted]) continue;
    // The registry mirror here serves only this platform's builds, so the entry carries what the parent
    // pins and npm skips it as an optional package it cannot fetch or run.
    const out = { version: String(spec).replace(/^[\^~=]/, '') };
    if (entry.dev) out.dev = true;
    out.optional = true;
    pkgs[hoisted] = out;
    added++;
    console.log(`added ${hoisted}@${out.version}`);
  }
}
// Keep the keys sorted as npm writes them.
const sorted = Object.fromEntries(Object.entries(pkgs).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
lock.packages = sorted;
writeFileSync(path, JSON.stringify(lock, null, 2) + '\n');
console.log(`${added} entries added`);
