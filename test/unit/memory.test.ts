import { MessageChannel, type Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import {
  MAX_ARENA_BYTES, REQ_ARGS, STAT_ARENA_CAPACITY, STAT_ARENA_COMMITTED, STAT_RESERVE_BYTES, STAT_USED_BYTES, STAT_WRITE_BYTES_DONE, statSentOfFront, statSlots,
  statWriteDoneOfFront,
} from '../../native-layout/layout.ts';
import { opcodeOf } from '../../src/commands/registry.ts';
import { createRingBuffer } from '../../src/mailbox/ring.ts';
import { Argv } from '../../src/protocol/argv.ts';
import { ShardLink, WRITE_KEY_ALLOWANCE } from '../../src/router/shard-link.ts';
import {
  allocateArenas, chooseArenaBytes, machineMemory, MIN_ARENA_BYTES, reserveBytesFor,
} from '../../src/router/shard-pool.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe('arena sizing', () => {
  it('takes shard-arena-mb as given, up to what a shard can address', () => {
    expect(chooseArenaBytes(16, 0, 64 * GiB).bytes).toBe(16 * MiB);
    expect(chooseArenaBytes(300, 10 * GiB, 64 * GiB).bytes).toBe(300 * MiB);
    expect(chooseArenaBytes(1_000_000, 0, 64 * GiB).bytes).toBe(Math.floor(MAX_ARENA_BYTES / MiB) * MiB);
  });

  it('from maxmemory: every shard holds all of maxmemory beside its reserve', () => {
    for (const maxmemory of [1, 100 * 1000, 10 * MiB, 100 * MiB, 900 * MiB, 960 * MiB, 1000 * MiB, 3 * GiB, 20 * GiB]) {
      const cap = 64 * GiB; // as if the address ceiling were lifted
      const { bytes } = chooseArenaBytes(0, maxmemory, 8 * GiB, cap);
      expect(bytes % MiB).toBe(0);
      expect(bytes).toBeGreaterThanOrEqual(MIN_ARENA_BYTES);
      expect(bytes - reserveBytesFor(bytes)).toBeGreaterThanOrEqual(maxmemory);
      // ... and not much more (whole MiB, the reserve, the 16 MiB floor).
      expect(bytes).toBeLessThanOrEqual(Math.max(MIN_ARENA_BYTES, maxmemory + 64 * MiB + MiB, Math.ceil((maxmemory * 16) / 15) + MiB));
    }
    expect(chooseArenaBytes(0, 100 * 1024 * 1024, 8 * GiB).bytes).toBe(107 * MiB);
    // Machine memory does not matter once maxmemory is set.
    expect(chooseArenaBytes(0, 100 * MiB, 1 * GiB).bytes).toBe(chooseArenaBytes(0, 100 * MiB, 64 * GiB).bytes);
  });

  it('without maxmemory: the machine memory, capped at the addressable size', () => {
    expect(chooseArenaBytes(0, 0, 512 * MiB, 64 * GiB)).toEqual({ bytes: 512 * MiB, reason: "from the machine's memory (512 MiB)" });
    const capped = chooseArenaBytes(0, 0, 64 * GiB, 2 * GiB);
    expect(capped.bytes).toBe(2 * GiB);
    expect(capped.reason).toContain('capped at the 2048 MiB a shard can address');
    expect(chooseArenaBytes(0, 50 * GiB, 8 * GiB, 4 * GiB).bytes).toBe(4 * GiB);
  });

  it('reads the cgroup limit when it is below the machine memory', () => {
    const files = (map: Record<string, string>) => (p: string): string => {
      const v = map[p];
      if (v === undefined) throw new Error('ENOENT');
      return v;
    };
    const total = machineMemory(files({}));
    expect(total).toBeGreaterThan(0);
    expect(machineMemory(files({ '/sys/fs/cgroup/memory.max': 'max\n' }))).toBe(total);
    expect(machineMemory(files({ '/sys/fs/cgroup/memory.max': `${256 * MiB}\n` }))).toBe(256 * MiB);
    expect(machineMemory(files({ '/sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712\n' }))).toBe(total);
    expect(machineMemory(files({ '/sys/fs/cgroup/memory/memory.limit_in_bytes': `${300 * MiB}` }))).toBe(300 * MiB);
    // A nested v2 group of this process.
    expect(machineMemory(files({
      '/proc/self/cgroup': '0::/app.slice/sabre.service\n',
      '/sys/fs/cgroup/app.slice/sabre.service/memory.max': `${128 * MiB}`,
    }))).toBe(128 * MiB);
  });

  it('halves the arenas until the system gives them, saying so each time', () => {
    const shrinks: Array<[number, number]> = [];
    // 2^46 bytes (64 TiB) per arena is more than any machine here will give.
    const arenas = allocateArenas(2, 2 ** 46, (failed, next) => shrinks.push([failed, next]));
    expect(arenas).toHaveLength(2);
    const size = arenas[0].byteLength;
    expect(arenas[1].byteLength).toBe(size);
    expect(size).toBeLessThan(2 ** 46);
    expect(shrinks.length).toBeGreaterThan(0);
    expect(shrinks[0]).toEqual([2 ** 46, 2 ** 45]);
    expect(shrinks[shrinks.length - 1][1]).toBe(size);
    // Sizes that fit are allocated as asked, without a retry.
    const small: number[] = [];
    expect(allocateArenas(4, 16 * MiB, (f) => small.push(f)).map((a) => a.byteLength)).toEqual(Array(4).fill(16 * MiB));
    expect(small).toEqual([]);
  });

  it('the default sizes allocate here: 4 shards at the address ceiling', () => {
    const bytes = chooseArenaBytes(0, 0, machineMemory()).bytes;
    const shrinks: number[] = [];
    const arenas = allocateArenas(4, bytes, (f) => shrinks.push(f));
    expect(arenas.every((a) => a.byteLength === bytes)).toBe(true);
    expect(shrinks).toEqual([]);
  });
});

