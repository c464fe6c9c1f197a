/**
 * What an operator learns from an ACL file at start: a mistyped access word stops the broker
 * with the file and line (it once became a grant on a topic named "Deny alice/secret"), and
 * `user` lines with nothing authenticating users are warned about (any client could claim them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword } from '../../src/security/password-hash.js';
import { brokerFor, runBroker, waitFor } from '../interop/harness.js';
import { tempDir, writeIn } from './helpers.js';

const WARNING = 'the ACL file has user lines but no provider authenticates users: a client without a certificate gets the rights of whatever user name it claims';

test('an unknown access word refuses to start, naming the file and the line', async (t) => {
  const dir = tempDir(t);
  const acl = writeIn(dir, 'acl', 'user alice\ntopic readwrite alice/#\ntopic Deny alice/secret\n');
  const r = await runBroker(['start', '--mqtt-port', '0', '--store', 'memory', '--data-dir', dir, '--acl-file', acl], 8000);
  assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
  assert.ok(r.stderr.includes(`${acl} line 3: unknown access "Deny"`), `names file and line: ${r.stderr}`);
});

test('ACL user lines without an authenticating provider: a warning at start; with a password file: none', async (t) => {
  const dir = tempDir(t);
  const acl = writeIn(dir, 'acl', 'user alice\ntopic readwrite alice/#\n');
  const open = await brokerFor(t, { args: ['--store', 'memory', '--allow-anonymous', '--acl-file', acl] });
  await waitFor(() => open.logs.some((l) => l['msg'] === 'ready'), 5000, 'the ready line');
  const line = open.logs.find((l) => l['msg'] === WARNING);
  assert.ok(line !== undefined, 'warned');
  assert.equal(line['level'], 'warn');

  const pw = writeIn(dir, 'pw', `alice:${await hashPassword('alice-pw')}\n`);
  const checked = await brokerFor(t, { args: ['--store', 'memory', '--password-file', pw, '--acl-file', acl] });
  await waitFor(() => checked.logs.some((l) => l['msg'] === 'ready'), 5000, 'the ready line');
  assert.equal(
    checked.logs.some((l) => l['msg'] === WARNING),
    false,
    'no warning when a provider authenticates the users',
  );
});
