/**
 * Copies n bytes from src[so..] to dst[d..]. Short runs are copied here:
 * `dst.set(src.subarray(...))` makes a view object per call, which costs more
 * than the copy below 64 bytes (fields, members, small values).
 */
export function copyBytes(src: Uint8Array, so: number, dst: Uint8Array, d: number, n: number): void {
  if (n < 8) {
    for (let i = 0; i < n; i++) dst[d + i] = src[so + i];
  } else if (n < 64) {
    // A byte loop costs about 25 instructions a byte in V8; a DataView moves four for about as much.
    const sv = dataViewOf(src);
    const dv = dataViewOf(dst);
    let i = 0;
    for (; i + 4 <= n; i += 4) dv.setInt32(d + i, sv.getInt32(so + i));
    for (; i < n; i++) dst[d + i] = src[so + i];
  } else {
    dst.set(src.subarray(so, so + n), d);
  }
}

// DataViews of the last byte arrays asked for. A request touches a few
// arrays again and again (the read buffer or request ring its arguments are
// in, the arena, the reply buffer, the client's output buffer): a small cache,
// searched in order, serves them without an allocation.
const VIEW_SLOTS = 4;
const viewed: (Uint8Array | null)[] = [null, null, null, null];
const views: DataView<ArrayBufferLike>[] = [];
for (let i = 0; i < VIEW_SLOTS; i++) views.push(new DataView(new ArrayBuffer(0)));
let nextSlot = 0;

/**
 * A DataView over the same bytes as `u8`. The cache keeps a reference to the
 * last few arrays asked for, until others take their places.
 */
export function dataViewOf(u8: Uint8Array): DataView<ArrayBufferLike> {
  for (let i = 0; i < VIEW_SLOTS; i++) if (viewed[i] === u8) return views[i];
  const slot = nextSlot;
  nextSlot = (slot + 1) & (VIEW_SLOTS - 1);
  const v = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  viewed[slot] = u8;
  views[slot] = v;
  return v;
}

/**
 * a[ao .. ao+n) equals b[bo .. bo+n), where av and bv are DataViews over the
 * same bytes as a and b. Four bytes per step: one DataView load costs what
 * one typed-array element load does.
 */
export function equalBytes(a: Uint8Array, av: DataView<ArrayBufferLike>, ao: number, b: Uint8Array, bv: DataView<ArrayBufferLike>, bo: number,
  n: number): boolean {
  let i = 0;
  for (; i + 4 <= n; i += 4) if (av.getInt32(ao + i) !== bv.getInt32(bo + i)) return false;
  for (; i < n; i++) if (a[ao + i] !== b[bo + i]) return false;
  return true;
}
