/** Broker counters, plain numbers bumped on the hot path and read by $SYS and logs. */
export class Metrics {
  connectionsOpened = 0;
  connectionsClosed = 0;
  connectionsRefused = 0;
  protocolErrors = 0;
  messagesReceived = 0;
  messagesSent = 0;
  messagesDropped = 0;
  queueOverflowDrops = 0;
  expiredDrops = 0;
  oversizeDrops = 0;
  slowConsumerDrops = 0;
  retainedRefused = 0;
}
