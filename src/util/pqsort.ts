// Redis's pqsort (pqsort.c): Bentley & McIlroy's quicksort that only sorts
// the partitions overlapping the index range [lrange, rrange]. It is not
// stable, so elements that compare equal end up in an order that depends on
// every swap: to return the same elements in the same order as Redis (GEO
// searches with COUNT), the same swaps are made here, on an array of
// elements instead of bytes.

type Compare<T> = (a: T, b: T) => number;

function swap<T>(arr: T[], i: number, j: number): void {
  const t = arr[i];
  arr[i] = arr[j];
  arr[j] = t;
}

/** Swaps n elements pairwise from i and from j, in increasing order (vecswap). */
function vecswap<T>(arr: T[], i: number, j: number, n: number): void {
  for (let k = 0; k < n; k++) swap(arr, i + k, j + k);
}

function med3<T>(arr: T[], a: number, b: number, c: number, cmp: Compare<T>): number {
  return cmp(arr[a], arr[b]) < 0
    ? (cmp(arr[b], arr[c]) < 0 ? b : cmp(arr[a], arr[c]) < 0 ? c : a)
    : (cmp(arr[b], arr[c]) > 0 ? b : cmp(arr[a], arr[c]) < 0 ? a : c);
}

/** True when [lo, hi] holds none of [lrange, rrange] (the partition can stay unsorted). */
function outside(lo: number, hi: number, lrange: number, rrange: number): boolean {
  return (lrange < lo && rrange < lo) || (lrange > hi && rrange > hi);
}

function pqsortPart<T>(arr: T[], lo: number, n: number, cmp: Compare<T>, lrange: number, rrange: number): void {
  for (;;) {
    if (n < 7) {
      for (let pm = lo + 1; pm < lo + n; pm++) {
        for (let pl = pm; pl > lo && cmp(arr[pl - 1], arr[pl]) > 0; pl--) swap(arr, pl, pl - 1);
      }
      return;
    }
    let pm = lo + Math.floor(n / 2);
    if (n > 7) {
      let pl = lo;
      let pn = lo + n - 1;
      if (n > 40) {
        const d = Math.floor(n / 8);
        pl = med3(arr, pl, pl + d, pl + 2 * d, cmp);
        pm = med3(arr, pm - d, pm, pm + d, cmp);
        pn = med3(arr, pn - 2 * d, pn - d, pn, cmp);
      }
      pm = med3(arr, pl, pm, pn, cmp);
    }
    swap(arr, lo, pm);
    let pa = lo + 1;
    let pb = pa;
    let pc = lo + n - 1;
    let pd = pc;
    for (;;) {
      let r: number;
      while (pb <= pc && (r = cmp(arr[pb], arr[lo])) <= 0) {
        if (r === 0) {
          swap(arr, pa, pb);
          pa++;
        }
        pb++;
      }
      while (pb <= pc && (r = cmp(arr[pc], arr[lo])) >= 0) {
        if (r === 0) {
          swap(arr, pc, pd);
          pd--;
        }
        pc--;
      }
      if (pb > pc) break;
      swap(arr, pb, pc);
      pb++;
      pc--;
    }
    const pn = lo + n;
    let r = Math.min(pa - lo, pb - pa);
    vecswap(arr, lo, pb - r, r);
    r = Math.min(pd - pc, pn - pd - 1);
    vecswap(arr, pb, pn - r, r);
    r = pb - pa;
    if (r > 1 && !outside(lo, lo + r - 1, lrange, rrange)) pqsortPart(arr, lo, r, cmp, lrange, rrange);
    r = pd - pc;
    if (r <= 1) return;
    lo = pn - r;
    n = r;
    if (outside(lo, lo + r - 1, lrange, rrange)) return;
  }
}

/**
 * Sorts `arr` enough that positions lrange..rrange hold what a full sort
 * would put there, exactly as Redis's pqsort(arr, n, size, cmp, lrange, rrange).
 */
export function pqsort<T>(arr: T[], cmp: Compare<T>, lrange: number, rrange: number): void {
  pqsortPart(arr, 0, arr.length, cmp, lrange, rrange);
}
