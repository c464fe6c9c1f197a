/**
 * @stomp/stompjs, the client web apps use: over TCP (through a WebSocket-like adapter) and over
 * WebSocket at /stomp on the WebSocket listener (--ws-port), exchanging with MQTT.js.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, type IMessage, type IStompSocket } from '@stomp/stompjs';
import WebSocket from 'ws';
import mqtt from 'mqtt';
import { TcpStompSocket, clientId, stompBroker, waitFor, type TestContext } from '../helpers.js';

/** Activates a stompjs client and resolves once CONNECTED. */
function activate(t: TestContext, factory: () => IStompSocket): Promise<Client> {
  const client = new Client({ webSocketFactory: factory, reconnectDelay: 0, heartbeatIncoming: 0, heartbeatOutgoing: 0 });
  t.after(() => client.deactivate({ force: true }));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('stompjs did not connect within 5 s')), 5000);
    client.onConnect = () => {
      clearTimeout(timer);
      resolve(client);
    };
    client.onStompError = (f) => reject(new Error(`STOMP ERROR: ${f.headers['message']}`));
    client.onWebSocketError = () => reject(new Error('socket error'));
    client.activate();
  });
}

/** Publish with a receipt and wait for it. */
function publishConfirmed(client: Client, destination: string, body: string, headers: Record<string, string> = {}): Promise<void> {
  const receipt = 'p-' + Math.random().toString(36).slice(2);
  const done = new Promise<void>((resolve) => client.watchForReceipt(receipt, () => resolve()));
  client.publish({ destination, body, headers: { ...headers, receipt } });
  return done;
}

async function exchange(t: TestContext, factory: () => IStompSocket, mqttUrl: string): Promise<void> {
  const a = await activate(t, factory);
  const b = await activate(t, factory);
  const received: IMessage[] = [];
  const subscribed = 's-' + Math.random().toString(36).slice(2);
  const ready = new Promise<void>((resolve) => a.watchForReceipt(subscribed, () => resolve()));
  a.subscribe(
    '/topic/chat.*',
    (m) => {
      received.push(m);
      m.ack();
    },
    { ack: 'client-individual', receipt: subscribed },
  );
  await ready;

  await publishConfirmed(b, '/topic/chat.room1', 'hello from stompjs', { 'content-type': 'text/plain' });
  await waitFor(() => received.length === 1, 3000, 'the stompjs message');
  assert.equal(received[0]!.body, 'hello from stompjs');
  assert.equal(received[0]!.headers['destination'], '/topic/chat.room1');

  const m = await mqtt.connectAsync(mqttUrl, { protocolVersion: 5, clientId: clientId('m'), reconnectPeriod: 0 });
  t.after(() => m.end(true));
  const fromStomp: string[] = [];
  m.on('message', (topic, payload) => fromStomp.push(`${topic} ${payload.toString()}`));
  await m.subscribeAsync('chat/#', { qos: 1 });
  await m.publishAsync('chat/room2', 'hello from mqtt', { qos: 1 });
  await waitFor(() => received.length === 2, 3000, 'the MQTT message at stompjs');
  assert.equal(received[1]!.body, 'hello from mqtt');
  await publishConfirmed(b, '/topic/chat.room3', 'back to mqtt');
  await waitFor(() => fromStomp.includes('chat/room3 back to mqtt'), 3000, 'the stompjs message at MQTT');
}

test('@stomp/stompjs over TCP: subscribe, send, ack, exchange with MQTT', async (t) => {
  const { port, broker } = await stompBroker(t);
  await exchange(t, () => new TcpStompSocket(port) as unknown as IStompSocket, broker.url);
});

test('@stomp/stompjs over WebSocket at /stomp: subscribe, send, ack, exchange with MQTT', async (t) => {
  // Needs the WebSocket listener (--ws-port); the /stomp route is registered by the gateway.
  const { broker, portOf } = await stompBroker(t, ['--ws-port', '0']);
  const wsPort = portOf('websocket', 'ws');
  await exchange(t, () => new WebSocket(`ws://127.0.0.1:${wsPort}/stomp`, ['v12.stomp', 'v11.stomp', 'v10.stomp']) as unknown as IStompSocket, broker.url);
});
