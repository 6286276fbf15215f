import { describe, expect, it } from 'vitest';
import { DECIDED_KEYS, duplicateDecidedKey, rejectDuplicateDecidedKeys } from './decided-keys.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const dup = (text: string): string | undefined => {
  JSON.parse(text); // the scanner's precondition: a valid JSON object
  return duplicateDecidedKey(bytes(text));
};

describe('duplicateDecidedKey', () => {
  it.each([
    ['{"model":"a","model":"b"}', 'model'],
    ['{ "stream" : false , "messages":[] , "stream":true }', 'stream'],
    ['{"n":1,"x":{"n":2},"n":3}', 'n'],
    ['{"mod\\u0065l":"a","model":"b"}', 'model'],
    ['{"max_tokens":1,"messages":[{"content":"\\"max_tokens\\":2,"}],"max_tokens":9}', 'max_tokens'],
  ])('finds the duplicate top-level decided key in %s', (text, key) => {
    expect(dup(text)).toBe(key);
  });

  it.each([
    '{"model":"a","messages":[{"role":"user","content":"model"}]}',
    // Nested duplicates are the nested object's business, not a top-level decision.
    '{"model":"a","tools":[{"model":"x"},{"model":"y"}],"metadata":{"n":1,"n":2}}',
    // Keys the gateway does not decide on may repeat; so may values that spell a key.
    '{"model":"a","user":"u","user":"v","x":"model","y":["model","model"]}',
    '{"model":"a\\\\","n":2}',
    '{}',
  ])('lets %s through', (text) => {
    expect(dup(text)).toBeUndefined();
  });

  it('skips long strings without decoding them (a base64 image body)', () => {
    const image = 'A'.repeat(3 * 1024 * 1024);
    const part = `{"type":"image_url","image_url":{"url":"data:image/png;base64,${image}"}}`;
    const body = `{"model":"gpt-4o","messages":[{"role":"user","content":[${part}]}],"model":"x"}`;
    expect(duplicateDecidedKey(bytes(body))).toBe('model');
  });

  it('answers 400 GW_ERR_REQUEST_INVALID_JSON naming the key', () => {
    expect(() => rejectDuplicateDecidedKeys(bytes('{"model":"a","model":"b"}'))).toThrow(
      expect.objectContaining({ code: 'GW_ERR_REQUEST_INVALID_JSON', status: 400, param: 'model' }),
    );
    expect(DECIDED_KEYS.has('model')).toBe(true);
  });
});
