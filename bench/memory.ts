// Memory per key: Sabre vs redis-server.
//
//   npm run bench:memory [-- --keys N] [--cmd set|mset] [--shards N] [--self-test]
//
// Loads N keys (16-byte names `key:000000000001`, 16-byte values) into each server
// through pipelined raw RESP writes, then reports bytes per key from the RSS delta
// (/proc/<pid>/status VmRSS) and from the used_memory delta (INFO memory).

import net from 'node:net';
import { defaultShardCount } from '../src/server/config.ts';
import {
  flagOption,
  fmtFixed,
  fmtInt,
  fmtMiB,
  fmtRatio,
  integerCommand,
  numberOption,
  parseOptions,
  printTable,
  progress,
  readRssBytes,
  sleep,
  startBenchServers,
  stringOption,
  usedMemory,
  type ServerHandle,
} from './lib.ts';

const USAGE = `usage: npm run bench:memory -- [options]
  --keys N       number of keys to load (default 1000000)
  --cmd C        set (default) or mset (100 keys per MSET)
  --shards N     Sabre shard count (default: Sabre's own default, cores - 1)
  --settle MS    wait this long after loading before measuring (default 1000)
  --self-test    run a second redis-server in place of Sabre (checks the harness)`;

/** Keys written per socket write. */
const KEYS_PER_WRITE = 2_000;
/** At most this many keys sent but not yet acknowledged. */
const MAX_KEYS_IN_FLIGHT = 40_000;
const KEYS_PER_MSET = 100;

function keyName(i: number): string {
  return 'key:' + String(i).padStart(12, '0');
}

function valueOf(i: number): string {
  return 'val:' + String(i).padStart(12, '0');
}

/** RESP for keys [from, to) as SET commands or MSET commands of KEYS_PER_MSET pairs. Returns the bytes and the command count. */
function buildBatch(from: number, to: number, cmd: 'set' | 'mset'): { bytes: Buffer; commands: number } {
  let s = '';
  let commands = 0;
  if (cmd === 'set') {
    for (let i = from; i < to; i++) {
      const k = keyName(i);
      const v = valueOf(i);
      s += `*3\r\n$3\r\nSET\r\n$${k.length}\r\n${k}\r\n$${v.length}\r\n${v}\r\n`;
      commands++;
    }
  } else {
    for (let start = from; start < to; start += KEYS_PER_MSET) {
      const end = Math.min(to, start + KEYS_PER_MSET);
      s += `*${1 + 2 * (end - start)}\r\n$4\r\nMSET\r\n`;
      for (let i = start; i < end; i++) {
        const k = keyName(i);
        const v = valueOf(i);
        s += `$${k.length}\r\n${k}\r\n$${v.length}\r\n${v}\r\n`;
      }
      commands++;
    }
  }
  return { bytes: Buffer.from(s, 'latin1'), commands };
}

/** Loads keys 1..n over one pipelined connection with bounded in-flight data. */
async function load(port: number, n: number, cmd: 'set' | 'mset'): Promise<{ ms: number; errors: number; firstError: string }> {
  const sock = net.connect({ port, host: '127.0.0.1' });
  sock.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });

  let sentCommands = 0;
  let replies = 0;
  let errors = 0;
  let firstError = '';
  let atLineStart = true;
  let inError = false;
  let closed: Error | null = null;
  let wake: (() => void) | null = null;
  const notify = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  const waitForProgress = (): Promise<void> =>
    new Promise<void>((resolve) => {
      wake = resolve;
    });

  // All replies are one-line (+OK or -ERR ...): count line ends, remember errors.
  sock.on('data', (chunk: Buffer) => {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (atLineStart && c === 0x2d) {
        errors++;
        inError = firstError === '';
      }
      if (c === 0x0a) {
        replies++;
        atLineStart = true;
        inError = false;
      } else {
        if (inError && c !== 0x0d) firstError += String.fromCharCode(c ?? 0);
        atLineStart = false;
      }
    }
    notify();
  });
  const onClose = (): void => {
    closed ??= new Error('server closed the connection during the load');
    notify();
  };
  sock.on('close', onClose);
  sock.on('error', onClose);
  sock.on('drain', notify);

  const started = Date.now();
  const perCommand = cmd === 'set' ? 1 : KEYS_PER_MSET;
  let next = 1;
  let lastReport = started;
  while (next <= n) {
    while ((sentCommands - replies) * perCommand >= MAX_KEYS_IN_FLIGHT || sock.writableNeedDrain) {
      if (closed !== null) throw closed;
      await waitForProgress();
    }
    if (closed !== null) throw closed;
    const to = Math.min(n + 1, next + KEYS_PER_WRITE);
    const batch = buildBatch(next, to, cmd);
    sock.write(batch.bytes);
    sentCommands += batch.commands;
    next = to;
    if (Date.now() - lastReport > 2000) {
      lastReport = Date.now();
      progress(`  ${fmtInt(next - 1)} keys sent`);
    }
  }
  while (replies < sentCommands) {
    if (closed !== null) throw closed;
    await waitForProgress();
  }
  const ms = Date.now() - started;
  sock.destroy();
  return { ms, errors, firstError };
}

