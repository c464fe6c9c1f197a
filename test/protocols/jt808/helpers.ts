/** Starting a broker with the JT/T 808 listener and finding its port. */
import { brokerFor, waitFor, type Broker, type TestContext } from '../../interop/harness.js';

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
