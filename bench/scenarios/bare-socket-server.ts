/**
 * The floor under "memory per idle connection": a bare node:net server that answers every
 * CONNECT with a CONNACK and holds the socket, nothing else. Measure it exactly as Junction:
 *   node --expose-gc dist/bench/scenarios/bare-socket-server.js --port 18882 &
 *   node dist/src/cli/main.js bench conn --connections 10000 --procs 2 --broker-gc --port 18882
 * (SIGUSR2 runs two full GCs, as Junction does under --expose-gc.)
 */
import net from 'node:net';
import { parseToolArgs, type ToolSpec } from '../lib/tool-cli.js';

const SPEC: ToolSpec = {
  command: 'node --expose-gc dist/bench/scenarios/bare-socket-server.js',
  about: [
    'A bare node:net server on 127.0.0.1 that answers every CONNECT with a CONNACK and holds the socket: the floor under "memory per idle connection". Measure it as Junction, with junction bench conn --broker-gc (SIGUSR2 runs two full GCs when node has --expose-gc).',
  ],
  flags: [{ group: 'Flags', name: 'port', key: 'port', kind: 'int', default: 18882, min: 0, max: 65535, help: 'port to listen on' }],
  examples: ['node --expose-gc dist/bench/scenarios/bare-socket-server.js --port 18882'],
};

const { port } = parseToolArgs<{ port: number }>(SPEC).values;
const connack = Buffer.from([0x20, 2, 0, 0]);
const held: net.Socket[] = [];

net
  .createServer((socket) => {
    held.push(socket);
    socket.setNoDelay(true);
    socket.on('data', () => socket.write(connack));
    socket.on('error', () => {});
  })
  .listen(port, '127.0.0.1', () => console.log(`bare node:net server on 127.0.0.1:${port}`));

process.on('SIGUSR2', () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
});
