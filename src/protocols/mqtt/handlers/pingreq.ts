/** PINGREQ: answer PINGRESP; any packet already refreshed the keep-alive. */
import type { MqttConnection } from '../connection.js';
import { encodePingresp } from '../codec/encode.js';

export function handlePingreq(conn: MqttConnection): void {
  conn.write(encodePingresp());
}
