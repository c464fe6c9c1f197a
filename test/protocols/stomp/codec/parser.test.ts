import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FrameParser, type ParserLimits } from '../../../../src/protocols/stomp/codec/parser.js';
import { Escaping, type StompFrame } from '../../../../src/protocols/stomp/codec/frame.js';
import { encodeFrame } from '../../../../src/protocols/stomp/codec/encode.js';
import { escapeHeader, unescapeHeader } from '../../../../src/protocols/stomp/codec/escape.js';
import { StompError } from '../../../../src/protocols/stomp/errors.js';

const LIMITS: ParserLimits = { maxHeaders: 16, maxHeaderLength: 256, maxBody: 1024 };

function parseAll(bytes: Buffer | string, opts: { limits?: ParserLimits; escaping?: Escaping; split?: number } = {}): StompFrame[] {
  const parser = new FrameParser(opts.limits ?? LIMITS);
  parser.escaping = opts.escaping ?? Escaping.V12;
  const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'binary') : bytes;
  const out: StompFrame[] = [];
  const sink = (f: StompFrame): boolean => {
    out.push(f);
    return true;
  };
  const step = opts.split ?? buf.length;
  for (let i = 0; i < buf.length; i += step) parser.feed(buf.subarray(i, i + step), sink);
  return out;
}

function parseError(bytes: string | Buffer, limits?: ParserLimits): string {
  try {
    parseAll(bytes, limits === undefined ? {} : { limits });
  } catch (err) {
    assert.ok(err instanceof StompError, `expected StompError, got ${String(err)}`);
    return err.message;
  }
  assert.fail('expected the frame to be refused');
}

test('a SEND with content-length keeps NUL bytes in the body, whatever the chunking', () => {
  const bytes = Buffer.concat([Buffer.from('SEND\ndestination:a/b\ncontent-length:5\n\n'), Buffer.from([1, 0, 2, 0, 3]), Buffer.from([0]), Buffer.from('\n')]);
  for (let split = 1; split <= bytes.length; split++) {
    const frames = parseAll(bytes, { split });
    assert.equal(frames.length, 1, `split ${split}`);
    assert.equal(frames[0]!.command, 'SEND');
    assert.deepEqual([...frames[0]!.body], [1, 0, 2, 0, 3], `split ${split}`);
  }
});

test('a body without content-length ends at the first NUL; several frames in one chunk', () => {
  const frames = parseAll('SEND\ndestination:x\n\nhello\0\n\nSEND\ndestination:y\n\nworld\0');
  assert.deepEqual(
    frames.map((f) => [f.header('destination'), f.body.toString()]),
    [
      ['x', 'hello'],
      ['y', 'world'],
    ],
  );
});

test('CR LF line endings and heart-beat EOLs between frames are accepted', () => {
  const frames = parseAll('\n\r\n\nSUBSCRIBE\r\nid:1\r\ndestination:a\r\n\r\n\0\r\n\n');
  assert.equal(frames.length, 1);
  assert.equal(frames[0]!.header('id'), '1');
  assert.equal(frames[0]!.header('destination'), 'a');
});

test('the first of repeated headers wins and values are not trimmed', () => {
  const [f] = parseAll('SEND\ndestination:first\ndestination:second\nx: padded \n\n\0');
  assert.equal(f!.header('destination'), 'first');
  assert.equal(f!.header('x'), ' padded ');
});

test('1.2 escapes decode in names and values; CONNECT is never unescaped', () => {
  const [send] = parseAll('SEND\ndestination:a\nk\\cey:line\\none\\\\two\\r\\c\n\n\0');
  assert.equal(send!.header('k:ey'), 'line\none\\two\r:');
  const [connect] = parseAll('CONNECT\nlogin:a\\nb\n\n\0');
  assert.equal(connect!.header('login'), 'a\\nb');
  const [v10] = parseAll('SEND\ndestination:a\nx:a\\tb\n\n\0', { escaping: Escaping.None });
  assert.equal(v10!.header('x'), 'a\\tb');
});

test('an undefined escape sequence is a fatal error naming it', () => {
  assert.match(parseError('SEND\ndestination:a\nx:a\\tb\n\n\0'), /undefined escape sequence '\\t'/);
});

