import { describe, expect, it } from 'vitest';
import { jsonExample } from './json-example.js';

describe('jsonExample', () => {
  it.each([
    ['no schema', undefined, {}],
    ['an empty object', { type: 'object', properties: {} }, {}],
    ['a string', { type: 'string' }, 'example'],
    ['a formatted string', { type: 'string', format: 'date-time' }, '2026-01-01T00:00:00Z'],
    ['a long string', { type: 'string', minLength: 10 }, 'examplexxx'],
    ['a short string', { type: 'string', maxLength: 3 }, 'exa'],
    ['an enum', { enum: ['b', 'a'] }, 'b'],
    ['a const', { const: 42 }, 42],
    ['an unbounded integer', { type: 'integer', minimum: -9007199254740991 }, 1],
    ['a bounded number', { type: 'number', minimum: 5, maximum: 9 }, 5],
    ['an exclusive bound', { type: 'integer', exclusiveMaximum: 0 }, -1],
    ['a boolean', { type: 'boolean' }, true],
    ['a nullable string', { type: ['null', 'string'] }, 'example'],
    ['anyOf with null first', { anyOf: [{ type: 'null' }, { type: 'integer' }] }, 1],
    ['an array', { type: 'array', items: { type: 'boolean' } }, [true]],
    ['minItems', { type: 'array', items: { const: 0 }, minItems: 2 }, [0, 0]],
    ['a tuple', { type: 'array', prefixItems: [{ type: 'string' }, { type: 'integer' }] }, ['example', 1]],
  ])('%s', (_name, schema, expected) => {
    expect(jsonExample(schema)).toEqual(expected);
  });

  it('follows local $refs and stops at a bounded depth on recursive ones', () => {
    const schema = {
      type: 'object',
      properties: { node: { $ref: '#/$defs/node' } },
      $defs: { node: { type: 'object', properties: { name: { type: 'string' }, next: { $ref: '#/$defs/node' } } } },
    };
    const value = jsonExample(schema) as { node: { name: string; next: unknown } };
    expect(value.node.name).toBe('example');
    expect(JSON.stringify(value).length).toBeLessThan(400);
  });
});
