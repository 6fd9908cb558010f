// A job queue on blocking pops, Sabre against redis-server side by side:
// - throughput: consumers loop on BRPOP while one producer LPUSHes items in
//   pipelines; items per second and the server's CPU per item;
// - wake-up latency: one consumer blocked, one LPUSH, time until its BRPOP
//   reply arrives (median and p99 of many rounds).
//
//   node bench/blocking-queue.ts [--shards N] [--items N] [--consumers N] [--rounds N]

import { Redis } from 'ioredis';
import {
  fmtFixed, fmtInt, numberOption, parseOptions, printTable, progress, readCpuTicks, clockTicksPerSecond, startBenchServers,
  median, type ServerHandle,
} from './lib.ts';

const opts = parseOptions(process.argv.slice(2), { shards: 'number', items: 'number', consumers: 'number', rounds: 'number' },
  'node bench/blocking-queue.ts [--shards N] [--items N] [--consumers N] [--rounds N]');
const shards = numberOption(opts, 'shards', 1);
const items = numberOption(opts, 'items', 100_000);
const consumers = numberOption(opts, 'consumers', 8);
const rounds = numberOption(opts, 'rounds', 2000);

function client(port: number): Redis {
  return new Redis({ port, maxRetriesPerRequest: 0, enableReadyCheck: false, lazyConnect: true });
}

async function throughput(server: ServerHandle): Promise<{ perSec: number; cpuUs: number }> {
  const cs = Array.from({ length: consumers }, () => client(server.port));
  const producer = client(server.port);
  await Promise.all([...cs, producer].map((c) => c.connect()));
  await producer.del('queue');
  let got = 0;
  const t0 = performance.now();
  const cpu0 = readCpuTicks(server.pid);
  const loops = cs.map(async (c) => {
    while (got < items) {
      const r = await c.brpop('queue', 1);
      if (r !== null) got++;
    }
  });
  for (let sent = 0; sent < items;) {
    const p = producer.pipeline();
    for (let i = 0; i < 64 && sent < items; i++, sent++) p.lpush('queue', `job-${sent}`);
    await p.exec();
  }
  await Promise.all(loops);
  const secs = (performance.now() - t0) / 1000;
  const cpuUs = ((readCpuTicks(server.pid) - cpu0) / clockTicksPerSecond()) * 1e6 / items;
  for (const c of [...cs, producer]) c.disconnect();
  return { perSec: items / secs, cpuUs };
}

async function latency(server: ServerHandle): Promise<{ medianUs: number; p99Us: number }> {
  const consumer = client(server.port);
  const producer = client(server.port);
  await Promise.all([consumer.connect(), producer.connect()]);
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const popped = consumer.brpop('lat', 0);
    // Wait until the pop is registered (INFO would perturb the timing: a short pause does).
    await new Promise((res) => setTimeout(res, 1));
    const t0 = performance.now();
    await producer.lpush('lat', 'x');
    await popped;
    samples.push((performance.now() - t0) * 1000);
  }
  consumer.disconnect();
  producer.disconnect();
  samples.sort((a, b) => a - b);
  return { medianUs: median(samples), p99Us: samples[Math.floor(samples.length * 0.99)] };
}

const servers = await startBenchServers({ shards, selfTest: false });
try {
  const rows: string[][] = [];
  for (const [label, server] of [['sabre', servers.sabre], ['redis', servers.redis]] as const) {
    progress(`${label}: throughput`);
    await throughput(server); // warm-up
    const t = await throughput(server);
    progress(`${label}: latency`);
    const l = await latency(server);
    rows.push([label, fmtInt(t.perSec), fmtFixed(t.cpuUs, 2), fmtFixed(l.medianUs, 0), fmtFixed(l.p99Us, 0)]);
  }
  printTable(['server', 'items/s', 'µs CPU/item', 'wake-up median µs', 'wake-up p99 µs'], rows);
} finally {
  await servers.stop();
}
