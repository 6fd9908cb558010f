// Memory per element of the collection types: Sabre vs redis-server.
//
//   npm run bench:collections-memory [-- --elements N] [--shards N] [--types hash,set,zset,list,users]
//
// For every type, a fresh Sabre and a fresh redis-server are started and loaded
// through pipelined variadic commands (100 elements per command, or one HSET
// per user record): one hash of N fields, one set of N members, one sorted set
// of N members, one list of N elements, and N small hashes of 5 fields
// (`user:<id>`: name, email, age, city, score). Reported: the used_memory
// delta (INFO memory) and the RSS delta (/proc/<pid>/status) over the empty
// server, per element (per user record for the small hashes), and Sabre/Redis
// ratios. A type whose command the server does not know (an "unknown
// command" error) is reported as not available. Sabre starts with --warmup no:
// the start-up warm-up leaves megabytes of V8 heap that is collected while the
// load runs, which moved the RSS delta of a 22 MB list below zero.

import net from 'node:net';
import { defaultShardCount } from '../src/server/config.ts';
import { startRedis, startSabre } from '../test/helpers/servers.ts';
import {
  command,
  fmtFixed,
  fmtInt,
  fmtRatio,
  numberOption,
  parseOptions,
  progress,
  readRssBytes,
  sleep,
  stringOption,
  usedMemory,
  type ServerHandle,
} from './lib.ts';

const USAGE = `usage: npm run bench:collections-memory -- [options]
  --elements N   members per collection, and user records (default 1000000)
  --shards N     Sabre shard count (default: Sabre's own default, cores - 1)
  --types LIST   comma separated, from hash,set,zset,list,users (default all)
  --settle MS    wait this long after loading before measuring (default 1000)`;

/** Elements per variadic command. */
const PER_COMMAND = 100;
/** Commands per socket write. */
const COMMANDS_PER_WRITE = 200;
/** At most this many commands sent and not yet answered. */
const MAX_IN_FLIGHT = 4_000;

const pad = (i: number): string => String(i).padStart(10, '0');
const CITIES = ['Amsterdam', 'Berlin', 'Chicago', 'Dublin', 'Lisbon', 'Madrid', 'Oslo', 'Paris'];

interface TypeSpec {
  name: string;
  /** What an element is, for the table. */
  unit: string;
  /** A command that creates a throw-away key of this type, to see whether the server has it. */
  probe: string[];
  /** The commands loading elements [from, to). */
  commands(from: number, to: number): string[][];
}

const TYPES: readonly TypeSpec[] = [
  {
    name: 'hash',
    unit: 'field',
    probe: ['HSET', 'probe:hash', 'f', 'v'],
    commands: (from, to) => chunks(from, to, (i) => [`field:${pad(i)}`, `value:${pad(i)}`], ['HSET', 'big:hash']),
  },
  {
    name: 'set',
    unit: 'member',
    probe: ['SADD', 'probe:set', 'm'],
    commands: (from, to) => chunks(from, to, (i) => [`member:${pad(i)}`], ['SADD', 'big:set']),
  },
  {
    name: 'zset',
    unit: 'member',
    probe: ['ZADD', 'probe:zset', '1', 'm'],
    commands: (from, to) => chunks(from, to, (i) => [String(i), `member:${pad(i)}`], ['ZADD', 'big:zset']),
  },
  {
    name: 'list',
    unit: 'element',
    probe: ['RPUSH', 'probe:list', 'e'],
    commands: (from, to) => chunks(from, to, (i) => [`element:${pad(i)}`], ['RPUSH', 'big:list']),
  },
  {
    name: 'users',
    unit: 'user hash (5 fields)',
    probe: ['HSET', 'probe:user', 'name', 'x'],
    commands: (from, to) => {
      const out: string[][] = [];
      for (let i = from; i < to; i++) {
        out.push([
          'HSET', `user:${i}`,
          'name', `user${i}`,
          'email', `user${i}@example.com`,
          'age', String(18 + (i % 60)),
          'city', CITIES[i % CITIES.length] as string,
          'score', String(i % 1000),
        ]);
      }
      return out;
    },
  },
];

function chunks(from: number, to: number, element: (i: number) => string[], head: string[]): string[][] {
  const out: string[][] = [];
  for (let start = from; start < to; start += PER_COMMAND) {
    const cmd = [...head];
    for (let i = start; i < Math.min(to, start + PER_COMMAND); i++) cmd.push(...element(i));
    out.push(cmd);
  }
  return out;
}

function encode(args: readonly string[]): string {
  let s = `*${args.length}\r\n`;
  for (const a of args) s += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
  return s;
}

