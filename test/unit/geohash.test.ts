import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  GEO_LAT_MAX,
  GEO_LAT_MIN,
  WGS84_LAT,
  WGS84_LONG,
  boundingBox,
  cellScore,
  cellScoreRange,
  decodeCell,
  decodeScore,
  deinterleave,
  encodeCell,
  estimateStepsByRadius,
  formatCoordinate,
  formatDistance,
  formatDistanceOf,
  formatFixed6,
  geoDistance,
  geoScore,
  geohashString,
  interleave,
  moveCell,
  neighbours,
  searchCells,
  ShapeTest,
  latDistance,
  type GeoArea,
  type GeoCell,
  type GeoShape,
} from '../../src/util/geohash.ts';
import { formatLongDoubleHuman, longDoubleFromNumber } from '../../src/util/numbers.ts';

// Redis's geohash (src/util/geohash.ts) as properties: interleaving is a
// bijection, a position decodes to the centre of the cell holding it, a cell's
// neighbours touch it, the cells of a search cover every point of the shape.
// Fixed values were read from redis-server 7.0.15.

const lon = fc.double({ min: -180, max: 180, noNaN: true });
const lat = fc.double({ min: GEO_LAT_MIN, max: GEO_LAT_MAX, noNaN: true });
const area = (): GeoArea => ({ lonMin: 0, lonMax: 0, latMin: 0, latMax: 0 });

describe('interleave / deinterleave', () => {
  it('round-trips every pair of 26-bit indexes, latitude on the even bits', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 26 - 1 }), fc.integer({ min: 0, max: 2 ** 26 - 1 }), (a, b) => {
      const bits = interleave(a, b);
      expect(bits).toBeLessThan(2 ** 52);
      const c = deinterleave(bits, { lat: 0, lon: 0, step: 26 });
      expect([c.lat, c.lon]).toEqual([a, b]);
    }), { numRuns: 5000 });
    expect(interleave(1, 0)).toBe(1);
    expect(interleave(0, 1)).toBe(2);
    expect(interleave(2 ** 25, 0)).toBe(2 ** 50);
    expect(interleave(0, 2 ** 25)).toBe(2 ** 51);
  });
});

describe('encode / decode', () => {
  it('a position lies in its cell, and decodes to the cell centre within half a cell', () => {
    fc.assert(fc.property(lon, lat, (x, y) => {
      const cell = encodeCell(x, y, 26, WGS84_LONG, WGS84_LAT);
      expect(cell).not.toBeNull();
      // Rounded onto the upper limit (index 2^26): Redis clamps the decoded position (fixed cases below).
      if ((cell as GeoCell).lon >= 2 ** 26 || (cell as GeoCell).lat >= 2 ** 26) return;
      const a = decodeCell(cell as GeoCell, WGS84_LONG, WGS84_LAT, area());
      // Within rounding: (x - min) / range * 2^26 can round up to the next cell, in Redis too.
      if (x < 180) expect(x >= a.lonMin - 1e-9 && x < a.lonMax + 1e-9).toBe(true);
      if (y < GEO_LAT_MAX) expect(y >= a.latMin - 1e-9 && y < a.latMax + 1e-9).toBe(true);
      const score = geoScore(x, y) as number;
      const xy = [0, 0];
      decodeScore(score, xy);
      expect(Math.abs(xy[0] - x)).toBeLessThanOrEqual((a.lonMax - a.lonMin) / 2 + 1e-9);
      expect(Math.abs(xy[1] - y)).toBeLessThanOrEqual((a.latMax - a.latMin) / 2 + 1e-9);
      // Decoding is stable: the decoded position encodes to the same score.
      expect(geoScore(xy[0], xy[1])).toBe(score);
    }), { numRuns: 5000 });
  });

  it('refuses positions outside the limits', () => {
    expect(geoScore(180.0000001, 0)).toBeNull();
    expect(geoScore(0, 85.06)).toBeNull();
    expect(geoScore(0, -85.05112879)).toBeNull();
    expect(geoScore(NaN, 0)).toBeNull();
  });

  it('matches redis-server on fixed points, the limits and odd scores', () => {
    expect(geoScore(13.361389, 38.115556)).toBe(3479099956230698);
    expect(geoScore(15.087269, 37.502669)).toBe(3479447370796909);
    expect(geohashString(3479099956230698)).toBe('sqc8b49rny0');
    expect(geohashString(3479447370796909)).toBe('sqdtr74hyu0');
    const corner = geoScore(180, 85.05112878) as number;
    expect(corner).toBe(3 * 2 ** 52);
    expect(geohashString(corner)).toBe('bp05b5048p0');
    const xy = [0, 0];
    decodeScore(corner, xy);
    expect(xy).toEqual([180, 85.05112878]);
    // Scores a user could put in with ZADD: negative, fractional, beyond 2^64, infinite.
    decodeScore(-1, xy);
    expect(xy).toEqual([180, 85.05112878]);
    decodeScore(1.5, xy);
    expect(geohashString(1.5)).toBe('00bh0hbj210');
    decodeScore(Infinity, xy);
    expect(geohashString(Infinity)).toBe('00bh0hbj200');
    expect(geohashString(1e300)).toBe('00bh0hbj200');
  });

  it('a cell at the upper limit keeps Redis’s extra bit', () => {
    const c = encodeCell(180, 0, 10, WGS84_LONG, WGS84_LAT) as GeoCell;
    expect(c.lon).toBe(1024);
    expect(cellScore(c.lat, c.lon, 10)).toBe((interleave(c.lat, 0) + 2 ** 21) * 2 ** 32);
  });
});

