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

  it('a second set of the same name replaces its value', () => {
    const lookup = new CommandLookup<string>();
    lookup.set('get', 'a');
    lookup.set('GET', 'b');
    expect(lookup.get(Buffer.from('Get'), 0, 3)).toBe('b');
  });
});