function makeLink(capacity: number): ShardLink {
  const ch = new MessageChannel();
  const stats = new SharedArrayBuffer(statSlots(16) * 8);
  const link = new ShardLink(0, null as unknown as Worker, createRingBuffer(1 << 16), createRingBuffer(1 << 16),
    ch.port1, stats);
  link.arenaBytes = capacity;
  ch.port1.close();
  return link;
}

describe('ShardLink write admission', () => {
  it('counts the bytes of denyoom records only', () => {
    const link = makeLink(16 * MiB);
    const set = Argv.fromStrings(['set', 'k', 'v'.repeat(100)]);
    link.send(opcodeOf('set'), 0, 0, set, null, 0);
    const setBytes = REQ_ARGS + (4 + 3) + (4 + 1) + (4 + 100);
    expect(link.denyoomBytesSent).toBe(setBytes);
    link.send(opcodeOf('get'), 0, 0, Argv.fromStrings(['get', 'k']), null, 0);
    link.send(opcodeOf('del'), 0, 0, Argv.fromStrings(['del', 'k']), null, 0);
    expect(link.denyoomBytesSent).toBe(setBytes);
    expect(link.trySendAll(opcodeOf('append'), 0, 0, Argv.fromStrings(['append', 'k', 'xy']), null, 0)).toBe(true);
    expect(link.denyoomBytesSent).toBe(setBytes + REQ_ARGS + 10 + 5 + 6);
    // A LARGE record (over the side port) counts its whole size, not the stub's.
    const before = link.denyoomBytesSent;
    const big = Argv.fromStrings(['set', 'big', 'x'.repeat(40_000)]);
    link.send(opcodeOf('set'), 0, 0, big, null, 0);
    expect(link.denyoomBytesSent - before).toBe(ShardLink.sizeOf(big));
  });

  it('admits a part only when used + 2 x in flight + 2 x part + allowance fits the arena', () => {
    const cap = 16 * MiB;
    const link = makeLink(cap);
    const s = link.stats;
    expect(link.capacity()).toBe(cap); // before the shard publishes
    s[STAT_ARENA_CAPACITY] = cap;
    s[STAT_USED_BYTES] = cap - 1000;
    // 2 * 404 + 3 * 64 = 1000: just fits
    expect(link.admitsWrite(404, 3)).toBe(true);
    expect(link.admitsWrite(405, 3)).toBe(false);
    expect(link.admitsWrite(404, 4)).toBe(false);
    expect(WRITE_KEY_ALLOWANCE).toBe(64);
    // Records sent and not reported done count twice their size.
    link.send(opcodeOf('set'), 0, 0, Argv.fromStrings(['set', 'k', 'v']), null, 0);
    const sent = link.denyoomBytesSent;
    expect(link.writeBytesInFlight()).toBe(sent);
    expect(link.admitsWrite(404 - sent, 3)).toBe(true);
    expect(link.admitsWrite(405 - sent, 3)).toBe(false);
    // Once the shard reports them run (its used figure includes them), they stop counting.
    s[STAT_WRITE_BYTES_DONE] = sent;
    expect(link.writeBytesInFlight()).toBe(0);
    expect(link.admitsWrite(404, 3)).toBe(true);
    // A large value needs a run of slabs: only the arena above the high-water mark surely has one.
    s[STAT_USED_BYTES] = 2 * MiB;
    s[STAT_ARENA_COMMITTED] = cap - 3 * MiB;
    expect(link.admitsWrite(MiB + 100, 1, MiB)).toBe(true); // 2 x 1 MiB <= 3 MiB
    expect(link.admitsWrite(2 * MiB, 1, 2 * MiB)).toBe(false); // fits beside used, not above the high-water mark
    expect(link.admitsWrite(2 * MiB, 1000, 0)).toBe(true); // small values: the used figure decides
    expect(link.reserve()).toBe(0);
    s[STAT_RESERVE_BYTES] = MiB;
    expect(link.reserve()).toBe(MiB);
  });
});

