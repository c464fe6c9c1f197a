/**
 * What each frame of a vehicle does: before login only a vehicle login is accepted; after it,
 * heartbeats and time sync are answered here and not published, login and logout are published
 * and answered, every other frame is published on its upstream topic, and an answer of the
 * vehicle settles the command it answers.
 */
import { Command, HEADER_SIZE, OFFSET_COMMAND, OFFSET_ENCRYPTION, OFFSET_RESPONSE, OFFSET_VIN, ResponseFlag, VIN_LENGTH, hexId, isResponseFlag } from '../codec/constants.js';
import { restamp } from '../codec/answers.js';
import { writeTime } from '../codec/reader.js';
import { Phase } from '../../../gateway/shell.js';
import type { VehicleConnection } from '../connection.js';

/** True for a vehicle login (command 0x01, response flag 0xFE) at `start`: the frame before login, what the login budget counts. */
export function isLoginFrame(buf: Buffer, start: number): boolean {
  return buf[start + OFFSET_COMMAND] === Command.VehicleLogin && buf[start + OFFSET_RESPONSE] === ResponseFlag.Command;
}

/** Handles one whole frame in buf[start, end); returns true when it was published. */
export function handleFrame(conn: VehicleConnection, buf: Buffer, start: number, end: number): boolean {
  const command = buf[start + OFFSET_COMMAND]!;
  const response = buf[start + OFFSET_RESPONSE]!;
  const encryption = buf[start + OFFSET_ENCRYPTION]!;
  const data = buf.subarray(start + HEADER_SIZE, end - 1);
  if (conn.phase === Phase.Connecting) {
    if (!isLoginFrame(buf, start)) {
      conn.protocolError(`frame before vehicle login (command ${hexId(command)}, response flag ${hexId(response)})`);
      return false;
    }
    conn.login(buf.toString('latin1', start + OFFSET_VIN, start + OFFSET_VIN + VIN_LENGTH), encryption, data);
    return false;
  }
  if (buf.compare(conn.vinBytes!, 0, VIN_LENGTH, start + OFFSET_VIN, start + OFFSET_VIN + VIN_LENGTH) !== 0) {
    conn.kit.metrics.protocolErrors++;
    conn.warn('frame for another VIN than the one logged in dropped', { frameVin: buf.toString('latin1', start + OFFSET_VIN, start + OFFSET_VIN + VIN_LENGTH) });
    return false;
  }
  if (response === ResponseFlag.Command) {
    switch (command) {
      case Command.Heartbeat:
        conn.answer(Command.Heartbeat, null);
        return false;
      case Command.TimeSync: {
        const now = Buffer.allocUnsafe(6);
        writeTime(now, 0, conn.now());
        conn.answer(Command.TimeSync, now);
        return false;
      }
      case Command.VehicleLogin:
      case Command.VehicleLogout:
        // A new login on the same link (after a logout) is published and answered again.
        conn.publish(command, response, encryption, data);
        conn.answer(command, restamp(conn.config.aes, conn.now(), encryption, data));
        return true;
    }
  }
  conn.publish(command, response, encryption, data);
  if (isResponseFlag(response) && conn.commands.settle((cmd) => cmd.command === command, conn.kit.wheel.now) !== null) {
    // The next command (if any) went out: its resend deadline may be the earliest now.
    conn.onCommandSettled();
  }
  return true;
}
