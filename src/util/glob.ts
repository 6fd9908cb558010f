/**
 * Glob-style matching with the exact semantics of Redis 7.0's
 * `stringmatchlen()` (util.c), as used by KEYS, SCAN MATCH, PSUBSCRIBE,
 * CONFIG GET, COMMAND LIST FILTERBY PATTERN and ACL key/channel patterns.
 *
 * Operators: `*` (any run, possibly empty), `?` (exactly one byte),
 * `[...]` classes with `^` negation, `a-z` ranges (reversed ranges like `z-a`
 * are swapped), `\x` escapes both inside and outside classes.
 *
 * Edge cases reproduced from the C implementation:
 *  - Redis patterns are NUL-terminated sds strings and the C code peeks one
 *    byte past the pattern end in a few places; we emulate that byte as 0.
 *  - An unterminated class (`[abc`) is closed by the end of the pattern, and
 *    the class still consumes one string byte.  `[` alone never matches,
 *    `[^` alone matches any single byte.
 *  - `]` directly after `[` (or `[^`) closes an empty class.
 *  - A trailing lone `\` matches a literal backslash; inside a class a
 *    trailing `\` is a literal member.
 *  - An escaped byte inside a class is compared case-sensitively even in
 *    nocase mode.
 *  - Range bounds and the subject byte are compared as *signed* chars (x86
 *    `char`), so bytes >= 0x80 sort below ASCII inside ranges.  In nocase
 *    mode the bounds are swapped first and lower-cased afterwards (so
 *    `[Z-a]` matches nothing with nocase); lower-casing is ASCII only (Redis
 *    never sets LC_CTYPE).
 *  - Once the string is consumed, only trailing `*` may remain.
 *  - The empty string is matched only by the empty pattern: Redis 7.0 loops
 *    `while (patternLen && stringLen)`, so even `*` does not match "".
 *    KEYS and SCAN special-case the pattern "*" (match everything without
 *    calling stringmatchlen), which callers must reproduce themselves; with
 *    that shortcut `KEYS *` returns an empty key but `KEYS **` does not.
 *
 * Complexity: Redis 7 stops retrying earlier stars once a later star has
 * scanned to the end of the string without a match ("skipLongerMatches").
 * With that rule only the most recent star can ever be resumed, so the
 * recursion collapses into the classic single-backtrack-point loop used
 * below: O(pattern * string) worst case, no recursion, no allocation.
 */

const STAR = 0x2a; // '*'
const QMARK = 0x3f; // '?'
const LBRACKET = 0x5b; // '['
const RBRACKET = 0x5d; // ']'
const BACKSLASH = 0x5c; // '\\'
const CARET = 0x5e; // '^'
const DASH = 0x2d; // '-'

/** ASCII tolower on an int (C `tolower` in the "C" locale). */
function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
}

/** Byte as a signed C `char`. */
function sch(c: number): number {
  return (c << 24) >> 24;
}

/**
 * Match `str[sOff .. sOff+sLen)` against the glob `pattern[pOff .. pOff+pLen)`.
 * Returns exactly what Redis 7.0 `stringmatchlen(pattern, pLen, str, sLen, nocase)`
 * returns.
 */
export function globMatch(
  pattern: Uint8Array,
  pOff: number,
  pLen: number,
  str: Uint8Array,
  sOff: number,
  sLen: number,
  nocase: boolean,
): boolean {
  const pEnd = pOff + pLen;
  const sEnd = sOff + sLen;
  // Current position (pattern index p, string index s).  The remaining
  // lengths of the C code are pEnd - p and sEnd - s.
  let p = pOff;
  let s = sOff;
  // Single backtrack point: pattern index just after the most recent star,
  // and the string index the last attempt for that star started at.
  let starP = -1;
  let starS = 0;

  for (;;) {
    // ---- one "call" of stringmatchlen_impl starting at (p, s) ----
    let failed = false;
    while (p < pEnd && s < sEnd) {
      const pc = pattern[p];
      if (pc === STAR) {
        // Collapse runs of stars (peeking at p+1, which may be the NUL).
        while (p + 1 < pEnd && pattern[p + 1] === STAR) p++;
        if (p + 1 === pEnd) return true; // trailing star matches the rest
        // Enter a new star loop: the nested call starts at the same string
        // position.  Any older star can never be resumed again.
        starP = p + 1;
        starS = s;
        p = starP;
        continue;
      } else if (pc === QMARK) {
        s++;
      } else if (pc === LBRACKET) {
        p++;
        // pattern[p] with p == pEnd is the NUL terminator, never '^'.
        const not = p < pEnd && pattern[p] === CARET;
        if (not) p++;
        const c = str[s];
        let match = false;
        for (;;) {
          const rem = pEnd - p;
          const cc = rem > 0 ? pattern[p] : 0;
          if (cc === BACKSLASH && rem >= 2) {
            p++;
            if (pattern[p] === c) match = true;
          } else if (cc === RBRACKET) {
            break;
          } else if (rem === 0) {
            // Unterminated class: step back onto the last pattern byte so
            // the common "advance one" below lands exactly on the end.
            p--;
            break;
          } else if (rem >= 3 && pattern[p + 1] === DASH) {
            let start = sch(cc);
            let end = sch(pattern[p + 2]);
            let x = sch(c);
            if (start > end) {
              const t = start;
              start = end;
              end = t;
            }
            if (nocase) {
              start = lower(start);
              end = lower(end);
              x = lower(x);
            }
            p += 2;
            if (x >= start && x <= end) match = true;
          } else if (nocase ? lower(cc) === lower(c) : cc === c) {
            match = true;
          }
          p++;
        }
        if (not) match = !match;
        if (!match) {
          failed = true;
          break;
        }
        s++;
      } else {
        // '\\' escapes the next byte unless it is the last pattern byte, in
        // which case it is a literal backslash.
        let q = p;
        if (pc === BACKSLASH && pEnd - p >= 2) q = ++p;
        const a = pattern[q];
        const b = str[s];
        if (nocase ? lower(a) !== lower(b) : a !== b) {
          failed = true;
          break;
        }
        s++;
      }
      p++;
      if (s === sEnd) {
        while (p < pEnd && pattern[p] === STAR) p++;
        break;
      }
    }
    if (!failed && p === pEnd && s === sEnd) return true;

    // ---- this call returned "no match": resume the innermost star ----
    if (starP < 0) return false;
    starS++;
    // The star loop ran out of string: Redis sets skipLongerMatches and
    // every enclosing star gives up too.
    if (starS === sEnd) return false;
    p = starP;
    s = starS;
  }
}

/** Convenience wrapper over latin1 strings (each char code is one byte). */
export function globMatchString(pattern: string, s: string, nocase = false): boolean {
  const pb = latin1Bytes(pattern);
  const sb = latin1Bytes(s);
  return globMatch(pb, 0, pb.length, sb, 0, sb.length, nocase);
}

function latin1Bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}