describe('ShardLink write admission with several front threads', () => {
  it('counts what every front has in flight to the shard, each against its own done figure', () => {
    const fronts = 2;
    const stats = new SharedArrayBuffer(statSlots(16, fronts) * 8);
    const link = (front: number): ShardLink => {
      const ch = new MessageChannel();
      const others: number[] = [];
      for (let g = 0; g < fronts; g++) if (g !== front) others.push(statSentOfFront(16, fronts, g), statWriteDoneOfFront(16, g));
      const l = new ShardLink(0, null, createRingBuffer(1 << 16), createRingBuffer(1 << 16), ch.port1, stats,
        undefined, statWriteDoneOfFront(16, front), null, { sent: statSentOfFront(16, fronts, front), others });
      ch.port1.close();
      return l;
    };
    const a = link(0);
    const b = link(1);
    a.send(opcodeOf('set'), 0, 0, Argv.fromStrings(['set', 'k', 'v'.repeat(100)]), null, 0);
    const sentA = a.denyoomBytesSent;
    expect(a.writeBytesInFlight()).toBe(sentA);
    // Front 1 sent nothing, yet front 0's record is in flight to the same shard.
    expect(b.writeBytesInFlight()).toBe(sentA);
    b.send(opcodeOf('set'), 0, 0, Argv.fromStrings(['set', 'j', 'w'.repeat(50)]), null, 0);
    const sentB = b.denyoomBytesSent;
    expect(a.writeBytesInFlight()).toBe(sentA + sentB);
    // The shard reports front 0's records run: only front 1's still count, from either front.
    a.stats[statWriteDoneOfFront(16, 0)] = sentA;
    expect(a.writeBytesInFlight()).toBe(sentB);
    expect(b.writeBytesInFlight()).toBe(sentB);
  });
});
