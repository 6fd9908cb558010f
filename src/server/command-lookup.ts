import { copyBytes } from '../util/bytes.ts';

/** Names up to this long are remembered as the last one found (the longest command name has 20 bytes). */
const LAST_NAME_MAX = 32;

/**
 * Finds a command by the bytes of its name, case-insensitively, without
 * making a string: the lookup runs once per request on the front thread.
 */
export class CommandLookup<T> {
  // Open addressing with linear probing, at most half full: a probe is an
  // Int32Array read and, on a hash match, a byte compare (a Map keyed by the
  // 32-bit hash boxed every key above 2^30 and cost more than the rest).
  private names: (Uint8Array | null)[] = new Array<Uint8Array | null>(256).fill(null);
  private values: (T | undefined)[] = new Array<T | undefined>(256).fill(undefined);
  private hashes = new Int32Array(256);
  private mask = 255;
  private count = 0;
  // The last two names of at most 4 bytes found (GET, SET, INCR, HSET...), as their bytes came
  // (any case), packed little-endian into one word: a pipeline repeats its commands, often two
  // in turn (memtier's SET and GET), and a word compare costs less than folding, hashing and
  // probing them. The packed word and the length give the bytes exactly.
  private shortWord0 = 0;
  private shortLength0 = -1;
  private shortValue0: T | undefined = undefined;
  private shortWord1 = 0;
  private shortLength1 = -1;
  private shortValue1: T | undefined = undefined;
  // The last longer name found, as its bytes came.
  private readonly lastName = new Uint8Array(LAST_NAME_MAX);
  private lastLength = -1;
  private lastValue: T | undefined = undefined;

  set(name: string, value: T): void {
    this.lastLength = -1;
    this.shortLength0 = -1;
    this.shortLength1 = -1;
    const bytes = Buffer.from(name.toLowerCase(), 'latin1');
    const h = foldHash(bytes, 0, bytes.length);
    for (let i = h & this.mask; ; i = (i + 1) & this.mask) {
      const n = this.names[i];
      if (n === null) break;
      if (this.hashes[i] === h && n.length === bytes.length && equalsFolded(n, bytes, 0, bytes.length)) {
        this.values[i] = value;
        return;
      }
    }
    if ((this.count + 1) * 2 > this.names.length) this.grow();
    this.insert(bytes, h, value);
  }

  get(u8: Uint8Array, off: number, len: number): T | undefined {
    let word = 0;
    if (len <= 4) {
      word = packShortName(u8, off, len);
      if (len === this.shortLength0 && word === this.shortWord0) return this.shortValue0;
      if (len === this.shortLength1 && word === this.shortWord1) return this.shortValue1;
    } else if (len === this.lastLength) {
      const last = this.lastName;
      let i = 0;
      while (i < len && last[i] === u8[off + i]) i++;
      if (i === len) return this.lastValue;
    }
    const h = foldHash(u8, off, len);
    for (let i = h & this.mask; ; i = (i + 1) & this.mask) {
      const n = this.names[i];
      if (n === null) return undefined;
      if (this.hashes[i] === h && n.length === len && equalsFolded(n, u8, off, len)) {
        const value = this.values[i];
        this.remember(u8, off, len, word, value);
        return value;
      }
    }
  }

  /** Keeps a name just found for the next lookups (the older of the two short ones gives way). */
  private remember(u8: Uint8Array, off: number, len: number, word: number, value: T | undefined): void {
    if (len <= 4) {
      this.shortWord1 = this.shortWord0;
      this.shortLength1 = this.shortLength0;
      this.shortValue1 = this.shortValue0;
      this.shortWord0 = word;
      this.shortLength0 = len;
      this.shortValue0 = value;
    } else if (len <= LAST_NAME_MAX) {
      copyBytes(u8, off, this.lastName, 0, len);
      this.lastLength = len;
      this.lastValue = value;
    }
  }

  private insert(bytes: Uint8Array, h: number, value: T): void {
    let i = h & this.mask;
    while (this.names[i] !== null) i = (i + 1) & this.mask;
    this.names[i] = bytes;
    this.hashes[i] = h;
    this.values[i] = value;
    this.count++;
  }

  private grow(): void {
    const names = this.names;
    const values = this.values;
    const hashes = this.hashes;
    const size = names.length * 2;
    this.names = new Array<Uint8Array | null>(size).fill(null);
    this.values = new Array<T | undefined>(size).fill(undefined);
    this.hashes = new Int32Array(size);
    this.mask = size - 1;
    this.count = 0;
    for (let i = 0; i < names.length; i++) {
      const n = names[i];
      if (n !== null) this.insert(n, hashes[i], values[i] as T);
    }
  }
}

/** The 0 to 4 bytes of a short name in one word, the first in the low byte. */
function packShortName(u8: Uint8Array, off: number, len: number): number {
  if (len === 0) return 0;
  let w = u8[off];
  if (len > 1) w |= u8[off + 1] << 8;
  if (len > 2) w |= u8[off + 2] << 16;
  if (len > 3) w |= u8[off + 3] << 24;
  return w;
}

/** FNV-1a over ASCII-lower-cased bytes. */
function foldHash(u8: Uint8Array, off: number, len: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < len; i++) {
    let c = u8[off + i];
    if (c >= 65 && c <= 90) c += 32;
    h = Math.imul(h ^ c, 0x01000193);
  }
  return h;
}

function equalsFolded(lower: Uint8Array, u8: Uint8Array, off: number, len: number): boolean {
  for (let i = 0; i < len; i++) {
    let c = u8[off + i];
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lower[i]) return false;
  }
  return true;
}
