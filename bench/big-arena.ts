// Shows one shard holding more than 2 GiB: loads 1 MB values into a single
// shard with a 4 GiB arena, then reads a sample back (first, last, random)
// and compares every byte. Usage: node bench/big-arena.ts [totalMB=2560]
import { Redis } from 'ioredis';
import { startSabre } from '../test/helpers/servers.ts';

const totalMb = Number(process.argv[2] ?? 2560);
const VALUE = 1024 * 1024;

function valueOf(i: number): Buffer {
  const b = Buffer.allocUnsafe(VALUE);
  for (let j = 0; j < VALUE; j += 4) b.writeUInt32LE((j * 2654435761 + i) >>> 0, j);
  return b;
}

const server = await startSabre({ shards: 1, args: ['--shard-arena-mb', '4096'] });
const r = new Redis({ port: server.port, lazyConnect: true, maxRetriesPerRequest: 0 });
await r.connect();
try {
  const t0 = performance.now();
  for (let i = 0; i < totalMb; i += 32) {
    const p = r.pipeline();
    for (let j = i; j < Math.min(totalMb, i + 32); j++) p.set(`big:${j}`, valueOf(j));
    for (const [err] of (await p.exec()) ?? []) if (err) throw err;
  }
  const loadSec = (performance.now() - t0) / 1000;
  const info = await r.info('memory');
  const used = Number(/used_memory:(\d+)/.exec(info)?.[1]);
  const sample = [0, 1, totalMb - 2, totalMb - 1];
  for (let k = 0; k < 60; k++) sample.push(Math.floor(Math.random() * totalMb));
  let intact = 0;
  for (const i of sample) if ((await r.getBuffer(`big:${i}`))?.equals(valueOf(i))) intact++;
  console.log(JSON.stringify({
    keys: await r.dbsize(), loadedMB: totalMb, loadSeconds: Number(loadSec.toFixed(1)),
    usedMemoryGiB: Number((used / 2 ** 30).toFixed(3)), sampled: sample.length, intact,
  }));
  if (intact !== sample.length) process.exitCode = 1;
} finally {
  r.disconnect();
  await server.stop();
}
