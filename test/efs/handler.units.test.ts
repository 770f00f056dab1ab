/**
 * Units of the EFS file API and of the shared helpers it added: binary request bodies
 * (`readBinaryBody`), opaque entity tags (`entity-tags.ts`), listing cursors and byte order.
 */
import { decodeCursor, encodeCursor } from '../../lambda/efs/lib/cursor';
import { compareBytes, filePathProblem, parsePrefix } from '../../lambda/efs/lib/paths';
import { parseContentType } from '../../lambda/efs/lib/routes';
import { formatEntityTag, parseEntityTagCondition, strongMatch, weakMatch } from '../../lambda/shared/entity-tags';
import { readBinaryBody } from '../../lambda/shared/http';
import { BadRequestError, PayloadTooLargeError } from '../../lambda/shared/http-errors';

describe('readBinaryBody', () => {
  test.each([
    [{ body: null }, ''],
    [{ body: '', isBase64Encoded: true }, ''],
    [{ body: 'aGk=', isBase64Encoded: true }, 'hi'],
    [{ body: 'aGk', isBase64Encoded: true }, 'hi'],
    [{ body: 'hi' }, 'hi'],
  ])('%j -> %j', (event, expected) => {
    expect(readBinaryBody(event, { maxBytes: 10 }).toString('utf8')).toBe(expected);
  });

  test('decodes a 4 MiB base64 body (a backtracking pattern would overflow the regexp stack)', () => {
    const bytes = Buffer.alloc(4 * 1024 * 1024, 7);

    expect(readBinaryBody({ body: bytes.toString('base64'), isBase64Encoded: true }, { maxBytes: bytes.length }).equals(bytes)).toBe(true);
  });

  test('413 counts decoded bytes: base64 just at the limit passes, one byte more fails', () => {
    expect(readBinaryBody({ body: Buffer.alloc(5).toString('base64'), isBase64Encoded: true }, { maxBytes: 5 })).toHaveLength(5);
    expect(() => readBinaryBody({ body: Buffer.alloc(6).toString('base64'), isBase64Encoded: true }, { maxBytes: 5 })).toThrow(PayloadTooLargeError);
  });

  test('413 counts UTF-8 bytes of a text body, not characters', () => {
    expect(() => readBinaryBody({ body: 'ééé' }, { maxBytes: 5 })).toThrow(PayloadTooLargeError);
    expect(readBinaryBody({ body: 'éé' }, { maxBytes: 4 })).toHaveLength(4);
  });

  test('a huge base64 body is refused before it is decoded', () => {
    expect(() => readBinaryBody({ body: '!'.repeat(1000), isBase64Encoded: true }, { maxBytes: 10 })).toThrow(PayloadTooLargeError);
  });

  test.each(['a', 'aGk==', '=aGk', 'aG k', 'aGk=\n'])('%j is not valid base64', (body) => {
    expect(() => readBinaryBody({ body, isBase64Encoded: true }, { maxBytes: 10 })).toThrow(BadRequestError);
  });
});

describe('entity tags', () => {
  test('parses lists, weak tags and *', () => {
    expect(parseEntityTagCondition('*', 'If-Match')).toEqual({ kind: 'any' });
    expect(parseEntityTagCondition(' "a", W/"b",, "c,d" ', 'If-Match')).toEqual({
      kind: 'list',
      tags: [{ weak: false, opaque: 'a' }, { weak: true, opaque: 'b' }, { weak: false, opaque: 'c,d' }],
    });
  });

  test.each(['', 'a', '"a', 'w/"a"', '"a" "b"', ',', Array.from({ length: 51 }, () => '"a"').join(',')])('rejects %j', (header) => {
    expect(() => parseEntityTagCondition(header, 'If-Match')).toThrow(BadRequestError);
  });

  test('If-Match compares strongly, If-None-Match weakly', () => {
    const condition = parseEntityTagCondition('W/"a", "b"', 'If-Match');

    expect(strongMatch(condition, 'a')).toBe(false);
    expect(strongMatch(condition, 'b')).toBe(true);
    expect(weakMatch(condition, 'a')).toBe(true);
    expect(weakMatch(condition, 'c')).toBe(false);
    expect(strongMatch({ kind: 'any' }, 'anything')).toBe(true);
  });

  test('formats only valid opaque values', () => {
    expect(formatEntityTag('abc')).toBe('"abc"');
    expect(() => formatEntityTag('a"b')).toThrow(RangeError);
    expect(() => formatEntityTag('a b')).toThrow(RangeError);
  });
});

describe('cursors', () => {
  test.each(['a', 'über/😀', `${'x'.repeat(200)}/`.repeat(5) + 'x'.repeat(19)])('round-trip of path #%#', (path) => {
    expect(decodeCursor(encodeCursor(path))).toBe(path);
  });
});

describe('paths', () => {
  test('byte order differs from UTF-16 order above U+FFFF', () => {
    expect(compareBytes('\uff5e', '😀')).toBeLessThan(0);
    expect('\uff5e' < '😀').toBe(false);
    expect(compareBytes('a-b', 'a/')).toBeLessThan(0);
  });

  test('a 1024-byte path is valid, the segment and path limits count UTF-8 bytes', () => {
    expect(filePathProblem(['é'.repeat(127), 'é'.repeat(127), 'é'.repeat(127), 'é'.repeat(127), 'a'.repeat(4)].join('/'))).toBeUndefined();
    expect(filePathProblem('😀'.repeat(64))).toMatch(/255 bytes/);
  });

  test.each([[undefined, ''], ['', ''], ['a/', 'a/'], ['a', 'a']])('prefix %j -> %j', (prefix, expected) => {
    expect(parsePrefix(prefix)).toBe(expected);
  });
});

describe('content types', () => {
  test('absent or blank is application/octet-stream; valid ones are kept trimmed', () => {
    expect(parseContentType(undefined)).toBe('application/octet-stream');
    expect(parseContentType('   ')).toBe('application/octet-stream');
    expect(parseContentType(' text/plain ')).toBe('text/plain');
  });

  test('rejects a long run of parameters (no catastrophic backtracking)', () => {
    // With backtracking exponential in the 40 parameters and 50 separators, this would not end
    // within the test timeout; ending at all is the check (no timing that a loaded machine stretches).
    expect(() => parseContentType(`a/b${'; a=b'.repeat(40)} ;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;x`)).toThrow(BadRequestError);
  });
});
