/**
 * GB/T 32960 end to end: simulated vehicles over TCP send real-time frames (vehicle, two drive
 * motors, location and alarm items) to a broker process; a raw MQTT subscriber on
 * gbt32960/+/upstream/info counts what arrives. Reports frames decoded and published per second
 * (received by the subscriber over the time from the first frame sent to the last received),
 * with at most WINDOW frames outstanding so that nothing is dropped.
 * Run: npx tsc -p tsconfig.json && npx tsc -p tsconfig.test.json && node build/bench/gbt32960-throughput.js [vehicles] [framesPerVehicle]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeFrame } from '../src/protocols/gbt32960/codec/frame.js';
import { encodeReport } from '../src/protocols/gbt32960/codec/encode-infos.js';
import type { InfoItem } from '../src/protocols/gbt32960/codec/infos.js';

const VEHICLES = Number(process.argv[2] ?? 50);
const FRAMES_PER_VEHICLE = Number(process.argv[3] ?? 4000);
const BATCH = 50;
/**
 * Frames sent but not yet received by the subscriber, at most: the vehicles wait beyond it, so
 * a busy machine measures a slower rate instead of the broker dropping QoS 0 deliveries to a
 * subscriber that reads too slowly (its slow-consumer protection).
 */
const WINDOW = 5000;
let sentTotal = 0;
let receivedTotal = 0;
let waiters: Array<() => void> = [];

function windowOpen(): Promise<void> | null {
  if (sentTotal - receivedTotal < WINDOW) return null;
  return new Promise((resolve) => waiters.push(resolve));
}

function received(): void {
  receivedTotal++;
  if (waiters.length > 0 && sentTotal - receivedTotal < WINDOW / 2) {
    const wake = waiters;
    waiters = [];
    for (const w of wake) w();
  }
}
const root = fileURLToPath(new URL('../../', import.meta.url));

const ITEMS: InfoItem[] = [
  { Type: 'Vehicle', Status: 1, Charging: 3, Mode: 1, Speed: 620, Mileage: 123456, Voltage: 3800, Current: 10250, SOC: 77, DC: 1, Gear: 0x0e, Resistance: 5000, AcceleratorPedal: 20, BrakePedal: 0 },
  {
    Type: 'DriveMotor',
    Number: 2,
    Motors: [
      { No: 1, Status: 1, CtrlTemp: 80, Rotating: 23000, Torque: 20500, MotorTemp: 85, InputVoltage: 3790, DCBusCurrent: 10200 },
      { No: 2, Status: 1, CtrlTemp: 81, Rotating: 23010, Torque: 20400, MotorTemp: 86, InputVoltage: 3791, DCBusCurrent: 10190 },
    ],
  },
  { Type: 'Location', Status: 0, Longitude: 121473701, Latitude: 31230416 },
  { Type: 'Alarm', MaxAlarmLevel: 1, GeneralAlarmFlag: 0x10, FaultChargeableDeviceNum: 1, FaultChargeableDeviceList: ['00C8'], FaultDriveMotorNum: 0, FaultDriveMotorList: [], FaultEngineNum: 0, FaultEngineList: [], FaultOthersNum: 0, FaultOthersList: [] },
];

function vinOf(i: number): string {
  return 'LBENCH' + String(i).padStart(11, '0');
}

function loginFrame(vin: string): Buffer {
  const data = Buffer.alloc(31);
  data.set([26, 1, 1, 0, 0, 0], 0);
  data.writeUInt16BE(1, 6);
  data.write('89860000000000000000', 8, 'latin1');
  data.set([1, 1, 0x43], 28);
  return encodeFrame(0x01, 0xfe, vin, 0x01, data);
}

