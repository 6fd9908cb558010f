// Big values and unread replies: peak RSS of Sabre vs redis-server.
//
//   npm run bench:buffers [-- --sizes 256,512] [--gets N] [--shards N] [--skip-pipeline] [--self-test]
//
// For each value size (MiB), a fresh pair of servers: SET one value of that size,
// then GET it back (the bytes are checked), then DEL it. For each phase the
// server's peak RSS is read from VmHWM (/proc/<pid>/status; the high-water mark
// is reset through /proc/<pid>/clear_refs before the phase, and VmRSS is also
// sampled every 10 ms in case the reset is refused), and its RSS once the phase
// is over. Then, on another fresh pair with the default limits, one client
// pipelines N GETs of a 1 KiB value without reading a single reply, and the
// servers' RSS is followed until they have run every command.

import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { defaultShardCount } from '../src/server/config.ts';
import {
  bulkCommand,
  command,
  flagOption,
  fmtInt,
  fmtMiB,
  fmtRatio,
  numberOption,
  parseOptions,
  printTable,
  progress,
  readRssBytes,
  sleep,
  startBenchServers,
  stringOption,
  type ServerHandle,
} from './lib.ts';

const USAGE = `usage: npm run bench:buffers -- [options]
  --sizes LIST     value sizes in MiB, comma separated (default 256,512)
  --gets N         GETs pipelined without reading (default 1000000)
  --shards N       Sabre shard count (default: Sabre's own default, cores - 1)
  --settle MS      wait this long after each phase before reading RSS (default 1000)
  --skip-pipeline  only the big values
  --skip-values    only the pipeline
  --self-test      run a second redis-server in place of Sabre (checks the harness)`;

const MiB = 1024 * 1024;

// ---------------------------------------------------------------------------
// /proc

/** Resets the process's VmHWM to its current RSS; false when the kernel refuses. */
function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

function readHwmBytes(pid: number): number {
  const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
  return m === null ? Number.NaN : Number(m[1]) * 1024;
}

/** Follows a process's RSS while `work` runs; returns its peak (VmHWM when it could be reset, else the sampled maximum). */
async function peakDuring<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; peak: number }> {
  const hwm = resetPeak(pid);
  let sampled = readRssBytes(pid);
  const timer = setInterval(() => {
    try {
      sampled = Math.max(sampled, readRssBytes(pid));
    } catch {
      // the process is gone; the work will fail on its own
    }
  }, 10);
  try {
    const result = await work();
    sampled = Math.max(sampled, readRssBytes(pid));
    return { result, peak: hwm ? Math.max(readHwmBytes(pid), sampled) : sampled };
  } finally {
    clearInterval(timer);
  }
}

// ---------------------------------------------------------------------------
// Big values

/** A value of `size` bytes: a 64 KiB pseudo-random block repeated, with its offset stamped every 64 KiB. */
function makeValue(size: number): Buffer {
  const block = Buffer.alloc(64 * 1024);
  let x = 0x9e3779b9;
  for (let i = 0; i < block.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    block[i] = x & 0xff;
  }
  const v = Buffer.allocUnsafe(size);
  for (let p = 0; p < size; p += block.length) {
    block.copy(v, p, 0, Math.min(block.length, size - p));
    if (p + 8 <= size) v.writeUInt32LE(p / block.length, p);
  }
  return v;
}

