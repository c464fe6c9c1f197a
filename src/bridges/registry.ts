/** The backend modules by `type`: adding a backend (RocketMQ) is one module and one line here. */
import type { BackendModule } from './backend.js';
import { HTTP_BACKEND } from './backends/http.js';
import { JETSTREAM_BACKEND } from './backends/jetstream.js';
import { KAFKA_BACKEND } from './backends/kafka.js';
import { REDIS_STREAMS_BACKEND } from './backends/redis-streams.js';

export const BACKENDS: ReadonlyMap<string, BackendModule> = new Map<string, BackendModule>([
  ['kafka', KAFKA_BACKEND as BackendModule],
  ['jetstream', JETSTREAM_BACKEND as BackendModule],
  ['redis-streams', REDIS_STREAMS_BACKEND as BackendModule],
  ['http', HTTP_BACKEND as BackendModule],
]);