/** Admits every vehicle (the broker's normal device authentication, as an HTTP hook). */
async function startHook(): Promise<{ url: string; server: http.Server }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"result":"allow"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`, server };
}

async function startBroker(hookUrl: string, dataDir: string): Promise<{ mqtt: number; gbt: number; stop: () => void }> {
  const info = spawn(process.execPath, ['dist/src/cli/main.js', 'start', '--mqtt-port', '0', '--gbt32960-port', '0', '--store', 'memory', '--data-dir', dataDir, '--auth-http-url', hookUrl, '--allow-anonymous'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const ports: Record<string, number> = {};
  let text = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('broker did not start within 10 s')), 10_000);
    info.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      for (const line of text.split('\n')) {
        if (!line.includes('"listening"')) continue;
        const l = JSON.parse(line) as { protocol: string; port: number };
        ports[l.protocol] = l.port;
      }
      if (ports['mqtt'] !== undefined && ports['gbt32960'] !== undefined) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  info.stdout!.resume();
  return { mqtt: ports['mqtt']!, gbt: ports['gbt32960']!, stop: () => info.kill('SIGKILL') };
}

/** A minimal MQTT 3.1.1 subscriber that only counts PUBLISH packets. */
function subscriber(port: number, filter: string, onPublish: () => void): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const id = Buffer.from('bench-counter');
    const connect = Buffer.concat([Buffer.from([0x10, 10 + 2 + id.length, 0, 4]), Buffer.from('MQTT'), Buffer.from([4, 2, 0, 60, 0, id.length]), id]);
    const topic = Buffer.from(filter);
    const subscribe = Buffer.concat([Buffer.from([0x82, 2 + 2 + topic.length + 1, 0, 1, 0, topic.length]), topic, Buffer.from([0])]);
    let pending = Buffer.alloc(0);
    let subscribed = false;
    socket.on('connect', () => socket.write(Buffer.concat([connect, subscribe])));
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      let buf = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let pos = 0;
      for (;;) {
        if (buf.length - pos < 2) break;
        let len = 0;
        let mul = 1;
        let i = pos + 1;
        let complete = false;
        for (; i < buf.length && i < pos + 5; i++) {
          len += (buf[i]! & 0x7f) * mul;
          mul *= 128;
          if ((buf[i]! & 0x80) === 0) {
            complete = true;
            break;
          }
        }
        if (!complete || buf.length < i + 1 + len) break;
        const type = buf[pos]! >> 4;
        if (type === 3) onPublish();
        else if (type === 9 && !subscribed) {
          subscribed = true;
          resolve(socket);
        }
        pos = i + 1 + len;
      }
      pending = pos === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(pos));
    });
  });
}

async function vehicle(port: number, vin: string, frames: number, onStart: () => void): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('data', () => {});
  await new Promise<void>((r) => socket.once('connect', () => r()));
  const answered = new Promise<void>((r) => socket.once('data', () => r()));
  socket.write(loginFrame(vin));
  await answered;
  const frame = encodeFrame(0x02, 0xfe, vin, 0x01, encodeReport({ Year: 26, Month: 1, Day: 1, Hour: 8, Minute: 0, Second: 0 }, ITEMS));
  const batch = Buffer.concat(Array.from({ length: BATCH }, () => frame));
  onStart();
  for (let sent = 0; sent < frames; sent += BATCH) {
    const wait = windowOpen();
    if (wait !== null) await wait;
    sentTotal += Math.min(BATCH, frames - sent);
    if (!socket.write(frames - sent >= BATCH ? batch : batch.subarray(0, (frames - sent) * frame.length))) {
      await new Promise<void>((r) => socket.once('drain', () => r()));
    }
  }
  socket.end();
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'junction-bench-gbt-'));
  const hook = await startHook();
  const broker = await startBroker(hook.url, dataDir);
  let last = 0;
  const sub = await subscriber(broker.mqtt, 'gbt32960/+/upstream/info', () => {
    received();
    last = performance.now();
  });
  const total = VEHICLES * FRAMES_PER_VEHICLE;
  let start = 0;
  const onStart = (): void => {
    if (start === 0) start = performance.now();
  };
  const frameSize = encodeFrame(0x02, 0xfe, vinOf(0), 0x01, encodeReport({ Year: 26, Month: 1, Day: 1, Hour: 8, Minute: 0, Second: 0 }, ITEMS)).length;
  await Promise.all(Array.from({ length: VEHICLES }, (_, i) => vehicle(broker.gbt, vinOf(i), FRAMES_PER_VEHICLE, onStart)));
  const until = Date.now() + 60_000;
  let seen = -1;
  while (receivedTotal < total && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 500));
    if (receivedTotal === seen) break; // nothing more is coming
    seen = receivedTotal;
  }
  const seconds = (last - start) / 1000;
  console.log(JSON.stringify({
    bench: 'gbt32960-throughput',
    vehicles: VEHICLES,
    frameBytes: frameSize,
    items: ITEMS.map((i) => i.Type),
    framesSent: total,
    messagesReceived: receivedTotal,
    seconds: Number(seconds.toFixed(2)),
    framesPerSecond: Math.round(receivedTotal / seconds),
  }));
  sub.destroy();
  broker.stop();
  hook.server.close();
  rmSync(dataDir, { recursive: true, force: true });
}

await main();
