/**
 * Copies n bytes from src[so..] to dst[d..]. Short runs go byte by byte:
 * `dst.set(src.subarray(...))` makes a view object per call, which costs more
 * than the copy below 64 bytes (fields, members, small values).
 */
export function copyBytes(src: Uint8Array, so: number, dst: Uint8Array, d: number, n: number): void {
  if (n < 64) {
    for (let i = 0; i < n; i++) dst[d + i] = src[so + i];
  } else {
    dst.set(src.subarray(so, so + n), d);
  }
}
