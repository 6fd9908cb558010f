import { expect, it } from 'vitest';
import {
  BINARY_ARG, describeDifferential, expectKeysSpanFourShards, pipelined,
} from '../helpers/differential.ts';
import { mulberry32 } from '../helpers/prng.ts';
import { parseAllReplies } from '../../src/protocol/reply-reader.ts';

// The geo commands against real redis-server 7.0, reply bytes compared, on a
// 4-shard Sabre: positions, distances, hashes, searches by radius and box with
// every option, STORE/STOREDIST on one shard ({t} keys) and across shards
// (a, b, c, d live on four different shards), and the errors.

expectKeysSpanFourShards();

/** Random points: anywhere, near the poles' limits, along the antimeridian, and a dense cluster. */
function randomPoints(seed: number, n: number): [string, string, string][] {
  const rnd = mulberry32(seed);
  const out: [string, string, string][] = [];
  for (let i = 0; i < n; i++) {
    const k = i % 5;
    let lon: number;
    let lat: number;
    if (k === 0) {
      lon = rnd() * 360 - 180;
      lat = rnd() * 170.1 - 85.05;
    } else if (k === 1) {
      lon = rnd() * 360 - 180;
      lat = (rnd() < 0.5 ? -1 : 1) * (85.05112878 - rnd() * 3);
    } else if (k === 2) {
      lon = (rnd() < 0.5 ? -1 : 1) * (180 - rnd() * 2);
      lat = rnd() * 120 - 60;
    } else {
      lon = 2.35 + (rnd() - 0.5) * 0.6;
      lat = 48.85 + (rnd() - 0.5) * 0.4;
    }
    out.push([String(lon), String(lat), `p${i}`]);
  }
  return out;
}

/** Random searches on key `key`: GEOSEARCH, GEORADIUS, GEORADIUSBYMEMBER and _RO, with random options. */
function randomSearches(seed: number, key: string, members: number, n: number): string[][] {
  const rnd = mulberry32(seed);
  const units = ['m', 'km', 'ft', 'mi', 'KM'];
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const centre = (): [string, string] => {
    const k = rnd();
    if (k < 0.3) return [String(2.35 + (rnd() - 0.5) * 0.6), String(48.85 + (rnd() - 0.5) * 0.4)];
    if (k < 0.5) return [String((rnd() < 0.5 ? -1 : 1) * (180 - rnd() * 1)), String(rnd() * 120 - 60)];
    if (k < 0.6) return [String(rnd() * 360 - 180), String((rnd() < 0.5 ? -1 : 1) * (85.05112878 - rnd() * 2))];
    if (k < 0.65) return ['180', '0'];
    if (k < 0.7) return ['-180', '85.05112878'];
    return [String(rnd() * 360 - 180), String(rnd() * 170 - 85)];
  };
  const radius = (unit: string): string => {
    const metres = [10, 500, 5000, 50000, 500000, 3000000, 15000000][Math.floor(rnd() * 7)] * (0.5 + rnd());
    const per = unit.toLowerCase() === 'km' ? 1000 : unit === 'ft' ? 0.3048 : unit === 'mi' ? 1609.34 : 1;
    return String(metres / per);
  };
  const options = (): string[] => {
    const o: string[] = [];
    if (rnd() < 0.5) o.push('WITHDIST');
    if (rnd() < 0.4) o.push('WITHCOORD');
    if (rnd() < 0.4) o.push('WITHHASH');
    const s = rnd();
    if (s < 0.3) o.push('ASC');
    else if (s < 0.6) o.push('DESC');
    if (rnd() < 0.4) {
      o.push('COUNT', String(1 + Math.floor(rnd() * 20)));
      if (rnd() < 0.3) o.push('ANY');
    }
    return o;
  };
  const out: string[][] = [];
  for (let i = 0; i < n; i++) {
    const unit = pick(units);
    const kind = Math.floor(rnd() * 6);
    const member = `p${Math.floor(rnd() * members)}`;
    if (kind === 0) out.push(['GEORADIUS', key, ...centre(), radius(unit), unit, ...options()]);
    else if (kind === 1) out.push(['GEORADIUS_RO', key, ...centre(), radius(unit), unit, ...options()]);
    else if (kind === 2) out.push([rnd() < 0.5 ? 'GEORADIUSBYMEMBER' : 'GEORADIUSBYMEMBER_RO', key, member, radius(unit), unit, ...options()]);
    else {
      const from = rnd() < 0.5 ? ['FROMMEMBER', member] : ['FROMLONLAT', ...centre()];
      const by = rnd() < 0.5 ? ['BYRADIUS', radius(unit), unit] : ['BYBOX', radius(unit), radius(unit), unit];
      out.push(['GEOSEARCH', key, ...from, ...by, ...options()]);
    }
  }
  return out;
}