test('malformed frames are refused with a message naming what was wrong', () => {
  assert.match(parseError('FOO\n\n\0'), /unknown command 'FOO'/);
  assert.match(parseError('SEND\nno-colon-here\n\n\0'), /header line without ':'/);
  assert.match(parseError('SEND\ndestination:a\ncontent-length:abc\n\n\0'), /content-length 'abc' is not a byte count/);
  assert.match(parseError('SEND\ndestination:a\ncontent-length:2\n\nabc\0'), /longer than its content-length of 2 bytes/);
  assert.match(parseError('SUBSCRIBE\nid:1\ndestination:a\n\nbody\0'), /SUBSCRIBE frame must not have a body/);
});

test('limits: header count, header line length, body size (declared or not)', () => {
  const many = 'SEND\n' + Array.from({ length: 17 }, (_, i) => `h${i}:v\n`).join('') + '\n\0';
  assert.match(parseError(many), /more than 16 headers \(--stomp-max-headers\)/);
  assert.match(parseError('SEND\nx:' + 'a'.repeat(300) + '\n\n\0'), /header line longer than --stomp-max-header-length of 256 bytes/);
  assert.match(parseError('SEND\ndestination:a\ncontent-length:2000\n\n'), /content-length of 2000 bytes exceeds --stomp-max-body of 1024 bytes/);
  assert.match(parseError('SEND\ndestination:a\n\n' + 'x'.repeat(1100)), /body exceeds --stomp-max-body of 1024 bytes/);
});

test('a body without NUL is refused as soon as it passes the limit, however it is chunked', () => {
  const parser = new FrameParser(LIMITS);
  parser.feed(Buffer.from('SEND\ndestination:a\n\n'), () => true);
  let fed = 0;
  assert.throws(
    () => {
      for (;;) {
        parser.feed(Buffer.alloc(100, 0x61), () => true);
        fed += 100;
        assert.ok(fed <= 1100, 'kept reading past the body limit');
      }
    },
    (err: unknown) => err instanceof StompError && /--stomp-max-body/.test(err.message),
  );
});

test('a header line that never ends is refused once it passes the limit', () => {
  const parser = new FrameParser(LIMITS);
  parser.feed(Buffer.from('SEND\nx:'), () => true);
  assert.throws(() => {
    for (let i = 0; i < 10; i++) parser.feed(Buffer.alloc(100, 0x61), () => true);
  }, /header line longer than/);
});

test('a sink that stops keeps the rest until resume, and bytes fed meanwhile wait too', () => {
  const parser = new FrameParser(LIMITS);
  const seen: string[] = [];
  let stop = true;
  const sink = (f: StompFrame): boolean => {
    seen.push(f.command);
    const go = !stop;
    stop = false;
    return go;
  };
  parser.feed(Buffer.from('CONNECT\n\n\0SEND\ndestination:a\n\n\0'), sink);
  assert.deepEqual(seen, ['CONNECT']);
  parser.feed(Buffer.from('DISCONNECT\n\n\0'), sink);
  assert.deepEqual(seen, ['CONNECT']);
  parser.resume(sink);
  assert.deepEqual(seen, ['CONNECT', 'SEND', 'DISCONNECT']);
});

test('escape and unescape are inverse for every string (1.1 without CR, 1.2)', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 64 }), (s) => {
      assert.equal(unescapeHeader(escapeHeader(s, Escaping.V12), Escaping.V12), s);
      const noCr = s.replace(/\r/g, '');
      assert.equal(unescapeHeader(escapeHeader(noCr, Escaping.V11), Escaping.V11), noCr);
    }),
  );
});

test('encoded frames parse back to the same headers and body, in any chunking', () => {
  const name = fc.string({ minLength: 1, maxLength: 20 }).filter((n) => n !== 'content-length');
  const header = fc.tuple(name, fc.string({ maxLength: 40 }));
  fc.assert(
    fc.property(fc.array(header, { maxLength: 10 }), fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 1, max: 50 }), (headers, body, split) => {
      const list: Array<[string, string]> = [['destination', 'd'], ...headers, ['content-length', String(body.length)]];
      const bytes = encodeFrame('SEND', list, Buffer.from(body), Escaping.V12);
      const [f] = parseAll(bytes, { split, limits: { maxHeaders: 20, maxHeaderLength: 1024, maxBody: 1024 } });
      const first = new Map<string, string>();
      for (const [k, v] of list) if (!first.has(k)) first.set(k, v);
      assert.deepEqual([...f!.headers], [...first]);
      assert.deepEqual([...f!.body], [...body]);
    }),
  );
});

test('random bytes never crash the parser: a frame, a StompError, or a wait for more', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      try {
        parseAll(Buffer.from(bytes), { split: 7 });
      } catch (err) {
        assert.ok(err instanceof StompError, `unexpected ${String(err)}`);
      }
    }),
    { numRuns: 2000 },
  );
});
