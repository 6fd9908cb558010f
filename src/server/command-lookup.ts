/**
 * Finds a command by the bytes of its name, case-insensitively, without
 * making a string: the lookup runs once per request on the front thread.
 */
export class CommandLookup<T> {
  private readonly buckets = new Map<number, Array<{ name: Uint8Array; value: T }>>();

  set(name: string, value: T): void {
    const bytes = Buffer.from(name.toLowerCase(), 'latin1');
    const h = foldHash(bytes, 0, bytes.length);
    let list = this.buckets.get(h);
    if (list === undefined) {
      list = [];
      this.buckets.set(h, list);
    }
    list.push({ name: bytes, value });
  }

  get(u8: Uint8Array, off: number, len: number): T | undefined {
    const list = this.buckets.get(foldHash(u8, off, len));
    if (list === undefined) return undefined;
    for (let i = 0; i < list.length; i++) {
      const e = list[i];
      if (e.name.length === len && equalsFolded(e.name, u8, off, len)) return e.value;
    }
    return undefined;
  }
}

/** FNV-1a over ASCII-lower-cased bytes. */
function foldHash(u8: Uint8Array, off: number, len: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < len; i++) {
    let c = u8[off + i];
    if (c >= 65 && c <= 90) c += 32;
    h = Math.imul(h ^ c, 0x01000193);
  }
  return h >>> 0;
}

function equalsFolded(lower: Uint8Array, u8: Uint8Array, off: number, len: number): boolean {
  for (let i = 0; i < len; i++) {
    let c = u8[off + i];
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lower[i]) return false;
  }
  return true;
}
