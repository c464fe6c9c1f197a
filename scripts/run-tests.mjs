#!/usr/bin/env node
// Runs every compiled test file (build/test/**/*.test.js) with node's test runner.
// Usage: node scripts/run-tests.mjs [substring ...] to run only files whose path contains one.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const testRoot = join(root, 'build', 'test');

function collect(dir, out) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

let files;
try {
  files = collect(testRoot, []).sort();
} catch {
  console.error('no compiled tests under build/test: run `make build` (or `npx tsc -p tsconfig.test.json`) first');
  process.exit(1);
}
const filters = process.argv.slice(2);
if (filters.length > 0) files = files.filter((f) => filters.some((s) => relative(root, f).includes(s)));
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...files], { stdio: 'inherit', cwd: root });
process.exit(result.status ?? 1);