describeDifferential('geo: differential', (ctx) => {
  it('arity errors of every command', async () => {
    await ctx.expectSame([
      ['GEOADD', 'a', '1', '2'], ['GEOADD', 'a'], ['GEOPOS'], ['GEODIST', 'a', 'x'], ['GEOHASH'],
      ['GEORADIUS', 'a', '1', '2', '3'], ['GEORADIUSBYMEMBER', 'a', 'm', '1'], ['GEORADIUS_RO', 'a', '1', '2', '3'],
      ['GEORADIUSBYMEMBER_RO', 'a', 'm', '1'], ['GEOSEARCH', 'a', 'FROMMEMBER', 'm', 'BYRADIUS', '1'],
      ['GEOSEARCHSTORE', 'd', 'a', 'FROMMEMBER', 'm', 'BYRADIUS', '1'],
    ]);
  });

  it('GEOADD: NX, XX, CH, invalid pairs, syntax and type errors', async () => {
    await ctx.expectSame([
      ['GEOADD', 'a', '13.361389', '38.115556', 'Palermo', '15.087269', '37.502669', 'Catania'],
      ['GEOADD', 'a', '13.361389', '38.115556', 'Palermo'], ['GEOADD', 'a', 'CH', '13.361389', '38.115556', 'Palermo'],
      ['GEOADD', 'a', 'CH', '13', '38', 'Palermo', '1', '1', 'new'], ['GEOADD', 'a', 'NX', '0', '0', 'Palermo', '2', '2', 'n2'],
      ['GEOADD', 'a', 'XX', '14', '39', 'Palermo', '3', '3', 'n3'], ['GEOADD', 'a', 'XX', 'CH', '14.5', '39', 'Palermo', '3', '3', 'n3'],
      ['GEOADD', 'a', 'nx', 'ch', '1', '1', 'new', '4', '4', 'n4'], ['GEOPOS', 'a', 'Palermo', 'new', 'n2', 'n3', 'n4'],
      ['GEOADD', 'a', 'NX', 'XX', '1', '1', 'x'], ['GEOADD', 'a', 'NX', 'XX', 'CH'], ['GEOADD', 'a', 'CH', 'CH', 'CH'],
      ['GEOADD', 'a', '1', '2', 'm', '3'], ['GEOADD', 'a', 'xx', '1', '2'], ['GEOADD', 'x', 'XX', '1', '1', 'm'], ['EXISTS', 'x'],
      ['GEOADD', 'a', '200', '10', 'bad'], ['GEOADD', 'a', '-180.0000001', '10', 'bad'], ['GEOADD', 'a', '10', '85.06', 'bad'],
      ['GEOADD', 'a', '10', '-85.05112879', 'bad'], ['GEOADD', 'a', 'inf', '1', 'bad'], ['GEOADD', 'a', '1', '-inf', 'bad'],
      ['GEOADD', 'a', 'nan', '1', 'bad'], ['GEOADD', 'a', '1e300', '1', 'bad'], ['GEOADD', 'a', '1e400', '1', 'bad'],
      ['GEOADD', 'a', 'abc', '1', 'bad'], ['GEOADD', 'a', '1', '', 'bad'], ['GEOADD', 'a', ' 1', '1', 'bad'],
      ['GEOADD', 'a', '1', '1', 'ok', '500', '1', 'bad'], ['GEOPOS', 'a', 'ok', 'bad'],
      ['GEOADD', 'a', '0x10', '0x1p3', 'hex'], ['GEOADD', 'a', '180', '85.05112878', 'corner', '-180', '-85.05112878', 'corner2'],
      ['GEOADD', 'a', '-0', '0', 'zero', '1e-300', '-1e-300', 'tiny'], ['GEOADD', 'a', '1', '1', BINARY_ARG, '2', '2', ''],
      ['GEOPOS', 'a', 'hex', 'corner', 'corner2', 'zero', 'tiny', BINARY_ARG, ''], ['GEOHASH', 'a', 'corner', 'corner2', 'zero', BINARY_ARG, ''],
      ['SET', 's', 'v'], ['GEOADD', 's', '1', '1', 'm'], ['GEOADD', 's', '500', '1', 'm'], ['GEOADD', 's', 'NX', 'XX', '1', '1', 'm'],
      ['GEOPOS', 's', 'm'], ['GEODIST', 's', 'm', 'n'], ['GEOHASH', 's', 'm'], ['GEORADIUS', 's', '1', '1', '1', 'km'],
      ['GEOSEARCH', 's', 'FROMLONLAT', '1', '1', 'BYRADIUS', '1', 'km'], ['GEORADIUSBYMEMBER', 's', 'm', '1', 'km'],
      ['GEOSEARCHSTORE', 'x', 's', 'FROMLONLAT', '1', '1', 'BYRADIUS', '1', 'km'],
      ['TYPE', 'a'],
    ]);
  });

  it('GEOPOS, GEODIST (units), GEOHASH on missing keys and members', async () => {
    await ctx.expectSame([
      ['GEOPOS', 'nokey', 'a', 'b'], ['GEOHASH', 'nokey', 'a'], ['GEODIST', 'nokey', 'a', 'b'], ['GEODIST', 'nokey', 'a', 'b', 'parsec'],
      ['GEOPOS', 'nokey'], ['GEOHASH', 'nokey'],
      ['GEOADD', 'b', '13.361389', '38.115556', 'Palermo', '15.087269', '37.502669', 'Catania', '-122.27652', '37.805186', 'Oakland'],
      ['GEODIST', 'b', 'Palermo', 'Catania'], ['GEODIST', 'b', 'Palermo', 'Catania', 'km'], ['GEODIST', 'b', 'Palermo', 'Catania', 'MI'],
      ['GEODIST', 'b', 'Palermo', 'Oakland', 'ft'], ['GEODIST', 'b', 'Palermo', 'Oakland', 'm'], ['GEODIST', 'b', 'Palermo', 'Palermo'],
      ['GEODIST', 'b', 'Palermo', 'nobody'], ['GEODIST', 'b', 'nobody', 'Palermo', 'km'], ['GEODIST', 'b', 'Palermo', 'Catania', 'parsec'],
      ['GEODIST', 'b', 'Palermo', 'Catania', 'km', 'extra'], ['GEODIST', 'b', 'nobody', 'Palermo', 'bad'],
      ['GEOPOS', 'b'], ['GEOPOS', 'b', 'Oakland', 'nobody', 'Palermo'], ['GEOHASH', 'b', 'Oakland', 'nobody', 'Palermo'], ['GEOHASH', 'b'],
    ]);
  });

  it('positions, hashes and distances of random points, near the poles and the antimeridian', async () => {
    const pts = randomPoints(1, 600);
    const steps: string[][] = [];
    for (let i = 0; i < pts.length; i += 50) steps.push(['GEOADD', 'c', ...pts.slice(i, i + 50).flat()]);
    const names = pts.map((p) => p[2]);
    for (let i = 0; i < names.length; i += 60) {
      steps.push(['GEOPOS', 'c', ...names.slice(i, i + 60)], ['GEOHASH', 'c', ...names.slice(i, i + 60)]);
    }
    const rnd = mulberry32(7);
    for (let i = 0; i < 300; i++) {
      const x = names[Math.floor(rnd() * names.length)];
      const y = names[Math.floor(rnd() * names.length)];
      steps.push(['GEODIST', 'c', x, y, ['m', 'km', 'ft', 'mi'][i % 4]]);
    }
    await ctx.expectSame([pipelined(steps)]);
    await ctx.expectSame([['GEOPOS', 'c', 'p1', 'p2', 'p3'], ['GEOHASH', 'c', 'p1', 'p2']], { resp3: true });
  });

  it('random radius and box searches with COUNT, ANY, ASC/DESC and WITH options (listpack and skiplist sets)', async () => {
    const pts = randomPoints(2, 400);
    const setup: string[][] = [['GEOADD', 'small', ...pts.slice(0, 100).flat()]];
    for (let i = 0; i < pts.length; i += 100) setup.push(['GEOADD', 'd', ...pts.slice(i, i + 100).flat()]);
    await ctx.expectSame(setup);
    await ctx.expectSame(randomSearches(3, 'd', 400, 400));
    await ctx.expectSame(randomSearches(4, 'small', 100, 200));
    await ctx.expectSame([pipelined(randomSearches(5, 'd', 400, 150))]);
    await ctx.expectSame(randomSearches(6, 'd', 400, 100), { resp3: true });
  });

  it('equal distances under COUNT come out in Redis\'s order (pqsort), and in set order without COUNT', async () => {
    const rnd = mulberry32(11);
    const spots = Array.from({ length: 12 }, () => [String(2.3 + rnd() * 0.1), String(48.8 + rnd() * 0.1)]);
    const add: string[] = ['GEOADD', 'd'];
    for (let i = 0; i < 300; i++) add.push(...spots[Math.floor(rnd() * spots.length)], `t${i}`);
    const steps: string[][] = [add];
    for (let i = 0; i < 120; i++) {
      const [lon, lat] = spots[Math.floor(rnd() * spots.length)];
      const count = String(1 + Math.floor(rnd() * 320));
      const order = rnd() < 0.5 ? 'ASC' : 'DESC';
      steps.push(['GEOSEARCH', 'd', 'FROMLONLAT', lon, lat, 'BYRADIUS', '20', 'km', order, 'COUNT', count]);
      steps.push(['GEORADIUS', 'd', lon, lat, '5', 'km', 'WITHDIST', ...(rnd() < 0.5 ? [order] : [])]);
    }
    steps.push(['GEOSEARCHSTORE', 'e', 'd', 'FROMLONLAT', ...spots[0], 'BYRADIUS', '20', 'km', 'COUNT', '37', 'STOREDIST']);
    steps.push(['GEOPOS', 'e', ...Array.from({ length: 300 }, (_, i) => `t${i}`)]);
    await ctx.expectSame(steps);
  });

  it('search errors and their order', async () => {
    await ctx.expectSame([
      ['GEOADD', 'a', '13.361389', '38.115556', 'Palermo', '15.087269', '37.502669', 'Catania'],
      ['GEORADIUS', 'a', '15', '37', '200', 'parsec'], ['GEORADIUS', 'a', '15', '37', '-1', 'km'], ['GEORADIUS', 'a', '15', '37', 'x', 'km'],
      ['GEORADIUS', 'a', '190', '37', '200', 'km'], ['GEORADIUS', 'a', 'x', '37', '200', 'km'], ['GEORADIUS', 'a', '15', '37', '200', 'km', 'bogus'],
      ['GEORADIUS', 'a', '15', '37', '200', 'km', 'COUNT'], ['GEORADIUS', 'a', '15', '37', '200', 'km', 'COUNT', '0'],
      ['GEORADIUS', 'a', '15', '37', '200', 'km', 'COUNT', '-3'], ['GEORADIUS', 'a', '15', '37', '200', 'km', 'COUNT', 'x'],
      ['GEORADIUS', 'a', '15', '37', '200', 'km', 'ANY'], ['GEORADIUS', 'a', '15', '37', '200', 'km', 'ANY', 'COUNT', '1'],
      ['GEORADIUS', 'a', '15', '37', '200', 'km', 'COUNT', '99999999999999999999'],
      ['GEORADIUS', 'a', '15', '37', '200', 'km', 'STORE'], ['GEORADIUS', 'a', '15', '37', '200', 'km', 'STORE', 'x', 'WITHDIST'],
      ['GEORADIUS', 'a', '15', '37', '200', 'km', 'WITHHASH', 'STOREDIST', 'x'], ['GEORADIUS_RO', 'a', '15', '37', '200', 'km', 'STORE', 'x'],
      ['GEORADIUSBYMEMBER', 'a', 'nobody', '200', 'km'], ['GEORADIUSBYMEMBER', 'a', 'nobody', 'x', 'km'],
      ['GEORADIUSBYMEMBER', 'a', 'Palermo', 'x', 'km'], ['GEORADIUSBYMEMBER', 'nokey', 'nobody', 'x', 'km'],
      ['GEORADIUSBYMEMBER', 'nokey', 'm', '1', 'km', 'bogus'], ['GEORADIUSBYMEMBER_RO', 'a', 'Palermo', '100', 'km', 'STOREDIST', 'x'],
      ['GEORADIUS', 'nokey', '15', '37', '200', 'km', 'bogus'], ['GEORADIUS', 'nokey', '15', '37', '200', 'km'],
      ['GEOSEARCH', 'a', 'FROMLONLAT', '15', '37', 'BYRADIUS', '200', 'km', 'STORE', 'x'],
      ['GEOSEARCH', 'a', 'FROMLONLAT', '15', '37', 'BYRADIUS', '200', 'km', 'STOREDIST'],
      ['GEOSEARCH', 'a', 'BYRADIUS', '200', 'km', 'ASC', 'x'], ['GEOSEARCH', 'a', 'BYRADIUS', '200', 'km', 'ASC', 'WITHDIST'],
      ['geosearch', 'a', 'FROMLONLAT', '15', '37', 'ASC', 'WITHDIST'], ['GeoSearch', 'a', 'FROMLONLAT', '15', '37', 'COUNT', '2', 'ANY'],
      ['GEOSEARCH', 'a', 'FROMLONLAT', '15', '37', 'FROMMEMBER', 'Palermo', 'BYRADIUS', '1', 'km'],
      ['GEOSEARCH', 'a', 'FROMMEMBER', 'Palermo', 'FROMLONLAT', '15', '37', 'BYRADIUS', '1', 'km'],
      ['GEOSEARCH', 'a', 'FROMMEMBER', 'Palermo', 'BYRADIUS', '1', 'km', 'BYBOX', '1', '1', 'km'],
      ['GEOSEARCH', 'a', 'FROMMEMBER', 'Palermo', 'BYBOX', '1', '1', 'km', 'BYRADIUS', '1', 'km'],
      ['GEOSEARCH', 'a', 'FROMMEMBER', 'nobody', 'BYRADIUS', '1', 'km'], ['GEOSEARCH', 'nokey', 'FROMMEMBER', 'nobody', 'BYRADIUS', '1', 'km'],
      ['GEOSEARCH', 'a', 'FROMMEMBER', 'Palermo', 'BYBOX', 'x', '1', 'km'], ['GEOSEARCH', 'a', 'FROMMEMBER', 'Palermo', 'BYBOX', '1', 'y', 'km'],
      ['GEOSEARCH', 'a', 'FROMMEMBER', 'Palermo', 'BYBOX', '-1', '1', 'km'], ['GEOSEARCH', 'a', 'FROMMEMBER', 'Palermo', 'BYBOX', '1', '1', 'yd'],
      ['GEOSEARCH', 'a', 'FROMMEMBER', 'Palermo', 'BYRADIUS', '1', 'km', 'BYRADIUS', '2', 'km'],
      ['GEOSEARCH', 'a', 'FROMLONLAT', '15', '100', 'BYRADIUS', '1', 'km'], ['GEOSEARCH', 'a', 'FROMLONLAT', '15', 'BYRADIUS', '1', 'km'],
      ['GEOSEARCH', 'a', 'FROMMEMBER', 'Palermo', 'BYRADIUS', 'inf', 'km', 'COUNT', '1'],
      ['GEOSEARCH', 'a', 'FROMMEMBER', 'Palermo', 'BYRADIUS', '0', 'km', 'WITHDIST'],
      ['GEOSEARCHSTORE', 'x', 'a', 'FROMMEMBER', 'Palermo', 'BYRADIUS', '100', 'km', 'WITHDIST'],
      ['GEOSEARCHSTORE', 'x', 'a', 'FROMMEMBER', 'Palermo', 'BYRADIUS', '100', 'km', 'STORE', 'y'],
      ['GEOSEARCHSTORE', 'x', 'a', 'BYRADIUS', '100', 'km'], ['GEOSEARCHSTORE', 'b', 'a', 'FROMMEMBER', 'nobody', 'BYRADIUS', '100', 'km'],
      ['GEOSEARCHSTORE', 'b', 'a', 'FROMMEMBER', 'Palermo', 'BYRADIUS', '100', 'km', 'COUNT', '0'],
      ['geosearchstore', 'x', 'a', 'FROMMEMBER', 'Palermo', 'WITHCOORD'], ['EXISTS', 'x', 'y', 'b'],
    ]);
  });

  it('STORE and STOREDIST on one shard and across shards; empty results delete the destination', async () => {
    const pts = randomPoints(8, 200);
    const pos = (k: string): string[] => ['GEOPOS', k, ...pts.map((p) => p[2])];
    const steps: string[][] = [
      ['GEOADD', '{t}a', ...pts.flat()], ['GEOADD', 'a', ...pts.flat()],
      // one shard
      ['GEORADIUS', '{t}a', '2.35', '48.85', '30', 'km', 'STORE', '{t}b'], pos('{t}b'), ['TYPE', '{t}b'],
      ['GEORADIUS', '{t}a', '2.35', '48.85', '30', 'km', 'STOREDIST', '{t}c', 'COUNT', '5'], ['GEOPOS', '{t}c', 'p3', 'p4', 'p5', 'p8', 'p9'],
      ['GEOSEARCHSTORE', '{t}d', '{t}a', 'FROMLONLAT', '2.35', '48.85', 'BYBOX', '40', '30', 'km', 'DESC', 'COUNT', '7'],
      ['GEOSEARCHSTORE', '{t}e', '{t}a', 'FROMMEMBER', 'p3', 'BYRADIUS', '10', 'km', 'STOREDIST'],
      ['GEOHASH', '{t}d', ...pts.map((p) => p[2])], ['GEOHASH', '{t}e', ...pts.map((p) => p[2])],
      ['GEORADIUSBYMEMBER', '{t}a', 'p3', '5', 'km', 'STORE', '{t}a'], pos('{t}a'),
      // across shards: a -> b, c, d
      ['GEORADIUS', 'a', '2.35', '48.85', '30', 'km', 'STORE', 'b'], pos('b'), ['TYPE', 'b'],
      ['GEORADIUS', 'a', '2.35', '48.85', '30', 'km', 'STOREDIST', 'c', 'COUNT', '5'], ['GEOPOS', 'c', 'p3', 'p4', 'p5', 'p8', 'p9'],
      ['GEOSEARCHSTORE', 'd', 'a', 'FROMLONLAT', '2.35', '48.85', 'BYBOX', '40', '30', 'km', 'DESC', 'COUNT', '7'],
      ['GEOHASH', 'd', ...pts.map((p) => p[2])],
      ['GEOSEARCHSTORE', 'c', 'a', 'FROMMEMBER', 'p3', 'BYRADIUS', '10', 'km', 'STOREDIST', 'ASC', 'COUNT', '3', 'ANY'],
      ['GEOHASH', 'c', ...pts.map((p) => p[2])],
      ['GEORADIUSBYMEMBER', 'a', 'p3', '5', 'km', 'STORE', 'b', 'STOREDIST', 'c'], ['GEOHASH', 'c', ...pts.map((p) => p[2])],
      ['GEORADIUS', 'a', '2.35', '48.85', '30', 'km', 'STORE', 'b', 'COUNT', '4', 'STORE', 'd'], ['GEOHASH', 'd', ...pts.map((p) => p[2])],
      // destinations of another type, with a TTL, are replaced
      ['SET', 'b', 'string', 'EX', '100'], ['GEORADIUS', 'a', '2.35', '48.85', '30', 'km', 'STORE', 'b'], ['TYPE', 'b'], ['TTL', 'b'],
      ['RPUSH', '{t}b', 'l'], ['GEORADIUS', '{t}a', '2.35', '48.85', '30', 'km', 'STORE', '{t}b'], ['TYPE', '{t}b'],
      // empty results and missing sources delete the destination
      ['GEORADIUS', 'a', '100', '10', '1', 'km', 'STORE', 'b'], ['EXISTS', 'b'],
      ['GEOSEARCHSTORE', 'd', 'a', 'FROMLONLAT', '100', '10', 'BYRADIUS', '1', 'km'], ['EXISTS', 'd'],
      ['SET', 'd', 'x'], ['GEOSEARCHSTORE', 'd', 'nokey', 'FROMMEMBER', 'x', 'BYRADIUS', '1', 'km'], ['EXISTS', 'd'],
      ['SET', 'c', 'x'], ['GEORADIUSBYMEMBER', 'nokey', 'x', 'bad', 'km', 'STORE', 'c'], ['EXISTS', 'c'],
      ['GEORADIUSBYMEMBER', 'nokey', 'x', '1', 'km', 'STORE', 'c'], ['EXISTS', 'c'],
      ['SET', '{t}b', 'x'], ['GEORADIUS', '{t}a', '100', '10', '1', 'km', 'STOREDIST', '{t}b'], ['EXISTS', '{t}b'],
      // the source of a STORE of another type, and a source that is its own destination across the call
      ['GEOSEARCHSTORE', 'b', 'd', 'FROMLONLAT', '1', '1', 'BYRADIUS', '1', 'km'], ['SET', 'd', 'x'],
      ['GEOSEARCHSTORE', 'b', 'd', 'FROMLONLAT', '1', '1', 'BYRADIUS', '1', 'km'],
      ['GEOSEARCHSTORE', 'a', 'a', 'FROMLONLAT', '2.35', '48.85', 'BYRADIUS', '3', 'km'], pos('a'),
    ];
    await ctx.expectSame(steps);
    await ctx.expectSame([
      ['GEOADD', 'a', '1', '1', 'x', '1.001', '1', 'y'], ['GEOSEARCHSTORE', 'b', 'a', 'FROMLONLAT', '1', '1', 'BYRADIUS', '1', 'km'],
      ['GEORADIUS', 'a', '1', '1', '1', 'km', 'STOREDIST', 'c'], ['GEODIST', 'c', 'x', 'y'],
    ], { resp3: true });
  });

  it('COMMAND INFO and GETKEYS of the geo commands', async () => {
    const names = ['geoadd', 'geopos', 'geodist', 'geohash', 'georadius', 'georadiusbymember', 'georadius_ro',
      'georadiusbymember_ro', 'geosearch', 'geosearchstore'];
    await ctx.expectSame([
      ['COMMAND', 'INFO', ...names],
      ['COMMAND', 'GETKEYS', 'georadius', 'a', '1', '2', '3', 'km', 'STORE', 'b'],
      ['COMMAND', 'GETKEYS', 'georadius', 'a', '1', '2', '3', 'km'],
      ['COMMAND', 'GETKEYS', 'georadiusbymember', 'a', 'm', '3', 'km', 'STOREDIST', 'b'],
      ['COMMAND', 'GETKEYS', 'geosearchstore', 'd', 's', 'FROMMEMBER', 'm', 'BYRADIUS', '1', 'km'],
      ['COMMAND', 'GETKEYSANDFLAGS', 'geoadd', 'a', '1', '2', 'm'],
      ['COMMAND', 'GETKEYSANDFLAGS', 'georadius', 'a', '1', '2', '3', 'km', 'STORE', 'b'],
    ]);
  });

  it('stored results read back with the zset commands: exact scores, encodings, zsets made by ZADD', async () => {
    const pts = randomPoints(12, 150);
    const names = pts.map((p) => p[2]);
    await ctx.expectSame([
      ['GEOADD', 'a', ...pts.flat()], ['GEOADD', '{t}a', ...pts.flat()],
      ['GEORADIUS', 'a', '2.35', '48.85', '25', 'km', 'STOREDIST', 'b', 'ASC'], ['ZRANGE', 'b', '0', '-1', 'WITHSCORES'],
      ['OBJECT', 'ENCODING', 'b'], ['ZCARD', 'b'],
      ['GEORADIUS', '{t}a', '2.35', '48.85', '25', 'km', 'STOREDIST', '{t}b', 'ASC'], ['ZRANGE', '{t}b', '0', '-1', 'WITHSCORES'],
      ['GEOSEARCHSTORE', 'c', 'a', 'FROMMEMBER', 'p3', 'BYBOX', '300', '200', 'mi', 'COUNT', '140'],
      ['ZRANGE', 'c', '0', '-1', 'WITHSCORES'], ['OBJECT', 'ENCODING', 'c'], ['OBJECT', 'ENCODING', 'a'],
      ['GEOSEARCHSTORE', 'c', 'a', 'FROMMEMBER', 'p3', 'BYBOX', '300', '200', 'mi', 'COUNT', '5', 'STOREDIST'],
      ['ZRANGE', 'c', '0', '-1', 'WITHSCORES'], ['OBJECT', 'ENCODING', 'c'],
      ['CONFIG', 'SET', 'zset-max-listpack-entries', '3'],
      ['GEOSEARCHSTORE', 'd', 'a', 'FROMMEMBER', 'p3', 'BYRADIUS', '30', 'km', 'COUNT', '3'], ['OBJECT', 'ENCODING', 'd'],
      ['GEOSEARCHSTORE', 'd', 'a', 'FROMMEMBER', 'p3', 'BYRADIUS', '30', 'km', 'COUNT', '4'], ['OBJECT', 'ENCODING', 'd'],
      ['GEOADD', 'e', '1', '1', 'x', '2', '2', 'y', '3', '3', 'z'], ['OBJECT', 'ENCODING', 'e'],
      ['GEOADD', 'e', '4', '4', 'w'], ['OBJECT', 'ENCODING', 'e'],
      ['CONFIG', 'SET', 'zset-max-listpack-entries', '128'],
      ['GEOADD', 'e', '1', '1', 'a-member-longer-than-sixty-four-bytes-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'],
      ['OBJECT', 'ENCODING', 'e'], ['GEOADD', 'f', '1', '1', 'a-member-longer-than-sixty-four-bytes-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'],
      ['OBJECT', 'ENCODING', 'f'],
      // sorted sets whose scores are no geohash
      ['ZADD', 'z', '-1', 'neg', '1.5', 'frac', 'inf', 'pinf', '-inf', 'ninf', '1e300', 'huge', '4503599627370496', 'two52', '0', 'zero'],
      ['GEOPOS', 'z', 'neg', 'frac', 'pinf', 'ninf', 'huge', 'two52', 'zero'], ['GEOHASH', 'z', 'neg', 'frac', 'pinf', 'ninf', 'huge', 'two52', 'zero'],
      ['GEODIST', 'z', 'neg', 'frac'], ['GEODIST', 'z', 'zero', 'frac', 'km'],
      ['GEOSEARCH', 'z', 'FROMMEMBER', 'zero', 'BYRADIUS', '1000', 'km', 'WITHHASH', 'WITHCOORD', 'WITHDIST'],
      ['GEOADD', 'z', 'XX', 'CH', '1', '1', 'neg'], ['ZSCORE', 'z', 'neg'], ['GEOADD', 'z', '1', '1', 'new'], ['ZRANGE', 'z', '0', '-1', 'WITHSCORES'],
      ['GEOPOS', 'a', ...names.slice(0, 20)],
    ]);
  });

  it('STOREDIST scores: Redis\'s last bits but where glibc rounds sin/cos/asin wrongly (~0.1%), a few ulps there', async () => {
    const pts = randomPoints(13, 500);
    const rnd = mulberry32(14);
    const steps: string[][] = [['GEOADD', 'a', ...pts.flat()]];
    for (let i = 0; i < 60; i++) {
      const from = rnd() < 0.5 ? ['FROMMEMBER', `p${Math.floor(rnd() * 500)}`] : ['FROMLONLAT', String(rnd() * 360 - 180), String(rnd() * 170 - 85)];
      const unit = ['m', 'km', 'ft', 'mi'][i % 4];
      const metres = [50000, 500000, 5000000, 20000000][Math.floor(rnd() * 4)];
      const per = unit === 'km' ? 1000 : unit === 'ft' ? 0.3048 : unit === 'mi' ? 1609.34 : 1;
      steps.push(['GEOSEARCHSTORE', 'b', 'a', ...from, 'BYRADIUS', String(metres / per), unit, 'STOREDIST']);
      steps.push(['ZRANGE', 'b', '0', '-1', 'WITHSCORES']);
    }
    const [mine, theirs] = await Promise.all([ctx.run('sabre', steps), ctx.run('redis', steps)]);
    let values = 0;
    let inexact = 0;
    for (let i = 0; i < steps.length; i++) {
      if (steps[i][0] !== 'ZRANGE') {
        expect(mine[i].toString(), steps[i].join(' ')).toBe(theirs[i].toString());
        continue;
      }
      const a = parseAllReplies(mine[i])[0] as Buffer[];
      const b = parseAllReplies(theirs[i])[0] as Buffer[];
      expect(a.length).toBe(b.length);
      for (let j = 0; j < a.length; j += 2) {
        expect(a[j].toString()).toBe(b[j].toString());
        const x = Number(a[j + 1].toString());
        const y = Number(b[j + 1].toString());
        values++;
        if (x !== y) {
          inexact++;
          expect(Math.abs(x - y), `${a[j].toString()}: ${x} vs ${y}`).toBeLessThanOrEqual(Math.abs(y) * 1e-15);
        }
      }
    }
    expect(values).toBeGreaterThan(5000);
    expect(inexact / values).toBeLessThan(0.005);
  });

  it('pipelined adds, searches and cross-shard stores keep their order', async () => {
    const pts = randomPoints(9, 120);
    const cmds: string[][] = [];
    const keys = ['a', 'b', 'c', 'd'];
    for (let i = 0; i < pts.length; i++) {
      const k = keys[i % 4];
      cmds.push(['GEOADD', k, ...pts[i]]);
      if (i % 7 === 0) cmds.push(['GEOSEARCHSTORE', keys[(i + 1) % 4], k, 'FROMLONLAT', '2.35', '48.85', 'BYRADIUS', '50', 'km', 'STOREDIST']);
      if (i % 5 === 0) cmds.push(['GEORADIUS', keys[(i + 2) % 4], '2.35', '48.85', '50', 'km', 'WITHDIST', 'ASC']);
      if (i % 11 === 0) cmds.push(['GEORADIUS', k, '2.35', '48.85', '50', 'km', 'STORE', keys[(i + 3) % 4]]);
    }
    for (const k of keys) cmds.push(['GEOHASH', k, ...pts.map((p) => p[2])]);
    await ctx.expectSame([pipelined(cmds)]);
  });
});