interface Measurement {
  label: string;
  keys: number;
  dbsize: number;
  loadMs: number;
  rssBefore: number;
  rssAfter: number;
  usedBefore: number | null;
  usedAfter: number | null;
}

async function measureServer(
  label: string,
  server: ServerHandle,
  keys: number,
  cmd: 'set' | 'mset',
  settleMs: number,
): Promise<Measurement> {
  const usedBefore = await usedMemory(server.port);
  const rssBefore = readRssBytes(server.pid);
  progress(`${label}: loading ${fmtInt(keys)} keys with ${cmd.toUpperCase()}`);
  const result = await load(server.port, keys, cmd);
  if (result.errors > 0) {
    throw new Error(`${label}: ${result.errors} error replies during the load, first: ${result.firstError}`);
  }
  await sleep(settleMs);
  const rssAfter = readRssBytes(server.pid);
  const usedAfter = await usedMemory(server.port);
  let dbsize = Number.NaN;
  try {
    dbsize = await integerCommand(server.port, ['DBSIZE']);
  } catch (err) {
    progress(`${label}: DBSIZE failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (Number.isFinite(dbsize) && dbsize !== keys) progress(`${label}: WARNING: DBSIZE is ${dbsize}, expected ${keys}`);
  progress(`${label}: loaded in ${(result.ms / 1000).toFixed(2)} s`);
  return { label, keys, dbsize, loadMs: result.ms, rssBefore, rssAfter, usedBefore, usedAfter };
}

async function main(): Promise<void> {
  const opts = parseOptions(
    process.argv.slice(2),
    { keys: 'number', cmd: 'string', shards: 'number', settle: 'number', 'self-test': 'boolean' },
    USAGE,
  );
  const keys = Math.round(numberOption(opts, 'keys', 1_000_000));
  const cmdOpt = stringOption(opts, 'cmd', 'set').toLowerCase();
  if (cmdOpt !== 'set' && cmdOpt !== 'mset') throw new Error(`--cmd must be set or mset, got ${cmdOpt}`);
  const cmd: 'set' | 'mset' = cmdOpt;
  const shards = Math.round(numberOption(opts, 'shards', defaultShardCount()));
  const settleMs = numberOption(opts, 'settle', 1000);
  const selfTest = flagOption(opts, 'self-test');

  const servers = await startBenchServers({ shards, selfTest });
  const label = servers.sabreLabel;
  try {
    progress(
      `${label}: port ${servers.sabre.port} pid ${servers.sabre.pid}${selfTest ? '' : ` (${shards} shard${shards === 1 ? '' : 's'})`}; ` +
        `redis: port ${servers.redis.port} pid ${servers.redis.pid}`,
    );
    await sleep(500); // let both finish starting up before the baseline
    const results: Measurement[] = [];
    results.push(await measureServer(label, servers.sabre, keys, cmd, settleMs));
    results.push(await measureServer('redis', servers.redis, keys, cmd, settleMs));

    const perKey = (before: number | null, after: number | null, n: number): number =>
      before === null || after === null ? Number.NaN : (after - before) / n;

    console.log('');
    console.log(
      `${fmtInt(keys)} keys, 16-byte names and 16-byte values, loaded with pipelined ${cmd.toUpperCase()}` +
        `${selfTest ? '' : `; ${label} with ${shards} shard${shards === 1 ? '' : 's'}`}`,
    );
    console.log('');
    printTable(
      [
        'server',
        'DBSIZE',
        'load s',
        'keys/s',
        'RSS before',
        'RSS after',
        'RSS B/key',
        'used_memory before',
        'used_memory after',
        'used B/key',
      ],
      results.map((r) => [
        r.label,
        fmtInt(r.dbsize),
        fmtFixed(r.loadMs / 1000, 2),
        fmtInt(r.keys / (r.loadMs / 1000)),
        fmtMiB(r.rssBefore),
        fmtMiB(r.rssAfter),
        fmtFixed((r.rssAfter - r.rssBefore) / r.keys, 1),
        r.usedBefore === null ? 'n/a' : fmtMiB(r.usedBefore),
        r.usedAfter === null ? 'n/a' : fmtMiB(r.usedAfter),
        fmtFixed(perKey(r.usedBefore, r.usedAfter, r.keys), 1),
      ]),
    );
    const s = results[0];
    const r = results[1];
    if (s !== undefined && r !== undefined) {
      console.log('');
      const rssRatio = (s.rssAfter - s.rssBefore) / (r.rssAfter - r.rssBefore);
      const usedRatio = perKey(s.usedBefore, s.usedAfter, s.keys) / perKey(r.usedBefore, r.usedAfter, r.keys);
      console.log(`${label}/redis bytes per key: RSS ${fmtRatio(rssRatio)}, used_memory ${fmtRatio(usedRatio)} (lower is better)`);
    }
  } finally {
    await servers.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
