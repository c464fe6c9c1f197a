/**
 * Templates of bridge rules: `fleet/${clientid}`, `${topic[2]}`, `cmd/${key}`, `${headers.vin}`.
 * A template is compiled once at start into literal and variable parts (an unknown variable is a
 * configuration error naming it); rendering walks the parts with one string concatenation.
 */

/** What a forwarded message offers to templates. */
export interface ForwardFields {
  readonly topic: string;
  readonly clientId: string;
  readonly username: string;
}

/** What a consumed record offers to templates. */
export interface ConsumeFields {
  /** the backend's topic, subject or stream the record came from */
  readonly topic: string;
  /** the record's key ('' when it has none) */
  readonly key: string;
  readonly headers: ReadonlyMap<string, string>;
}

/** Which variables a template may use. */
export type TemplateSide = 'forward' | 'consume';

const enum Part {
  Literal = 0,
  Topic = 1,
  TopicLevel = 2,
  ClientId = 3,
  Username = 4,
  Key = 5,
  Header = 6,
}

/** A compiled template; `render` fills it for one message or record. */
export class Template {
  readonly source: string;
  /** True when some part needs the publisher's username (looked up only then). */
  readonly usesUsername: boolean;
  private readonly kinds: Part[];
  private readonly values: Array<string | number>;

  private constructor(source: string, kinds: Part[], values: Array<string | number>) {
    this.source = source;
    this.kinds = kinds;
    this.values = values;
    this.usesUsername = kinds.includes(Part.Username);
  }

  /** Compiles `source`; throws an Error saying which variable is unknown or unclosed. */
  static compile(source: string, side: TemplateSide): Template {
    const kinds: Part[] = [];
    const values: Array<string | number> = [];
    let at = 0;
    while (at < source.length) {
      const open = source.indexOf('${', at);
      if (open === -1) break;
      if (open > at) {
        kinds.push(Part.Literal);
        values.push(source.slice(at, open));
      }
      const close = source.indexOf('}', open);
      if (close === -1) throw new Error(`unclosed \${ at character ${open + 1} of "${source}"`);
      const name = source.slice(open + 2, close);
      const [kind, value] = variable(name, side, source);
      kinds.push(kind);
      values.push(value);
      at = close + 1;
    }
    if (at < source.length) {
      kinds.push(Part.Literal);
      values.push(source.slice(at));
    }
    return new Template(source, kinds, values);
  }

  /** True when the template is one literal (no variables). */
  get constant(): boolean {
    return this.kinds.length === 0 || (this.kinds.length === 1 && this.kinds[0] === Part.Literal);
  }

  /** The text for a forwarded message. */
  forward(f: ForwardFields): string {
    return this.render(f.topic, f, null);
  }

  /** The text for a consumed record. */
  consume(r: ConsumeFields): string {
    return this.render(r.topic, null, r);
  }

  /** One side's fields are null: compile() let through only the variables that side has. */
  private render(topic: string, f: ForwardFields | null, r: ConsumeFields | null): string {
    let out = '';
    const kinds = this.kinds;
    const values = this.values;
    for (let i = 0; i < kinds.length; i++) {
      switch (kinds[i]) {
        case Part.Literal:
          out += values[i] as string;
          break;
        case Part.Topic:
          out += topic;
          break;
        case Part.TopicLevel:
          out += topicLevel(topic, values[i] as number);
          break;
        case Part.ClientId:
          out += f!.clientId;
          break;
        case Part.Username:
          out += f!.username;
          break;
        case Part.Key:
          out += r!.key;
          break;
        case Part.Header:
          out += r!.headers.get(values[i] as string) ?? '';
          break;
      }
    }
    return out;
  }
}

const TOPIC_LEVEL = /^topic\[(\d{1,3})\]$/;

function variable(name: string, side: TemplateSide, source: string): [Part, string | number] {
  if (name === 'topic') return [Part.Topic, ''];
  const level = TOPIC_LEVEL.exec(name);
  if (level !== null) return [Part.TopicLevel, Number(level[1])];
  if (side === 'forward') {
    if (name === 'clientid') return [Part.ClientId, ''];
    if (name === 'username') return [Part.Username, ''];
    throw new Error(`unknown variable \${${name}} in "${source}" (a forward rule knows \${clientid}, \${username}, \${topic}, \${topic[N]})`);
  }
  if (name === 'key') return [Part.Key, ''];
  if (name.startsWith('headers.') && name.length > 8) return [Part.Header, name.slice(8)];
  throw new Error(`unknown variable \${${name}} in "${source}" (a consume rule knows \${key}, \${headers.NAME}, \${topic}, \${topic[N]})`);
}

/** Level `n` (from 0) of a topic, or '' past its last level. */
function topicLevel(topic: string, n: number): string {
  let start = 0;
  for (let i = 0; i < n; i++) {
    const slash = topic.indexOf('/', start);
    if (slash === -1) return '';
    start = slash + 1;
  }
  const end = topic.indexOf('/', start);
  return end === -1 ? topic.slice(start) : topic.slice(start, end);
}