describe('neighbours', () => {
  it('touch the cell on their side and wrap around at the edges', () => {
    fc.assert(fc.property(lon, lat, fc.integer({ min: 1, max: 26 }), (x, y, step) => {
      const cell = encodeCell(x, y, step, WGS84_LONG, WGS84_LAT) as GeoCell;
      if (cell.lat >= 2 ** step || cell.lon >= 2 ** step) return;
      const size = 2 ** step;
      const [n, s, e, w, ne, nw, se, sw] = neighbours(cell);
      expect(n).toEqual({ lat: (cell.lat + 1) % size, lon: cell.lon, step });
      expect(s).toEqual({ lat: (cell.lat - 1 + size) % size, lon: cell.lon, step });
      expect(e).toEqual({ lat: cell.lat, lon: (cell.lon + 1) % size, step });
      expect(w).toEqual({ lat: cell.lat, lon: (cell.lon - 1 + size) % size, step });
      expect(ne).toEqual(moveCell(n, 1, 0));
      expect(nw).toEqual(moveCell(n, -1, 0));
      expect(se).toEqual(moveCell(s, 1, 0));
      expect(sw).toEqual(moveCell(s, -1, 0));
      const a = decodeCell(cell, WGS84_LONG, WGS84_LAT, area());
      const an = decodeCell(n, WGS84_LONG, WGS84_LAT, area());
      const ae = decodeCell(e, WGS84_LONG, WGS84_LAT, area());
      if (cell.lat + 1 < size) expect(an.latMin).toBeCloseTo(a.latMax, 9);
      if (cell.lon + 1 < size) expect(ae.lonMin).toBeCloseTo(a.lonMax, 9);
    }), { numRuns: 3000 });
  });

  it('score ranges of a cell hold exactly the step-26 scores of its points', () => {
    fc.assert(fc.property(lon, lat, fc.integer({ min: 1, max: 26 }), (x, y, step) => {
      const score = geoScore(x, y) as number;
      const cell = encodeCell(x, y, step, WGS84_LONG, WGS84_LAT) as GeoCell;
      // A point rounded onto the upper limit has index 2^step: Redis cannot find it either.
      if (cell.lat >= 2 ** step || cell.lon >= 2 ** step) return;
      const [min, max] = cellScoreRange(cell);
      expect(score >= min && score < max).toBe(true);
    }), { numRuns: 3000 });
  });
});

