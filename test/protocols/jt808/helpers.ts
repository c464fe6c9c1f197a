/** Starting a broker with the JT/T 808 listener, finding its port, and terminals to test with. */
import { brokerFor, waitFor, type Broker, type TestContext } from '../../interop/harness.js';
import { Terminal } from '../../../bench/lib/jt808-terminal.js';

/**
 * The port the broker's JT/T 808 listener printed for `transport`. The harness returns once
 * the MQTT line is read; the JT/T 808 line may still be in the pipe, so this waits for it.
 */
export async function jt808Port(broker: Broker, transport: 'tcp' | 'tls' = 'tcp'): Promise<number> {
  const find = () => broker.logs.find((l) => l['msg'] === 'listening' && l['protocol'] === 'jt808' && l['transport'] === transport);
  await waitFor(() => find() !== undefined, 5000, `{"msg":"listening","protocol":"jt808","transport":"${transport}"} in the broker log`);
  return Number(find()!['port']);
}

/** A broker with --jt808-port 0 (plus `args`) for one test. */
export async function jt808Broker(t: TestContext, args: string[] = []): Promise<{ broker: Broker; port: number }> {
  const broker = await brokerFor(t, { args: ['--store', 'memory', '--jt808-port', '0', ...args] });
  return { broker, port: await jt808Port(broker) };
}

let phones = 0;
/** A 12-digit terminal phone unique to this process; `series` (e.g. 138) keeps test files apart. */
export function testPhone(series: number): string {
  return String(series * 100_000_000 + (process.pid % 10_000) * 10 + ++phones).padStart(12, '0');
}

/** A 2013 terminal connected to `port` and logged in (registered, authenticated), closed after the test. */
export async function onlineTerminal(t: TestContext, port: number, phone: string): Promise<Terminal> {
  const term = await Terminal.connect(port, phone);
  t.after(() => term.close());
  await term.login();
  return term;
}
