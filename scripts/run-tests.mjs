#!/usr/bin/env node
// Runs every compiled test file (build/test/**/*.test.js) with node's test runner.
// Usage: node scripts/run-tests.mjs [substring ...] to run only files whose path contains one.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawn } from 'node:child_process';
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
// The TAP stream is passed through as it comes; failures are repeated at the end, since CI logs often keep only the tail.
const child = spawn(process.execPath, ['--test', '--test-concurrency=2', ...files], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
});
const failures = [];
let current = null;
let pending = '';
function scan(line) {
  if (/^\s*not ok \d+ - /.test(line)) {
    current = [line];
    failures.push(current);
  } else if (current !== null) {
    if (/^\s*(ok \d+ - |# Subtest: )/.test(line) || current.length >= 60) current = null;
    else current.push(line);
  }
}
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  const lines = (pending + chunk.toString('utf8')).split('\n');
  pending = lines.pop() ?? '';
  for (const line of lines) scan(line);
});
child.on('close', (code, signal) => {
  if (pending !== '') scan(pending);
  if (failures.length > 0) {
    console.log(`\n# ${failures.length} failing test(s) or suite(s), repeated:`);
    for (const block of failures) console.log(block.join('\n'));
  }
  process.exit(code ?? (signal ? 1 : 0));
});
