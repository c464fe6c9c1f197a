import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadNative, nativeModulePath, NATIVE_ABI_VERSION } from '../../src/native/binding.js';

const bindingModule = fileURLToPath(new URL('../../src/native/binding.js', import.meta.url));

/** Runs loadNative(mode) in a fresh process with `env`; returns what it printed. */
function loadIn(mode: string, env: Record<string, string>): string {
  const script = `import(${JSON.stringify(bindingModule)}).then((m) => {
    try { const b = m.loadNative(${JSON.stringify(mode)}); console.log(b === null ? 'null' : 'loaded'); }
    catch (e) { console.log('threw: ' + e.message); }
  });`;
  const clean = { ...process.env };
  delete clean.JUNCTION_REQUIRE_NATIVE;
  delete clean.JUNCTION_NATIVE_PATH;
  return execFileSync(process.execPath, ['-e', script], { env: { ...clean, ...env }, encoding: 'utf8' }).trim();
}

test('the addon is found from the build tree and has the expected ABI', () => {
  assert.ok(nativeModulePath().endsWith('native/junction.node'));
  assert.ok(existsSync(nativeModulePath()));
  const b = loadNative('auto');
  assert.notEqual(b, null);
  assert.equal(b?.abiVersion, NATIVE_ABI_VERSION);
  assert.equal(loadNative('off'), null);
});

test('a missing addon: auto falls back, on and JUNCTION_REQUIRE_NATIVE=1 fail with the fix', () => {
  const missing = { JUNCTION_NATIVE_PATH: '/nonexistent/junction.node' };
  assert.equal(loadIn('auto', missing), 'null');
  assert.equal(loadIn('off', { ...missing, JUNCTION_REQUIRE_NATIVE: '1' }), 'null');
  for (const out of [loadIn('on', missing), loadIn('auto', { ...missing, JUNCTION_REQUIRE_NATIVE: '1' })]) {
    assert.match(out, /^threw: native module not loaded: .*junction\.node.*; run `make build` or start with --native off$/);
  }
  assert.equal(loadIn('on', {}), 'loaded');
});