function connect(port: number): Promise<net.Socket> {
  return new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** SET key value, written in 1 MiB slices with backpressure; resolves on +OK. */
async function setBig(port: number, key: string, value: Buffer): Promise<void> {
  const s = await connect(port);
  const reply = new Promise<string>((resolve, reject) => {
    let text = '';
    s.on('data', (c: Buffer) => {
      text += c.toString('latin1');
      if (text.includes('\r\n')) resolve(text);
    });
    s.once('close', () => reject(new Error(`SET ${key}: connection closed (${JSON.stringify(text)})`)));
  });
  s.write(`*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${value.length}\r\n`);
  for (let p = 0; p < value.length; p += MiB) {
    if (!s.write(value.subarray(p, Math.min(value.length, p + MiB)))) {
      await new Promise<void>((resolve) => s.once('drain', resolve));
    }
  }
  s.write('\r\n');
  const text = await reply;
  s.destroy();
  if (text !== '+OK\r\n') throw new Error(`SET ${key}: ${JSON.stringify(text.slice(0, 200))}`);
}

/** GET key, streamed: checks the length, and the first 64 bytes of every 64 KiB against `expected`. */
async function getBig(port: number, key: string, expected: Buffer): Promise<void> {
  const s = await connect(port);
  const done = new Promise<void>((resolve, reject) => {
    let header = Buffer.alloc(0);
    let bodyStarted = false;
    let got = 0;
    const fail = (why: string): void => {
      reject(new Error(`GET ${key}: ${why}`));
      s.destroy();
    };
    s.on('data', (chunk: Buffer) => {
      let c = chunk;
      if (!bodyStarted) {
        header = Buffer.concat([header, c]);
        const eol = header.indexOf('\r\n');
        if (eol < 0) return;
        const line = header.toString('latin1', 0, eol);
        if (line !== `$${expected.length}`) return fail(`header ${JSON.stringify(line.slice(0, 100))}`);
        bodyStarted = true;
        c = header.subarray(eol + 2);
        header = Buffer.alloc(0);
      }
      const from = got;
      const to = got + c.length;
      for (let p = from - (from & 0xffff); p < to; p += 0x10000) {
        const a = Math.max(p, from);
        const b = Math.min(p + 64, to, expected.length);
        if (a < b && c.compare(expected, a, b, a - from, b - from) !== 0) return fail(`bytes differ near ${a}`);
      }
      got = to;
      if (got >= expected.length + 2) resolve();
    });
    s.once('close', () => reject(new Error(`GET ${key}: connection closed after ${got} bytes`)));
  });
  s.write(`*2\r\n$3\r\nGET\r\n$${key.length}\r\n${key}\r\n`);
  await done;
  s.destroy();
}

interface ValueRow {
  label: string;
  base: number;
  setPeak: number;
  afterSet: number;
  getPeak: number;
  afterGet: number;
  afterDel: number;
}

async function measureValue(label: string, srv: ServerHandle, value: Buffer, settleMs: number): Promise<ValueRow> {
  const key = 'big';
  await sleep(settleMs);
  const base = readRssBytes(srv.pid);
  progress(`${label}: SET ${value.length / MiB} MiB`);
  const set = await peakDuring(srv.pid, () => setBig(srv.port, key, value));
  await sleep(settleMs);
  const afterSet = readRssBytes(srv.pid);
  progress(`${label}: GET`);
  const get = await peakDuring(srv.pid, () => getBig(srv.port, key, value));
  await sleep(settleMs);
  const afterGet = readRssBytes(srv.pid);
  await command(srv.port, ['DEL', key]);
  await sleep(settleMs);
  const afterDel = readRssBytes(srv.pid);
  return { label, base, setPeak: set.peak, afterSet, getPeak: get.peak, afterGet, afterDel };
}

// ---------------------------------------------------------------------------
// Unread pipeline

interface PipelineRow {
  label: string;
  base: number;
  peak: number;
  end: number;
  processed: number;
  ms: number;
}

async function commandsProcessed(port: number): Promise<number> {
  const info = await bulkCommand(port, ['INFO', 'stats']);
  const m = /^total_commands_processed:(\d+)/m.exec(info);
  return m === null ? Number.NaN : Number(m[1]);
}

async function measurePipeline(label: string, srv: ServerHandle, gets: number, settleMs: number): Promise<PipelineRow> {
  await command(srv.port, ['SET', 'k1k', 'v'.repeat(1024)]);
  await sleep(settleMs);
  const base = readRssBytes(srv.pid);
  // INFO counts the INFO calls before it (not itself): subtract those.
  let infoCalls = 0;
  const processedSince = async (): Promise<number> => (await commandsProcessed(srv.port)) - infoCalls++;
  const before = await processedSince();
  const s = await connect(srv.port);
  s.pause(); // never read a reply
  let closed = false;
  s.on('close', () => (closed = true));
  s.on('error', () => (closed = true));
  const started = Date.now();
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, readRssBytes(srv.pid))), 50);
  progress(`${label}: pipelining ${fmtInt(gets)} GETs without reading`);
  const one = '*2\r\n$3\r\nGET\r\n$3\r\nk1k\r\n';
  const batch = Buffer.from(one.repeat(10_000), 'latin1');
  let sent = 0;
  while (sent < gets && !closed) {
    const n = Math.min(10_000, gets - sent);
    const ok = s.write(n === 10_000 ? batch : batch.subarray(0, n * one.length));
    sent += n;
    if (!ok) {
      await Promise.race([new Promise<void>((resolve) => s.once('drain', resolve)), sleep(30_000)]);
      if (s.writableNeedDrain) {
        progress(`${label}: the server stopped reading after ${fmtInt(sent)} GETs`);
        break;
      }
    }
  }
  // Until the server has run them all (or stops making progress).
  let processed = 0;
  let last = -1;
  let still = 0;
  for (;;) {
    processed = (await processedSince()) - before;
    if (processed >= sent || closed) break;
    if (processed === last && ++still >= 20) break;
    if (processed !== last) still = 0;
    last = processed;
    await sleep(250);
  }
  const ms = Date.now() - started;
  await sleep(settleMs);
  peak = Math.max(peak, readRssBytes(srv.pid));
  const end = readRssBytes(srv.pid);
  clearInterval(sampler);
  s.destroy();
  return { label, base, peak, end, processed, ms };
}

