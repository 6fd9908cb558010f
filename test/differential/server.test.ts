import { expect, it } from 'vitest';
import { describeDifferential, type Step } from '../helpers/differential.ts';

// Connection and server commands, byte for byte against redis-server 7.0:
// replies and error texts of PING/ECHO/SELECT, HELLO, AUTH, RESET, CLIENT,
// CONFIG, COMMAND, TIME/LASTSAVE/INFO arities, DEBUG and SHUTDOWN errors.
// (Replies that carry ids, addresses or timings are not compared.)

const silent = (send: string[]): Step => ({ send, replies: 0 });

describeDifferential('server and connection commands', (ctx) => {
  it('PING, ECHO, SELECT', async () => {
    await ctx.expectSame([
      ['PING'], ['PING', 'x'], ['PING', 'a', 'b'], ['ECHO', 'hi'], ['ECHO'], ['ECHO', 'a', 'b'],
      ['SELECT', 'abc'], ['SELECT', '99'], ['SELECT', '16'], ['SELECT', '-1'], ['SELECT', '1.5'], ['SELECT', '3000000000'],
      ['SELECT', '+1'], ['SELECT', '01'], ['SELECT', ''], ['SELECT', '99999999999999999999'], ['SELECT'],
      ['SELECT', '1'], ['SET', '{t}k', 'in1'], ['SELECT', '0'], ['GET', '{t}k'], ['SELECT', '1'], ['GET', '{t}k'],
    ]);
  });

  it('HELLO errors', async () => {
    await ctx.expectSame([
      ['HELLO', '4'], ['HELLO', '1'], ['HELLO', '-1'], ['HELLO', 'abc'], ['HELLO', '99999999999999999999'], ['HELLO', '3.0'],
      ['HELLO', '2', 'AUTH', 'a'], ['HELLO', '2', 'AUTH', 'a', 'b'], ['HELLO', '2', 'SETNAME', 'x', 'y'],
      ['HELLO', '2', 'SETNAME'], ['HELLO', '2', 'FOO'], ['HELLO', '2', 'SETNAME', 'a b'], ['HELLO', '2', 'auth'],
      ['CLIENT', 'GETNAME'],
    ]);
  });

  it('AUTH without a password configured', async () => {
    await ctx.expectSame([
      ['AUTH'], ['AUTH', 'a'], ['AUTH', 'a', 'b'], ['AUTH', 'default', 'x'], ['AUTH', 'a', 'b', 'c'], ['PING'],
    ]);
  });

  it('AUTH, HELLO and subcommand checks with requirepass', async () => {
    await ctx.run('sabre', [['CONFIG', 'SET', 'requirepass', 'pw']]);
    await ctx.run('redis', [['CONFIG', 'SET', 'requirepass', 'pw']]);
    try {
      await ctx.expectSame([
        ['PING'], ['GET', 'k'], ['CLIENT', 'FOO'], ['CLIENT', 'ID', 'x'], ['CLIENT', 'ID'], ['CONFIG', 'GET', 'hz'],
        ['COMMAND', 'COUNT'], ['HELLO'], ['HELLO', '3'], ['HELLO', '3', 'AUTH', 'default', 'bad'],
        ['AUTH', 'x'], ['AUTH', 'default', 'x'], ['AUTH', 'other', 'pw'], ['PING'],
        ['AUTH', 'pw'], ['PING'], ['RESET'], ['PING'], ['AUTH', 'default', 'pw'], ['ECHO', 'in'],
      ]);
      // Unauthenticated connections get Redis's small request limits.
      await ctx.expectSame([
        ['SET', 'k', 'x'.repeat(20000)],
      ]);
      await ctx.expectSame([
        ['SET', 'k1', 'v', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'],
      ]);
    } finally {
      await ctx.run('sabre', [['AUTH', 'pw'], ['CONFIG', 'SET', 'requirepass', '']]);
      await ctx.run('redis', [['AUTH', 'pw'], ['CONFIG', 'SET', 'requirepass', '']]);
    }
  });

  it('CLIENT subcommands: errors and simple replies', async () => {
    await ctx.expectSame([
      ['CLIENT'], ['CLIENT', 'FOO'], ['client', 'foo', 'bar'], ['CLIENT', 'ID', 'x'], ['CLIENT', 'SETNAME'],
      ['CLIENT', 'SETNAME', 'a', 'b'], ['CLIENT', 'SETNAME', 'a b'], ['CLIENT', 'SETNAME', 'a\nb'], ['CLIENT', 'SETNAME', 'é'],
      ['CLIENT', 'GETNAME'], ['CLIENT', 'SETNAME', 'conn-1'], ['CLIENT', 'GETNAME'], ['CLIENT', 'SETNAME', ''],
      ['CLIENT', 'GETNAME'], ['CLIENT', 'LIST', 'TYPE', 'foo'], ['CLIENT', 'LIST', 'TYPE'], ['CLIENT', 'LIST', 'TYPE', 'pubsub'],
      ['CLIENT', 'LIST', 'TYPE', 'master'], ['CLIENT', 'LIST', 'ID', 'a'], ['CLIENT', 'LIST', 'ID', '99999', '0', '-5'],
      ['CLIENT', 'LIST', 'x'], ['CLIENT', 'LIST', 'TYPE', 'normal', 'x'], ['CLIENT', 'INFO', 'x'],
      ['CLIENT', 'KILL'], ['CLIENT', 'KILL', '1.2.3.4:5'], ['CLIENT', 'KILL', 'ID'], ['CLIENT', 'KILL', 'ID', '0'],
      ['CLIENT', 'KILL', 'ID', 'x'], ['CLIENT', 'KILL', 'ID', '-3'], ['CLIENT', 'KILL', 'ID', '99999'],
      ['CLIENT', 'KILL', 'USER', 'foo'], ['CLIENT', 'KILL', 'FOO', 'bar'], ['CLIENT', 'KILL', 'SKIPME', 'x'],
      ['CLIENT', 'KILL', 'ADDR', '1.2.3.4:5'], ['CLIENT', 'KILL', 'LADDR', '1.2.3.4:5', 'SKIPME', 'no'],
      ['CLIENT', 'KILL', 'TYPE', 'foo'], ['CLIENT', 'KILL', 'TYPE', 'pubsub'], ['CLIENT', 'KILL', 'ADDR', 'x', 'ID'],
      ['CLIENT', 'REPLY', 'foo'], ['CLIENT', 'REPLY'], ['CLIENT', 'NO-EVICT', 'x'], ['CLIENT', 'NO-EVICT', 'on'],
      ['CLIENT', 'NO-EVICT', 'OFF'], ['CLIENT', 'UNBLOCK', '1'], ['CLIENT', 'UNBLOCK', '1', 'x'], ['CLIENT', 'UNBLOCK', 'x'],
      ['CLIENT', 'UNBLOCK', '1', 'TIMEOUT'], ['CLIENT', 'UNBLOCK', '1', 'error'], ['CLIENT', 'UNBLOCK'],
      ['CLIENT', 'GETREDIR'], ['CLIENT', 'TRACKINGINFO'], ['CLIENT', 'CACHING', 'yes'], ['CLIENT', 'CACHING', 'no'],
      ['CLIENT', 'HELP', 'x'], ['CLIENT', 'UNPAUSE'], ['CLIENT', 'GETNAME', 'x'],
    ]);
  });

  it('CLIENT replies in RESP3', async () => {
    await ctx.expectSame([
      ['CLIENT', 'GETNAME'], ['CLIENT', 'TRACKINGINFO'], ['CLIENT', 'GETREDIR'], ['CLIENT', 'SETNAME', 'r3'], ['CLIENT', 'GETNAME'],
      ['CLIENT', 'LIST', 'ID', '99999'], ['CLIENT', 'LIST', 'TYPE', 'pubsub'],
    ], { resp3: true });
  });

  it('CLIENT REPLY OFF / SKIP / ON', async () => {
    await ctx.expectSame([
      silent(['CLIENT', 'REPLY', 'OFF']), silent(['PING']), silent(['SET', 'k', 'v']), silent(['GET', 'nokey']),
      ['CLIENT', 'REPLY', 'ON'], ['GET', 'k'],
      silent(['CLIENT', 'REPLY', 'SKIP']), silent(['PING', 'skipped']), ['PING', 'shown'],
      silent(['CLIENT', 'REPLY', 'SKIP']), ['CLIENT', 'REPLY', 'ON'], ['PING'],
      silent(['CLIENT', 'REPLY', 'OFF']), silent(['CLIENT', 'REPLY', 'SKIP']), silent(['PING']), ['CLIENT', 'REPLY', 'ON'],
      silent(['CLIENT', 'REPLY', 'OFF']), ['RESET'], ['PING'],
      silent(['CLIENT', 'REPLY', 'SKIP']), silent(['NOSUCHCMD']), ['PING'],
    ]);
  });

  it('RESET', async () => {
    await ctx.expectSame([
      ['SELECT', '3'], ['SET', 'k', 'db3'], ['CLIENT', 'SETNAME', 'before'], ['CLIENT', 'NO-EVICT', 'on'], ['RESET'],
      ['CLIENT', 'GETNAME'], ['GET', 'k'], ['RESET', 'x'], ['SELECT', '3'], ['GET', 'k'],
    ]);
    await ctx.expectSame([['RESET'], ['GET', 'nokey'], ['CLIENT', 'GETNAME']], { resp3: true });
  });

  it('QUIT', async () => {
    await ctx.expectSame([['PING'], ['QUIT'], ['PING']]);
    await ctx.expectSame([['QUIT', 'extra', 'args']]);
  });

  it('CONFIG errors and replies', async () => {
    await ctx.expectSame([
      ['CONFIG'], ['CONFIG', 'FOO'], ['CONFIG', 'GET'], ['CONFIG', 'GET', 'maxclients'], ['CONFIG', 'GET', 'MAXCLIENTS'],
      ['CONFIG', 'GET', 'nosuch'], ['CONFIG', 'GET', 'nosuch*'], ['CONFIG', 'GET', 'maxmemory-policy'],
      ['CONFIG', 'SET', 'port'], ['CONFIG', 'SET', 'nosuch', '1'], ['CONFIG', 'SET', 'hz', 'abc'],
      ['CONFIG', 'SET', 'hz', '10', 'hz', '11'], ['CONFIG', 'SET', 'maxclients', '10', 'hz'],
      ['CONFIG', 'SET', 'databases', '4'], ['CONFIG', 'SET', 'maxmemory-policy', 'nosuch'],
      ['CONFIG', 'SET', 'hz', '10'], ['CONFIG', 'GET', 'hz'],
      // (Any other maxmemory-policy is refused until eviction exists: test/integration/memory.test.ts.)
      ['CONFIG', 'SET', 'maxmemory-policy', 'noeviction'], ['CONFIG', 'GET', 'maxmemory-policy'],
      ['CONFIG', 'SET', 'slowlog-max-len', '64', 'hz', '12'],
      ['CONFIG', 'GET', 'slowlog-max-len'], ['CONFIG', 'SET', 'slowlog-max-len', '128', 'hz', '10'],
      ['CONFIG', 'RESETSTAT'], ['CONFIG', 'RESETSTAT', 'x'], ['CONFIG', 'REWRITE'], ['CONFIG', 'HELP'], ['CONFIG', 'HELP', 'x'],
    ]);
    await ctx.expectSame([['CONFIG', 'GET', 'maxclients'], ['CONFIG', 'GET', 'nosuch']], { resp3: true });
  });

  it('COMMAND subcommands', async () => {
    await ctx.expectSame([
      ['COMMAND', 'FOO'], ['COMMAND', 'COUNT', 'x'], ['COMMAND', 'GETKEYS'], ['COMMAND', 'GETKEYS', 'get'],
      ['COMMAND', 'GETKEYS', 'get', 'a'], ['COMMAND', 'GETKEYS', 'GET', 'a'], ['COMMAND', 'GETKEYS', 'nosuch', 'a'],
      ['COMMAND', 'GETKEYS', 'ping', 'x'], ['COMMAND', 'GETKEYS', 'get', 'a', 'b'], ['COMMAND', 'GETKEYS', 'mset', 'a', 'b', 'c', 'd'],
      ['COMMAND', 'GETKEYS', 'del', 'a', '{t}b', 'c'], ['COMMAND', 'GETKEYS', 'client', 'id'],
      ['COMMAND', 'GETKEYSANDFLAGS', 'set', 'a', 'b'], ['COMMAND', 'GETKEYSANDFLAGS', 'set', 'a', 'b', 'GET'],
      ['COMMAND', 'GETKEYSANDFLAGS', 'get', 'a'], ['COMMAND', 'GETKEYSANDFLAGS', 'mset', 'a', 'b', 'c', 'd'],
      ['COMMAND', 'GETKEYSANDFLAGS', 'del', 'a', 'b'], ['COMMAND', 'GETKEYSANDFLAGS', 'rename', 'a', 'b'],
      ['COMMAND', 'INFO', 'nosuch'], ['COMMAND', 'INFO', 'get|x'], ['COMMAND', 'INFO', 'client|nosuch'],
      ['COMMAND', 'INFO', 'get', 'set', 'ping', 'echo', 'select', 'quit', 'hello', 'auth', 'reset', 'time', 'lastsave', 'info',
        'shutdown', 'debug', 'mget', 'mset', 'incr', 'append', 'rename', 'bitop', 'expire', 'type'],
      ['COMMAND', 'INFO', 'client|id', 'CLIENT|LIST', 'client|kill', 'client|reply', 'config|get', 'config|set',
        'config|help', 'command|info', 'command|getkeys'],
      ['COMMAND', 'DOCS', 'nosuch'], ['COMMAND', 'LIST', 'FILTERBY'], ['COMMAND', 'LIST', 'FILTERBY', 'foo', 'x'],
      ['COMMAND', 'LIST', 'FILTERBY', 'module', 'x'], ['COMMAND', 'LIST', 'FILTERBY', 'aclcat', 'nosuch'],
      ['COMMAND', 'LIST', 'FILTERBY', 'pattern', 'nosuch*'], ['COMMAND', 'LIST', 'x'], ['COMMAND', 'HELP'],
    ]);
    await ctx.expectSame([['COMMAND', 'INFO', 'get', 'ping', 'client|id', 'nosuch']], { resp3: true });
  });

  it('COMMAND COUNT matches COMMAND and COMMAND LIST', async () => {
    const [count, all] = await ctx.run('sabre', [['COMMAND', 'COUNT'], ['COMMAND']]);
    const n = Number(count.toString('latin1').slice(1, -2));
    expect(n).toBeGreaterThan(20);
    expect(all.toString('latin1').startsWith(`*${n}\r\n`)).toBe(true);
  });

  it('server command arities and errors', async () => {
    await ctx.expectSame([
      ['TIME', 'x'], ['LASTSAVE', 'x'], ['INFO', 'nosuchsection'], ['INFO', 'x', 'y'],
      ['DEBUG'], ['DEBUG', 'FOO'], ['DEBUG', 'SLEEP'], ['DEBUG', 'sleep', '0', 'x'], ['DEBUG', 'SLEEP', '0'],
      ['DEBUG', 'SLEEP', 'x'], ['DEBUG', 'SLEEP', '-1'], ['DEBUG', 'SLEEP', '0.05'],
      ['DEBUG', 'ERROR', 'MYERR custom text'], ['DEBUG', 'ERROR', 'line\r\nbreak'], ['DEBUG', 'LOG', 'differential test'],
      ['SHUTDOWN', 'ABORT'], ['SHUTDOWN', 'FOO'], ['SHUTDOWN', 'NOSAVE', 'SAVE'], ['SHUTDOWN', 'ABORT', 'NOW'],
      ['SHUTDOWN', 'ABORT', 'NOSAVE'], ['SHUTDOWN', 'abort', 'force'], ['PING'],
    ]);
    await ctx.expectSame([['INFO', 'nosuchsection']], { resp3: true });
  });

  it('DEBUG PROTOCOL in RESP2 and RESP3', async () => {
    const steps: Step[] = ['string', 'integer', 'double', 'bignum', 'null', 'array', 'set', 'map', 'attrib', 'push', 'true',
      'false', 'verbatim', 'nosuch'].map((t) => ['DEBUG', 'PROTOCOL', t]);
    await ctx.expectSame(steps);
    await ctx.expectSame(steps.map((s) => (Array.isArray(s) && s[2] === 'push' ? { send: s, replies: 2 } : s)), { resp3: true });
  });
});