describe('distances and search areas', () => {
  it('haversine distance matches known values and is symmetric', () => {
    const p = [0, 0];
    const q = [0, 0];
    decodeScore(3479099956230698, p);
    decodeScore(3479447370796909, q);
    expect(formatDistance(geoDistance(p[0], p[1], q[0], q[1]))).toBe('166274.1516');
    expect(formatDistance(geoDistance(p[0], p[1], q[0], q[1]) / 1000)).toBe('166.2742');
    fc.assert(fc.property(lon, lat, lon, lat, (a, b, c, d) => {
      expect(geoDistance(a, b, c, d)).toBeCloseTo(geoDistance(c, d, a, b), 6);
      expect(geoDistance(a, b, c, d)).toBeLessThanOrEqual(Math.PI * 6372797.560856 + 1e-6);
    }), { numRuns: 2000 });
  });

  it('ShapeTest gives geoWithinShape\'s answer and geoDistance\'s exact bits', () => {
    fc.assert(fc.property(lon, lat, lon, lat, fc.double({ min: 0, max: 3e7, noNaN: true }), fc.double({ min: 0, max: 3e7, noNaN: true }),
      (cx, cy, x, y, w, h) => {
        const circle = new ShapeTest({ lon: cx, lat: cy, box: false, radius: w, width: 0, height: 0, conversion: 1 });
        const d = geoDistance(cx, cy, x, y);
        expect(circle.distance(x, y)).toBe(d > w ? -1 : d);
        const box = new ShapeTest({ lon: cx, lat: cy, box: true, radius: 0, width: w, height: h, conversion: 1 });
        const inside = latDistance(y, cy) <= h / 2 && geoDistance(x, y, cx, y) <= w / 2;
        expect(box.distance(x, y)).toBe(inside ? d : -1);
      }), { numRuns: 5000 });
  });

  it('formats as Redis: 4 decimals rounded half to even, %f exactly', () => {
    expect(formatDistance(0)).toBe('0.0000');
    expect(formatDistance(0.00005)).toBe('0.0000');
    expect(formatDistance(0.00015)).toBe('0.0001'); // 1.4999999999999998 after scaling
    expect(formatDistance(0.00025)).toBe('0.0002');
    expect(formatDistance(0.00035)).toBe('0.0004');
    expect(formatDistance(2.00015)).toBe('2.0002');
    expect(formatDistance(0.0005)).toBe('0.0005');
    expect(formatDistance(12.5)).toBe('12.5000');
    expect(formatFixed6(200)).toBe('200.000000');
    expect(formatFixed6(-86.0000005)).toBe('-86.000000');
    expect(formatFixed6(Infinity)).toBe('inf');
    expect(formatFixed6(1e300).startsWith('1000000000000000052504760255204420248704468581108159154915854115511802457988908195786371375080447864043704443832883878176942523235360430575644792184786706982848387200926575803737830233794788090059368953234970799945081119038967640880074652742780142494579258788820056842838115669472196386865459400540160.')).toBe(true);
  });

  it('coordinates print as %.17Lf without trailing zeros, ties to even', () => {
    fc.assert(fc.property(fc.double({ min: -400, max: 400, noNaN: true }), (x) => {
      expect(formatCoordinate(x)).toBe(formatLongDoubleHuman(longDoubleFromNumber(x)));
    }), { numRuns: 20000 });
    expect(formatCoordinate(2 ** -18)).toBe('0.00000381469726562');
    expect(formatCoordinate(3 * 2 ** -18)).toBe('0.00001144409179688');
    expect(formatCoordinate(180)).toBe('180');
    expect(formatCoordinate(-0)).toBe('0');
    expect(formatCoordinate(-1e-30)).toBe('0');
    expect(formatCoordinate(13.361389338970184)).toBe('13.36138933897018433');
  });

  it('a distance next to a rounding tie is printed from its exact bits', () => {
    let called = 0;
    const exact = (v: number) => (): number => {
      called++;
      return v;
    };
    expect(formatDistanceOf(1.23456, 1, exact(0))).toBe('1.2346');
    expect(called).toBe(0);
    expect(formatDistanceOf(1.00005000000001, 1, exact(1.0000499999999))).toBe('1.0000');
    expect(formatDistanceOf(2000.1, 1000, exact(0))).toBe('2.0001');
    expect(called).toBe(1);
  });

  it('step estimation as Redis: finer for small radii, coarser near the poles', () => {
    expect(estimateStepsByRadius(0, 0)).toBe(26);
    expect(estimateStepsByRadius(0.1, 0)).toBe(26);
    expect(estimateStepsByRadius(1000, 0)).toBe(14);
    expect(estimateStepsByRadius(1000, 70)).toBe(13);
    expect(estimateStepsByRadius(1000, -81)).toBe(12);
    expect(estimateStepsByRadius(1e9, 0)).toBe(1);
  });

  it('the nine cells of a search cover every point of the shape', () => {
    const shapes = fc.record({
      lon, lat,
      box: fc.boolean(),
      radius: fc.double({ min: 1, max: 2e6, noNaN: true }),
      width: fc.double({ min: 1, max: 2e6, noNaN: true }),
      height: fc.double({ min: 1, max: 2e6, noNaN: true }),
      conversion: fc.constant(1),
    });
    fc.assert(fc.property(shapes, fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (shape: GeoShape, u, v) => {
      // A point of the shape's bounding box, kept when the shape holds it.
      const [minLon, minLat, maxLon, maxLat] = boundingBox(shape);
      const px = Math.max(-180, Math.min(180, minLon + u * (maxLon - minLon)));
      const py = Math.max(GEO_LAT_MIN, Math.min(GEO_LAT_MAX, minLat + v * (maxLat - minLat)));
      const score = geoScore(px, py) as number;
      const xy = [0, 0];
      decodeScore(score, xy);
      const d = geoDistance(shape.lon, shape.lat, xy[0], xy[1]);
      const inside = shape.box
        ? Math.abs(xy[1] - shape.lat) * (Math.PI / 180) * 6372797.560856 <= shape.height / 2 &&
          geoDistance(xy[0], xy[1], shape.lon, xy[1]) <= shape.width / 2
        : d <= shape.radius;
      if (!inside) return;
      // Redis's known blind spot: shapes crossing the antimeridian or a pole.
      if (minLon < -180 || maxLon > 180 || minLat < GEO_LAT_MIN || maxLat > GEO_LAT_MAX) return;
      const covered = searchCells(shape).some((cell) => {
        if (cell === null) return false;
        const [min, max] = cellScoreRange(cell);
        return score >= min && score < max;
      });
      expect(covered).toBe(true);
    }), { numRuns: 3000 });
  });
});
