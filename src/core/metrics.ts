/** Broker counters, plain numbers bumped on the hot path and read by $SYS and logs. */
export class Metrics {
  connectionsOpened = 0;
  connectionsClosed = 0;
  connectionsRefused = 0;
  protocolErrors = 0;
  messagesReceived = 0;
  messagesSent = 0;
  /** every drop, whatever the reason (the counters below say why) */
  messagesDropped = 0;
  queueOverflowDrops = 0;
  expiredDrops = 0;
  oversizeDrops = 0;
  slowConsumerDrops = 0;
  /** deliveries a client's protocol could not take (a device command that does not parse, a device's command queue full) */
  refusedDrops = 0;
  /** device commands never answered after their resends, or held when the device went offline */
  unansweredDrops = 0;
  retainedRefused = 0;
}
