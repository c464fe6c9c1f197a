/**
 * GB/T 32960 end to end: simulated vehicles over TCP send real-time frames (vehicle, two drive
 * motors, location and alarm items) to a broker process; a raw MQTT subscriber on
 * gbt32960/+/upstream/info counts what arrives. Reports frames decoded and published per second
 * (received by the subscriber over the time from the first frame sent to the last received),
 * with at most WINDOW frames outstanding so that nothing is dropped.
 */
import http from 'node:http';
import net from 'node:net';
import type { FlagDef } from '../../src/config/flags.js';
import { encodeFrame } from '../../src/protocols/gbt32960/codec/frame.js';
import { encodeReport } from '../../src/protocols/gbt32960/codec/encode-infos.js';
import type { InfoItem } from '../../src/protocols/gbt32960/codec/infos.js';
import { startJunction } from '../lib/broker-process.js';
import { StreamClient } from '../lib/stream-client.js';
import { parseToolArgs, type ToolSpec } from '../lib/tool-cli.js';

interface GbtThroughputOptions {
  vehicles: number;
  frames: number;
}

const FLAGS: readonly FlagDef<keyof GbtThroughputOptions>[] = [
  { group: 'Load', name: 'vehicles', key: 'vehicles', kind: 'int', default: 50, min: 1, max: 100_000, help: 'simulated vehicles, one TCP connection each' },
  { group: 'Load', name: 'frames', key: 'frames', kind: 'int', default: 4000, min: 1, max: 100_000_000, help: 'real-time frames per vehicle' },
];

const SPEC: ToolSpec = {
  command: 'node dist/bench/scenarios/gbt32960-throughput.js',
  about: [
    'GB/T 32960 end to end: vehicles send real-time frames to a Junction broker (from dist/, devices admitted by a local HTTP hook) and a subscriber on gbt32960/+/upstream/info counts the MQTT messages. Prints one JSON line with frames decoded and published per second.',
  ],
  flags: FLAGS,
  examples: ['node dist/bench/scenarios/gbt32960-throughput.js --vehicles 50 --frames 4000'],
};

const { vehicles: VEHICLES, frames: FRAMES_PER_VEHICLE } = parseToolArgs<GbtThroughputOptions>(SPEC).values;
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
  {
    Type: 'Alarm',
    MaxAlarmLevel: 1,
    GeneralAlarmFlag: 0x10,
    FaultChargeableDeviceNum: 1,
    FaultChargeableDeviceList: ['00C8'],
    FaultDriveMotorNum: 0,
    FaultDriveMotorList: [],
    FaultEngineNum: 0,
    FaultEngineList: [],
    FaultOthersNum: 0,
    FaultOthersList: [],
  },
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
  const hook = await startHook();
  const broker = await startJunction({ args: ['--gbt32960-port', '0', '--store', 'memory', '--auth-http-url', hook.url, '--allow-anonymous'] });
  let last = 0;
  const sub = await StreamClient.connect(broker.port, 'bench-counter');
  sub.onPublish = () => {
    received();
    last = performance.now();
  };
  await sub.subscribe('gbt32960/+/upstream/info', 0);
  const total = VEHICLES * FRAMES_PER_VEHICLE;
  let start = 0;
  const onStart = (): void => {
    if (start === 0) start = performance.now();
  };
  const frameSize = encodeFrame(0x02, 0xfe, vinOf(0), 0x01, encodeReport({ Year: 26, Month: 1, Day: 1, Hour: 8, Minute: 0, Second: 0 }, ITEMS)).length;
  await Promise.all(Array.from({ length: VEHICLES }, (_, i) => vehicle(broker.listeningPort('gbt32960'), vinOf(i), FRAMES_PER_VEHICLE, onStart)));
  const until = Date.now() + 60_000;
  let seen = -1;
  while (receivedTotal < total && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 500));
    if (receivedTotal === seen) break; // nothing more is coming
    seen = receivedTotal;
  }
  const seconds = (last - start) / 1000;
  console.log(
    JSON.stringify({
      bench: 'gbt32960-throughput',
      vehicles: VEHICLES,
      frameBytes: frameSize,
      items: ITEMS.map((i) => i.Type),
      framesSent: total,
      messagesReceived: receivedTotal,
      seconds: Number(seconds.toFixed(2)),
      framesPerSecond: Math.round(receivedTotal / seconds),
    }),
  );
  sub.close();
  await broker.dispose();
  hook.server.close();
}

await main();
