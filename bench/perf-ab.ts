// A/B of CPU per request for redis-benchmark's default-list commands: a
// baseline checkout (--base DIR, e.g. `git archive <commit> | tar -x -C DIR`
// with node_modules linked), this checkout, and redis-server, in the same run,
// each started fresh for every round, rounds interleaved.
//
//   node bench/perf-ab.ts [--base DIR] [--new DIR] [--rounds 3] [--requests 500000] [--pipeline 16]
//                         [--shards 1] [--keyspace R] [--tests sadd,spop,...]
//
// For each server, one redis-benchmark run (-c 50; one key per test as in the
// default list, or -r R with --keyspace R) per round goes
// through the tests in order (so SPOP pops what SADD added, as in the default
// list); the CPU of the shard threads, of the whole process, is read at each
// CSV row. Prints medians in µs per request.

import { startRedis, startSabre } from '../test/helpers/servers.ts';
import {
  fmtFixed,
  median,
  numberOption,
  parseOptions,
  printTable,
  progress,
  readThreadCpu,
  stringOption,
  threadCpuDelta,
  type ServerHandle,
} from './lib.ts';
import { spawn } from 'node:child_process';

const USAGE = 'usage: node bench/perf-ab.ts [--base DIR] [--new DIR] [--rounds N] [--requests N] [--pipeline P] [--shards S] [--keyspace R] [--tests a,b]';
const opts = parseOptions(
  process.argv.slice(2),
  { base: 'string', new: 'string', rounds: 'number', requests: 'number', pipeline: 'number', shards: 'number', keyspace: 'number', tests: 'string' },
  USAGE,
);
const base = stringOption(opts, 'base', '');
// A snapshot of the code under test, so that edits during the run change nothing (default: this checkout).
const candidate = stringOption(opts, 'new', '');
const rounds = numberOption(opts, 'rounds', 3);
const requests = numberOption(opts, 'requests', 500_000);
const pipeline = numberOption(opts, 'pipeline', 16);
const shards = numberOption(opts, 'shards', 1);
const keyspace = numberOption(opts, 'keyspace', 0);
const tests = stringOption(opts, 'tests', 'set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange_100,mset');

interface Sample { shard: number; total: number }
type Kind = 'base' | 'new' | 'redis';
const samples = new Map<string, Map<Kind, Sample[]>>();

function run(port: number, pid: number, kind: Kind): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('stdbuf', ['-oL', 'redis-benchmark', '-h', '127.0.0.1', '-p', String(port),
      '-P', String(pipeline), '-c', '50', ...(keyspace > 0 ? ['-r', String(keyspace)] : []), '-n', String(requests), '-t', tests, '--csv'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let last = readThreadCpu(pid);
    let pending = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        const m = /^"([^"]+)","([\d.]+)"/.exec(line);
        if (m === null) continue;
        const now = readThreadCpu(pid);
        const d = threadCpuDelta(last, now);
        last = now;
        const row = (m[1] ?? '').split(' ')[0] ?? '';
        if (row === 'LPUSH' && samples.get('LPUSH')?.get(kind)?.length === round + 1) continue; // LRANGE's fill
        let byKind = samples.get(row);
        if (byKind === undefined) samples.set(row, (byKind = new Map()));
        let list = byKind.get(kind);
        if (list === undefined) byKind.set(kind, (list = []));
        list.push({ shard: kind === 'redis' ? d.total / requests : d.shards / requests, total: d.total / requests });
        progress(`  ${kind} ${row}: shard ${fmtFixed(d.shards / requests, 2)} total ${fmtFixed(d.total / requests, 2)} µs/req`);
      }
    });
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`redis-benchmark exit ${code}: ${err}`))));
  });
}

let round = 0;
for (; round < rounds; round++) {
  const kinds: Kind[] = base === '' ? ['new', 'redis'] : ['base', 'new', 'redis'];
  for (const kind of kinds) {
    let server: ServerHandle | null;
    if (kind === 'redis') server = await startRedis();
    else server = await startSabre({ shards, warmup: true, root: kind === 'base' ? base : candidate === '' ? undefined : candidate });
    if (server === null) throw new Error('redis-server not available');
    try {
      progress(`round ${round + 1} ${kind}`);
      await run(server.port, server.pid, kind);
    } finally {
      await server.stop();
    }
  }
}

const headers = ['test', ...(base === '' ? [] : ['base shard', 'base total']), 'new shard', 'new total', 'Redis', ...(base === '' ? [] : ['base/Redis']), 'new/Redis'];
const rows: string[][] = [];
for (const [row, byKind] of samples) {
  const m = (k: Kind, f: (s: Sample) => number): number => median((byKind.get(k) ?? []).map(f));
  const redis = m('redis', (s) => s.total);
  const cells = [row];
  if (base !== '') cells.push(fmtFixed(m('base', (s) => s.shard), 2), fmtFixed(m('base', (s) => s.total), 2));
  cells.push(fmtFixed(m('new', (s) => s.shard), 2), fmtFixed(m('new', (s) => s.total), 2), fmtFixed(redis, 2));
  if (base !== '') cells.push(fmtFixed(m('base', (s) => s.total) / redis, 2) + 'x');
  cells.push(fmtFixed(m('new', (s) => s.total) / redis, 2) + 'x');
  rows.push(cells);
}
console.log(`\nµs CPU per request, medians of ${rounds}, -P ${pipeline} -c 50${keyspace > 0 ? ` -r ${keyspace}` : ''} -n ${requests}, Sabre ${shards} shard(s), fresh servers`);
printTable(headers, rows);
