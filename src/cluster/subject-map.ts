/**
 * MQTT topic <-> NATS subject, as nats-server's own MQTT support maps them (server/mqtt.go,
 * mqttToNATSSubjectConversion and natsSubjectToMQTTTopic), so NATS tools see device topics
 * where they expect them: '/' separates tokens ('a/b' <-> 'a.b'), a '.' inside a level is '//'
 * ('v1.2/x' <-> 'v1//2.x'), an empty level is the token '/' ('/a' <-> '/.a', 'a//b' <->
 * 'a./.b'), '+' is '*' and '#' is '>' ('a/#' also subscribes 'a', its parent level).
 *
 * A topic NATS cannot carry (white space or control characters, a level that is exactly '*' or
 * '>') travels on a fallback subject instead: $JUNCTION.topic.<base64url of the topic>.
 */

/** Subjects Junction keeps for itself; never routed to MQTT. */
export const INTERNAL_PREFIX = '$JUNCTION.';
/** Where topics NATS cannot carry travel between nodes. */
export const FALLBACK_PREFIX = '$JUNCTION.topic.';
/** Every fallback subject. */
export const FALLBACK_WILDCARD = '$JUNCTION.topic.>';

/** True for a character a NATS subject cannot hold (white space, control characters, DEL). */
function unsafe(level: string): boolean {
  for (let i = 0; i < level.length; i++) {
    const c = level.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f) return true;
  }
  return false;
}

function levelToToken(level: string): string | null {
  if (level === '') return '/';
  if (level === '*' || level === '>' || unsafe(level)) return null;
  return level.indexOf('.') === -1 ? level : level.replaceAll('.', '//');
}

/** The subject of a topic name, or null when NATS cannot carry it (use fallbackSubject). */
export function topicToSubject(topic: string): string | null {
  if (topic.indexOf('/') === -1) return levelToToken(topic);
  const levels = topic.split('/');
  for (let i = 0; i < levels.length; i++) {
    const token = levelToToken(levels[i]!);
    if (token === null) return null;
    levels[i] = token;
  }
  return levels.join('.');
}

/**
 * The subjects to subscribe for a (non-shared) filter: one, or two for 'x/#' (its parent level
 * 'x' too); null when the filter cannot be expressed (its topics arrive on the fallback subject).
 */
export function filterToSubjects(filter: string): string[] | null {
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    const token = level === '+' ? '*' : level === '#' ? '>' : levelToToken(level);
    if (token === null) return null;
    levels[i] = token;
  }
  const subject = levels.join('.');
  if (levels.length > 1 && levels[levels.length - 1] === '>') return [subject, levels.slice(0, -1).join('.')];
  return [subject];
}

/** The topic of a subject (the inverse of topicToSubject). */
export function subjectToTopic(subject: string): string {
  if (subject.indexOf('/') === -1) return subject.replaceAll('.', '/');
  const tokens = subject.split('.');
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    tokens[i] = t === '/' ? '' : t.replaceAll('//', '.');
  }
  return tokens.join('/');
}

/** The fallback subject of a topic NATS cannot carry. */
export function fallbackSubject(topic: string): string {
  return FALLBACK_PREFIX + Buffer.from(topic, 'utf8').toString('base64url');
}

/** The topic a fallback subject carries. */
export function fallbackTopic(subject: string): string {
  return Buffer.from(subject.slice(FALLBACK_PREFIX.length), 'base64url').toString('utf8');
}
