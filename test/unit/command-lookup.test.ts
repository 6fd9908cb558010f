import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CommandLookup } from '../../src/server/command-lookup.ts';

describe('CommandLookup', () => {
  it('property: finds every name in any letter case, and nothing else (across growth)', () => {
    fc.assert(fc.property(
      fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }).map((s) => s.toLowerCase()), { maxLength: 600 }),
      fc.array(fc.string({ minLength: 0, maxLength: 12 }), { maxLength: 50 }),
      (names, others) => {
        const lookup = new CommandLookup<number>();
        names.forEach((n, i) => lookup.set(n, i));
        const wrap = (s: string): Buffer => Buffer.from(`..${s}..`, 'latin1');
        names.forEach((n, i) => {
          expect(lookup.get(wrap(n), 2, Buffer.byteLength(n, 'latin1'))).toBe(i);
          const upper = n.toUpperCase();
          // Only ASCII letters fold, as Redis's strcasecmp does for command names.
          if (Buffer.byteLength(upper, 'latin1') === n.length && /^[\x00-\x7f]*$/.test(n)) {
            expect(lookup.get(wrap(upper), 2, upper.length)).toBe(i);
          }
        });
        for (const o of others) {
          const lower = o.toLowerCase();
          if (/^[\x00-\x7f]*$/.test(o) && names.includes(lower)) continue;
          if (names.includes(o)) continue;
          expect(lookup.get(wrap(o), 2, Buffer.byteLength(o, 'latin1'))).toBeUndefined();
        }
      },
    ), { numRuns: 100 });
  });

  it('property: repeated lookups (the last name found is remembered) agree with a model, sets in between included', () => {
    const fold = (s: string): string => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
    const pool = ['get', 'GET', 'Get', 'set', 'SET', 'incr', 'INCR', 'gets', 'ge', 'g', 'G', '', 'x'.repeat(32), 'X'.repeat(32), 'y'.repeat(33), 'Y'.repeat(33), 'é', 'É'];
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), name: fc.constantFrom(...pool), value: fc.integer() }),
      fc.record({ kind: fc.constant('get' as const), name: fc.constantFrom(...pool), pad: fc.integer({ min: 0, max: 5 }) }),
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const lookup = new CommandLookup<number>();
      const model = new Map<string, number>();
      for (const o of ops) {
        if (o.kind === 'set') {
          if (o.name === '') continue;
          lookup.set(o.name, o.value);
          // set() stores the name lower-cased by JavaScript; lookups fold ASCII only.
          model.set(o.name.toLowerCase(), o.value);
          continue;
        }
        const bytes = Buffer.concat([Buffer.alloc(o.pad, 0x41), Buffer.from(o.name, 'latin1'), Buffer.from('ZZ')]);
        const got = lookup.get(bytes, o.pad, Buffer.byteLength(o.name, 'latin1'));
        expect(got).toBe(model.get(fold(o.name)));
      }
    }), { numRuns: 1000 });
  });

  it('a second set of the same name replaces its value', () => {
    const lookup = new CommandLookup<string>();
    lookup.set('get', 'a');
    expect(lookup.get(Buffer.from('GET'), 0, 3)).toBe('a');
    lookup.set('GET', 'b');
    expect(lookup.get(Buffer.from('GET'), 0, 3)).toBe('b');
    expect(lookup.get(Buffer.from('Get'), 0, 3)).toBe('b');
  });
});
