/**
 * Out of the box (no authentication provider, broker on loopback) a vehicle logs in with its
 * VIN, as an MQTT client with a user name and no password would; off loopback without
 * --allow-anonymous it is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerFor } from '../../interop/harness.js';
import { VECTORS, Vehicle, gbtPort, hex } from './helpers.js';

test('with no provider configured, a vehicle on a loopback broker logs in with its VIN', async (t) => {
  const broker = await brokerFor(t, { args: ['--gbt32960-port', '0', '--store', 'memory'] });
  const vehicle = await Vehicle.connect(t, gbtPort(broker));
  vehicle.send(hex(VECTORS.login));
  const answer = await vehicle.next(0x01);
  assert.equal(answer.flag, 0x01, 'login answered with success');
});

test('with no provider configured off loopback and no --allow-anonymous, the vehicle is refused', async (t) => {
  const broker = await brokerFor(t, { args: ['--host', '0.0.0.0', '--gbt32960-port', '0', '--store', 'memory'] });
  const vehicle = await Vehicle.connect(t, gbtPort(broker));
  vehicle.send(hex(VECTORS.login));
  const answer = await vehicle.next(0x01);
  assert.notEqual(answer.flag, 0x01, 'login refused');
});