/** Sends the commands of elements [0, n) over one pipelined connection; every reply is one line. */
async function load(port: number, spec: TypeSpec, n: number): Promise<{ ms: number; errors: number; firstError: string }> {
  const sock = net.connect({ port, host: '127.0.0.1', noDelay: true });
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  let replies = 0;
  let errors = 0;
  let firstError = '';
  let atLineStart = true;
  let inError = false;
  let wake: (() => void) | null = null;
  let failure: Error | null = null;
  sock.on('data', (chunk: Buffer) => {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i] as number;
      if (atLineStart && c === 0x2d) {
        errors++;
        inError = firstError === '';
      }
      if (c === 0x0a) {
        replies++;
        atLineStart = true;
        inError = false;
      } else {
        if (inError && c !== 0x0d) firstError += String.fromCharCode(c);
        atLineStart = false;
      }
    }
    const w = wake;
    wake = null;
    w?.();
  });
  sock.on('error', (e) => {
    failure = e;
    wake?.();
  });
  const t0 = performance.now();
  let sent = 0;
  const step = COMMANDS_PER_WRITE * (spec.name === 'users' ? 1 : PER_COMMAND);
  for (let from = 0; from < n; from += step) {
    const cmds = spec.commands(from, Math.min(n, from + step));
    while (sent - replies > MAX_IN_FLIGHT) {
      if (failure !== null) throw failure;
      await new Promise<void>((r) => (wake = r));
    }
    sock.write(cmds.map(encode).join(''));
    sent += cmds.length;
  }
  while (replies < sent) {
    if (failure !== null) throw failure;
    await new Promise<void>((r) => (wake = r));
  }
  sock.destroy();
  return { ms: performance.now() - t0, errors, firstError };
}

interface Measured {
  /** Null: the server does not have the type's command. */
  usedPerElement: number | null;
  rssPerElement: number;
  loadMs: number;
  note: string;
}

async function measure(server: ServerHandle, spec: TypeSpec, n: number, settleMs: number): Promise<Measured> {
  const probe = (await command(server.port, spec.probe)).toString('utf8');
  if (/^-ERR unknown command/.test(probe)) return { usedPerElement: null, rssPerElement: Number.NaN, loadMs: 0, note: 'not available (unknown command)' };
  if (probe.startsWith('-')) throw new Error(`${spec.probe.join(' ')}: ${probe.trim()}`);
  await command(server.port, ['FLUSHALL']);
  await sleep(settleMs);
  const used0 = await usedMemory(server.port);
  const rss0 = readRssBytes(server.pid);
  const r = await load(server.port, spec, n);
  if (r.errors > 0) throw new Error(`${spec.name}: ${r.errors} error replies while loading, the first: ${r.firstError}`);
  await sleep(settleMs);
  const used1 = await usedMemory(server.port);
  const rss1 = readRssBytes(server.pid);
  return {
    usedPerElement: used0 === null || used1 === null ? Number.NaN : (used1 - used0) / n,
    rssPerElement: (rss1 - rss0) / n,
    loadMs: r.ms,
    note: '',
  };
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2), { elements: 'number', shards: 'number', types: 'string', settle: 'number' }, USAGE);
  const n = Math.round(numberOption(opts, 'elements', 1_000_000));
  const shards = Math.round(numberOption(opts, 'shards', defaultShardCount()));
  const settleMs = Math.round(numberOption(opts, 'settle', 1000));
  const wanted = stringOption(opts, 'types', TYPES.map((t) => t.name).join(',')).split(',');
  const specs = TYPES.filter((t) => wanted.includes(t.name));

  const rows: string[] = [];
  for (const spec of specs) {
    progress(`${spec.name}: ${fmtInt(n)} x ${spec.unit}`);
    const results: Measured[] = [];
    for (const side of ['sabre', 'redis'] as const) {
      const server = side === 'sabre' ? await startSabre({ shards, warmup: false }) : await startRedis();
      if (server === null) throw new Error('redis-server is not on PATH');
      try {
        const m = await measure(server, spec, n, settleMs);
        results.push(m);
        progress(
          `  ${side}: ${m.usedPerElement === null ? m.note : `used_memory ${fmtFixed(m.usedPerElement, 1)} B, RSS ${fmtFixed(m.rssPerElement, 1)} B per ${spec.unit}, loaded in ${fmtInt(m.loadMs)} ms`}`,
        );
      } finally {
        await server.stop();
      }
    }
    const [s, r] = results as [Measured, Measured];
    if (s.usedPerElement === null || r.usedPerElement === null) {
      rows.push(`| ${spec.name} | ${spec.unit} | ${s.note || 'n/a'} | ${r.usedPerElement === null ? r.note : fmtFixed(r.usedPerElement, 1)} | — | ${s.usedPerElement === null ? '—' : fmtFixed(s.rssPerElement, 1)} | ${fmtFixed(r.rssPerElement, 1)} | — |`);
      continue;
    }
    rows.push(
      `| ${spec.name} | ${spec.unit} | ${fmtFixed(s.usedPerElement, 1)} | ${fmtFixed(r.usedPerElement, 1)} | ${fmtRatio(s.usedPerElement / r.usedPerElement)} | ` +
        `${fmtFixed(s.rssPerElement, 1)} | ${fmtFixed(r.rssPerElement, 1)} | ${fmtRatio(s.rssPerElement / r.rssPerElement)} |`,
    );
  }
  console.log('');
  console.log(`${fmtInt(n)} elements per type; Sabre with ${shards} shard${shards === 1 ? '' : 's'}; bytes per element over the empty server (a fresh server per type and side).`);
  console.log('');
  console.log('| type | element | Sabre used_memory B | Redis used_memory B | ratio | Sabre RSS B | Redis RSS B | ratio |');
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) console.log(r);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
