/**
 * The floor under "memory per idle connection": a bare node:net server that answers every
 * CONNECT with a CONNACK and holds the socket, nothing else. Measure it exactly as Junction:
 *   node --expose-gc build/bench/bare-socket-server.js 18882 &
 *   node dist/src/cli/main.js bench conn --connections 10000 --procs 2 --broker-gc --port 18882
 * (SIGUSR2 runs two full GCs, as Junction does under --expose-gc.)
 */
import net from 'node:net';

const port = Number(process.argv[2] ?? 18882);
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
