// Bytes per member of one big set: Sabre vs redis-server.
//
//   node bench/set-memory.ts [--members N] [--shards N] [--self-test]
//
// Loads one set of N members into each server, twice: strings `member:<n>`,
// then integers <n> (past set-max-intset-entries, so a hashtable in both),
// with pipelined SADDs of 100 members, and reports the used_memory and RSS
// deltas per member, plus SADD throughput.

import net from 'node:net';
import {
  flagOption, fmtFixed, fmtInt, numberOption, parseOptions, printTable, progress, readRssBytes, sleep, startBenchServers,
  usedMemory, type ServerHandle,
} from './lib.ts';

const USAGE = `usage: node bench/set-memory.ts [options]
  --members N    members of the set (default 1000000)
  --shards N     Sabre shard count (default 1)
  --self-test    run a second redis-server in place of Sabre`;

const PER_SADD = 100;
const SADDS_PER_WRITE = 20;
const MAX_SADDS_IN_FLIGHT = 400;

function batch(key: string, from: number, to: number, member: (i: number) => string): Buffer {
  let s = '';
  for (let start = from; start < to; start += PER_SADD) {
    const end = Math.min(to, start + PER_SADD);
    s += `*${2 + end - start}\r\n$4\r\nSADD\r\n$${key.length}\r\n${key}\r\n`;
    for (let i = start; i < end; i++) {
      const m = member(i);
      s += `$${m.length}\r\n${m}\r\n`;
    }
  }
  return Buffer.from(s, 'latin1');
}

/** Loads members [0, n) into `key`; returns the time taken. All replies are integers (an error throws). */
async function load(port: number, key: string, n: number, member: (i: number) => string): Promise<number> {
  const sock = net.connect({ port, host: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  let replies = 0;
  let failure = '';
  let wake: (() => void) | null = null;
  sock.on('data', (chunk: Buffer) => {
    for (let i = 0; i < chunk.length; i++) {
      if (chunk[i] === 0x2d && failure === '') failure = chunk.subarray(i, i + 80).toString();
      if (chunk[i] === 0x0a) replies++;
    }
    const w = wake;
    wake = null;
    w?.();
  });
  const t0 = Date.now();
  let sent = 0;
  for (let next = 0; next < n;) {
    while (sent - replies >= MAX_SADDS_IN_FLIGHT) await new Promise<void>((r) => { wake = r; });
    if (failure !== '') throw new Error(failure);
    const to = Math.min(n, next + PER_SADD * SADDS_PER_WRITE);
    sock.write(batch(key, next, to, member));
    sent += Math.ceil((to - next) / PER_SADD);
    next = to;
  }
  while (replies < sent) await new Promise<void>((r) => { wake = r; });
  if (failure !== '') throw new Error(failure);
  sock.destroy();
  return Date.now() - t0;
}

interface Row { server: string; kind: string; usedPer: number; rssPer: number; seconds: number }

async function measure(label: string, server: ServerHandle, kind: string, n: number, member: (i: number) => string): Promise<Row> {
  const key = `set:${kind}`;
  const usedBefore = (await usedMemory(server.port)) ?? 0;
  const rssBefore = readRssBytes(server.pid);
  progress(`${label}: ${fmtInt(n)} ${kind} members`);
  const ms = await load(server.port, key, n, member);
  await sleep(500);
  const usedAfter = (await usedMemory(server.port)) ?? 0;
  const rssAfter = readRssBytes(server.pid);
  return { server: label, kind, usedPer: (usedAfter - usedBefore) / n, rssPer: (rssAfter - rssBefore) / n, seconds: ms / 1000 };
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2), { members: 'number', shards: 'number', 'self-test': 'boolean' }, USAGE);
  const n = numberOption(opts, 'members', 1_000_000);
  const servers = await startBenchServers({ shards: numberOption(opts, 'shards', 1), selfTest: flagOption(opts, 'self-test') });
  const rows: Row[] = [];
  try {
    for (const [kind, member] of [['string', (i: number) => `member:${i}`], ['integer', (i: number) => String(i)]] as const) {
      rows.push(await measure(servers.sabreLabel, servers.sabre, kind, n, member));
      rows.push(await measure('redis', servers.redis, kind, n, member));
    }
  } finally {
    await servers.stop();
  }
  printTable(['server', 'members', 'used_memory B/member', 'RSS B/member', 'load s'],
    rows.map((r) => [r.server, r.kind, fmtFixed(r.usedPer, 1), fmtFixed(r.rssPer, 1), fmtFixed(r.seconds, 2)]));
}

await main();
