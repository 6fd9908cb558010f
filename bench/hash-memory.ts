// Hash memory per element: Sabre vs redis-server.
//
//   node bench/hash-memory.ts [--fields N] [--hashes N] [--shards N]
//
// Two loads, each into a fresh pair of servers, measured as the used_memory
// delta (INFO memory) divided by the element count:
// - one hash of N fields (`field:<i>` -> `value:<i>`), per field;
// - N small hashes `user:<id>` of 5 fields (name, email, age, city, score), per hash.
// Commands go as pipelined raw RESP writes, a bounded number in flight.

import net from 'node:net';
import {
  fmtFixed, fmtInt, fmtRatio, numberOption, parseOptions, printTable, progress, sleep, startBenchServers, usedMemory,
} from './lib.ts';

const USAGE = `usage: node bench/hash-memory.ts [--fields N] [--hashes N] [--shards N]
  --fields N   fields of the one big hash (default 1000000)
  --hashes N   number of 5-field user hashes (default 1000000)
  --shards N   Sabre shard count (default 1)`;

function resp(args: string[]): string {
  let s = `*${args.length}\r\n`;
  for (const a of args) s += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
  return s;
}

/** Sends commands made by make(i) for i in [0, n), pipelined, and waits for all n replies (each a short line). */
async function load(port: number, n: number, make: (i: number) => string[]): Promise<void> {
  const sock = net.connect(port, '127.0.0.1');
  await new Promise<void>((res, rej) => { sock.once('connect', res); sock.once('error', rej); });
  let replies = 0;
  let waiting: (() => void) | null = null;
  sock.on('data', (b: Buffer) => {
    for (const c of b) if (c === 10) replies++;
    if (waiting !== null) waiting();
  });
  const BATCH = 1000;
  for (let i = 0; i < n; i += BATCH) {
    let s = '';
    for (let j = i; j < Math.min(n, i + BATCH); j++) s += resp(make(j));
    sock.write(s);
    while (replies < i - 20 * BATCH) await new Promise<void>((res) => { waiting = res; });
    if (i % 100_000 === 0) progress(`  ${port}: ${i} / ${n}`);
  }
  while (replies < n) await new Promise<void>((res) => { waiting = res; });
  sock.destroy();
}

const CITIES = ['Paris', 'Lyon', 'Berlin', 'Madrid', 'Rome', 'Oslo', 'Lisbon', 'Vienna'];
const NAMES = ['Alice Martin', 'Bob Smith', 'Carla Diaz', 'Dmitri Ivanov', 'Emma Brown', 'Farid Haddad'];

function user(i: number): string[] {
  const name = NAMES[i % NAMES.length];
  return ['HSET', `user:${i}`, 'name', name, 'email', `${name.split(' ')[0].toLowerCase()}${i}@example.com`,
    'age', String(18 + (i % 60)), 'city', CITIES[i % CITIES.length], 'score', String((i * 7919) % 10000)];
}

async function measure(label: string, shards: number, n: number, make: (i: number) => string[], per: number): Promise<string[]> {
  const servers = await startBenchServers({ shards, selfTest: false });
  try {
    const rows: number[] = [];
    for (const port of [servers.sabre.port, servers.redis.port]) {
      const before = await usedMemory(port) ?? 0;
      await load(port, n, make);
      await sleep(500);
      const after = await usedMemory(port) ?? 0;
      rows.push((after - before) / per);
    }
    return [label, fmtInt(per), fmtFixed(rows[0], 1), fmtFixed(rows[1], 1), fmtRatio(rows[0] / rows[1])];
  } finally {
    await servers.stop();
  }
}

const opts = parseOptions(process.argv.slice(2), { fields: 'number', hashes: 'number', shards: 'number' }, USAGE);
const fields = numberOption(opts, 'fields', 1_000_000);
const hashes = numberOption(opts, 'hashes', 1_000_000);
const shards = numberOption(opts, 'shards', 1);
const rows: string[][] = [];
const PER_HSET = 100;
rows.push(await measure(`one hash of ${fields} fields (bytes per field)`, shards, Math.ceil(fields / PER_HSET), (i) => {
  const a = ['HSET', 'bighash'];
  for (let j = i * PER_HSET; j < Math.min(fields, (i + 1) * PER_HSET); j++) a.push(`field:${j}`, `value:${j}`);
  return a;
}, fields));
rows.push(await measure(`${hashes} user hashes of 5 fields (bytes per hash)`, shards, hashes, user, hashes));
printTable(['load', 'elements', 'sabre B/elem', 'redis B/elem', 'sabre/redis'], rows);
