/** Shared helpers of the security suite: temp files, refusals seen by real clients, log lookups. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type IClientOptions, type MqttClient, type Packet } from 'mqtt';
import type { Broker, LogLine, TestContext } from '../interop/harness.js';
import { clientId, waitFor } from '../interop/harness.js';

/** A temp directory removed when the test (or suite, with `after`) ends. */
export function tempDir(t: TestContext | null, prefix = 'junction-sec-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  if (t) t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes `text` to `name` in `dir`; returns its path. */
export function writeIn(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** What a connect attempt came to: the CONNACK code (5.0 reason or 3.1.1 return code), or 0. */
export function connectOutcome(url: string, opts: IClientOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 4000, clientId: clientId('sec'), ...opts });
    const timer = setTimeout(() => {
      client.end(true);
      reject(new Error('no CONNACK within 5 s'));
    }, 5000);
    const finish = (code: number): void => {
      clearTimeout(timer);
      client.end(true);
      resolve(code);
    };
    client.once('connect', () => finish(0));
    client.once('error', (err: Error & { code?: number }) => {
      if (typeof err.code === 'number') finish(err.code);
      else {
        clearTimeout(timer);
        client.end(true);
        reject(err);
      }
    });
  });
}

/** Waits until the broker logged a line for which `match` holds; returns it. */
export async function logLine(broker: Broker, match: (line: LogLine) => boolean, what: string, timeoutMs = 3000): Promise<LogLine> {
  let found: LogLine | undefined;
  await waitFor(() => (found = broker.logs.find(match)) !== undefined, timeoutMs, what);
  return found!;
}

/** Subscribes and resolves with the SUBACK's own reason codes (MQTT.js hides 5.0 failures behind an error). */
export function subackCodes(client: MqttClient, filters: string | string[], qos: 0 | 1 | 2 = 0): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no SUBACK for ${String(filters)} within 3 s`)), 3000);
    const onPacket = (packet: Packet): void => {
      if (packet.cmd !== 'suback') return;
      clearTimeout(timer);
      client.removeListener('packetreceive', onPacket);
      resolve(packet.granted.map((g) => (typeof g === 'number' ? g : (g as { qos: number }).qos)));
    };
    client.on('packetreceive', onPacket);
    client.subscribe(filters, { qos }, () => {});
  });
}