// ---------------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2), {
    sizes: 'string', gets: 'number', shards: 'number', settle: 'number',
    'skip-pipeline': 'boolean', 'skip-values': 'boolean', 'self-test': 'boolean',
  }, USAGE);
  const sizes = stringOption(opts, 'sizes', '256,512').split(',').map((s) => Number(s.trim()));
  if (sizes.some((s) => !Number.isFinite(s) || s <= 0)) throw new Error('--sizes: positive numbers of MiB');
  const gets = numberOption(opts, 'gets', 1_000_000);
  const shards = numberOption(opts, 'shards', defaultShardCount());
  const settleMs = numberOption(opts, 'settle', 1000);
  const selfTest = flagOption(opts, 'self-test');

  const valueRows: Array<{ size: number; sabre: ValueRow; redis: ValueRow }> = [];
  if (!flagOption(opts, 'skip-values')) {
    for (const size of sizes) {
      const value = makeValue(Math.round(size * MiB));
      const servers = await startBenchServers({ shards, selfTest });
      try {
        // One after the other: both at once would share the two cores and the page cache.
        const sabre = await measureValue(servers.sabreLabel, servers.sabre, value, settleMs);
        const redis = await measureValue('redis', servers.redis, value, settleMs);
        valueRows.push({ size, sabre, redis });
      } finally {
        await servers.stop();
      }
    }
  }

  let pipeline: { sabre: PipelineRow; redis: PipelineRow } | null = null;
  if (!flagOption(opts, 'skip-pipeline')) {
    const servers = await startBenchServers({ shards, selfTest });
    try {
      const sabre = await measurePipeline(servers.sabreLabel, servers.sabre, gets, settleMs);
      const redis = await measurePipeline('redis', servers.redis, gets, settleMs);
      pipeline = { sabre, redis };
    } finally {
      await servers.stop();
    }
  }

  console.log(`\nBig values (${shards} shard${shards === 1 ? '' : 's'}): RSS of the whole server process`);
  const rows: string[][] = [];
  for (const { size, sabre, redis } of valueRows) {
    const cells = (name: string, pick: (r: ValueRow) => number): string[] =>
      [`${size} MiB ${name}`, fmtMiB(pick(sabre)), fmtMiB(pick(redis)), fmtRatio(pick(sabre) / pick(redis))];
    rows.push(cells('empty server', (r) => r.base));
    rows.push(cells('SET peak', (r) => r.setPeak));
    rows.push(cells('after SET', (r) => r.afterSet));
    rows.push(cells('GET peak', (r) => r.getPeak));
    rows.push(cells('after GET', (r) => r.afterGet));
    rows.push(cells('after DEL', (r) => r.afterDel));
    rows.push(cells('peak of both', (r) => Math.max(r.setPeak, r.getPeak)));
  }
  printTable(['phase', selfTest ? 'redis#2' : 'sabre', 'redis', 'ratio'], rows);

  if (pipeline !== null) {
    const { sabre, redis } = pipeline;
    console.log(`\n${fmtInt(gets)} pipelined GETs of a 1 KiB value, replies never read (default limits)`);
    const cells = (name: string, pick: (r: PipelineRow) => number, fmt = fmtMiB): string[] =>
      [name, fmt(pick(sabre)), fmt(pick(redis)), fmtRatio(pick(sabre) / pick(redis))];
    printTable(['', selfTest ? 'redis#2' : 'sabre', 'redis', 'ratio'], [
      cells('empty server', (r) => r.base),
      cells('peak RSS', (r) => r.peak),
      cells('RSS at the end', (r) => r.end),
      cells('growth (end - empty)', (r) => r.end - r.base),
      cells('GETs run', (r) => r.processed, fmtInt),
      cells('seconds', (r) => r.ms / 1000, (n) => n.toFixed(1)),
    ]);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
