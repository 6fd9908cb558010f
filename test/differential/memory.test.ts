import { expect, it } from 'vitest';
import { describeDifferential, encodeCommand, type Step } from '../helpers/differential.ts';

// maxmemory with noeviction against redis-server 7.0: which commands are
// refused, the error bytes, pipelines, and how INFO counts the refusals; and
// the names and order of INFO memory's fields. (Used memory differs between
// the two servers, so the limit here is 1 byte: over it from the start.)

function fieldNames(info: Buffer): string[] {
  return info.toString('latin1').split('\r\n').filter((l) => l.includes(':')).map((l) => l.slice(0, l.indexOf(':')));
}

function lines(info: Buffer, prefix: string): string[] {
  return info.toString('latin1').split('\r\n').filter((l) => l.startsWith(prefix));
}

const pipelined = (...cmds: string[][]): Step => ({ send: Buffer.concat(cmds.map((c) => encodeCommand(c))), replies: cmds.length });

describeDifferential('maxmemory (noeviction)', (ctx) => {
  it('INFO memory has the fields of Redis 7.0.15, in its order', async () => {
    const [sabre] = await ctx.run('sabre', [['INFO', 'memory']]);
    const [redis] = await ctx.run('redis', [['INFO', 'memory']]);
    expect(fieldNames(sabre)).toEqual(fieldNames(redis));
    expect(fieldNames(redis)).toContain('used_memory_dataset_perc');
  });

  it('maxmemory 1: denyoom commands are refused at once, the rest works, 0 lifts it', async () => {
    await ctx.expectSame([
      ['SET', 'a', 'old'], ['SET', 'b', 'old'], ['SET', 'n', '10'],
      ['CONFIG', 'SET', 'maxmemory', '1'],
      ['SET', 'a', 'b'], ['SET', 'new', 'v'], ['GET', 'a'], ['INCR', 'n'], ['APPEND', 'a', 'x'], ['SETNX', 'x', '1'],
      ['SETEX', 'x', '10', 'v'], ['SETRANGE', 'a', '0', 'x'], ['SETBIT', 'bits', '1', '1'], ['BITFIELD', 'bits', 'GET', 'u8', '0'],
      ['MSET', 'a', '1', 'b', '2', 'c', '3'], ['MSETNX', 'x', '1', 'y', '2'], ['COPY', 'a', 'z'], ['GETSET', 'a', 'v'],
      ['BITOP', 'AND', 'dest', 'a', 'b'], ['INCRBYFLOAT', 'n', '1.5'], ['DECR', 'n'],
      // Not denyoom: reads, deletes, TTLs, renames.
      ['MGET', 'a', 'b', 'new'], ['STRLEN', 'a'], ['EXPIRE', 'a', '100'], ['PERSIST', 'a'], ['RENAME', 'b', 'b2'],
      ['GETDEL', 'n'], ['DEL', 'a'], ['EXISTS', 'a', 'b', 'b2', 'n'], ['GETEX', 'b2', 'PX', '100000'],
      // A pipeline: every command is checked on its own, in order.
      pipelined(['SET', 'p', '1'], ['GET', 'b2'], ['CONFIG', 'SET', 'maxmemory', '0'], ['SET', 'p', '2'], ['GET', 'p']),
      ['SET', 'after', 'v'], ['GET', 'after'],
    ]);
  });

  it('refusals count as rejected calls and OOM errors, as in Redis', async () => {
    const steps: Step[] = [
      ['CONFIG', 'RESETSTAT'], ['CONFIG', 'SET', 'maxmemory', '1'],
      ['SET', 'a', 'b'], ['INCR', 'n'], ['MSET', 'a', '1', 'b', '2', 'c', '3', 'd', '4'], ['MSETNX', 'a', '1', 'b', '2'],
      ['GET', 'a'], ['CONFIG', 'SET', 'maxmemory', '0'],
      ['INFO', 'commandstats'], ['INFO', 'errorstats'], ['INFO', 'stats'],
    ];
    const sabre = await ctx.run('sabre', steps);
    const redis = await ctx.run('redis', steps);
    const [cs, es, st] = [steps.length - 3, steps.length - 2, steps.length - 1];
    for (const cmd of ['set', 'incr', 'mset', 'msetnx']) {
      expect(lines(sabre[cs], `cmdstat_${cmd}:`)).toEqual(lines(redis[cs], `cmdstat_${cmd}:`));
    }
    expect(lines(redis[cs], 'cmdstat_set:')).toEqual(['cmdstat_set:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0']);
    expect(lines(sabre[es], 'errorstat_')).toEqual(lines(redis[es], 'errorstat_'));
    expect(lines(sabre[st], 'total_error_replies:')).toEqual(lines(redis[st], 'total_error_replies:'));
  });
});
