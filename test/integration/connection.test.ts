import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useSabre, redisClient } from '../helpers/suites.ts';
import { encodeCommand, rawCommand, splitReplies, startSabre, type ServerHandle } from '../helpers/servers.ts';

// Connection commands end to end over a 4-shard server: HELLO/AUTH/RESET,
// the CLIENT container (LIST/INFO/KILL/REPLY/...), SELECT and QUIT.

function raw(port: number, cmds: string[][], replies: number): Promise<Buffer> {
  return rawCommand(port, Buffer.concat(cmds.map((c) => encodeCommand(c))), { replies });
}

/** CLIENT LIST / INFO line as a field map. */
function fields(line: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of line.trim().split(' ')) {
    const i = part.indexOf('=');
    m.set(part.slice(0, i), part.slice(i + 1));
  }
  return m;
}

function closed(r: Redis): Promise<void> {
  return new Promise((resolve) => {
    if (r.status === 'end') resolve();
    else r.once('end', () => resolve());
  });
}

describe('connection commands', () => {
  let server: ServerHandle;
  let r: Redis;
  useSabre((srv, c) => { server = srv; r = c; });


  it('PING, ECHO and SELECT isolate databases across shards', async () => {
    expect(await r.ping()).toBe('PONG');
    expect(await r.ping('hello')).toBe('hello');
    expect(await r.echo('bin\x00ary')).toBe('bin\x00ary');
    await r.set('{t}a', 'db0');
    await r.set('b', 'db0');
    expect(await r.select(3)).toBe('OK');
    expect(await r.get('{t}a')).toBeNull();
    await r.set('{t}a', 'db3');
    expect(await r.get('{t}a')).toBe('db3');
    expect(await r.select(0)).toBe('OK');
    expect(await r.get('{t}a')).toBe('db0');
    expect(await r.get('b')).toBe('db0');
    await expect(r.select(16)).rejects.toThrow('ERR DB index is out of range');
    await expect(r.call('SELECT', 'x')).rejects.toThrow('ERR value is not an integer or out of range');
  });

  it('HELLO 3 switches the connection to RESP3 and HELLO 2 back', async () => {
    const out = await raw(server.port, [
      ['GET', 'nokey'], ['HELLO', '3'], ['GET', 'nokey'], ['CLIENT', 'GETNAME'], ['HELLO', '2'], ['GET', 'nokey'],
    ], 6);
    const { replies } = splitReplies(out);
    expect(replies.map((b) => b.toString('latin1'))).toEqual([
      '$-1\r\n',
      expect.stringMatching(/^%7\r\n\$6\r\nserver\r\n\$5\r\nredis\r\n\$7\r\nversion\r\n\$6\r\n7\.0\.15\r\n\$5\r\nproto\r\n:3\r\n\$2\r\nid\r\n:\d+\r\n\$4\r\nmode\r\n\$10\r\nstandalone\r\n\$4\r\nrole\r\n\$6\r\nmaster\r\n\$7\r\nmodules\r\n\*0\r\n$/),
      '_\r\n',
      '_\r\n',
      expect.stringMatching(/^\*14\r\n/),
      '$-1\r\n',
    ]);
  });

  it('HELLO reports the connection id and validates its options', async () => {
    const id = await r.call('CLIENT', 'ID');
    const hello = await r.call('HELLO', '2') as unknown[];
    expect(hello).toEqual(['server', 'redis', 'version', '7.0.15', 'proto', 2, 'id', id, 'mode', 'standalone', 'role', 'master',
      'modules', []]);
    await expect(r.call('HELLO', '4')).rejects.toThrow('NOPROTO unsupported protocol version');
    await expect(r.call('HELLO', 'x')).rejects.toThrow('ERR Protocol version is not an integer or out of range');
    await expect(r.call('HELLO', '2', 'SETNAME')).rejects.toThrow("ERR Syntax error in HELLO option 'SETNAME'");
    await r.call('HELLO', '2', 'SETNAME', 'via-hello');
    expect(await r.call('CLIENT', 'GETNAME')).toBe('via-hello');
    await r.call('CLIENT', 'SETNAME', '');
    expect(await r.call('CLIENT', 'GETNAME')).toBeNull();
  });

  it('AUTH without requirepass', async () => {
    await expect(r.call('AUTH', 'pw')).rejects.toThrow(
      'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?');
    expect(await r.call('AUTH', 'default', 'anything')).toBe('OK');
    await expect(r.call('AUTH', 'alice', 'pw')).rejects.toThrow('WRONGPASS invalid username-password pair or user is disabled.');
    await expect(r.call('AUTH', 'a', 'b', 'c')).rejects.toThrow('ERR syntax error');
  });

  it('CLIENT SETNAME / GETNAME / ID / INFO', async () => {
    const c = redisClient(server.port);
    await c.connect();
    try {
      const id = await c.call('CLIENT', 'ID') as number;
      expect(id).toBeGreaterThan(0);
      expect(await c.call('CLIENT', 'SETNAME', 'worker-1')).toBe('OK');
      expect(await c.call('CLIENT', 'GETNAME')).toBe('worker-1');
      await expect(c.call('CLIENT', 'SETNAME', 'has space')).rejects.toThrow(
        'ERR Client names cannot contain spaces, newlines or special characters.');
      await c.select(2);
      await c.call('CLIENT', 'SETINFO', 'LIB-NAME', 'mylib');
      await c.call('CLIENT', 'SETINFO', 'lib-ver', '1.2.3');
      await expect(c.call('CLIENT', 'SETINFO', 'lib-foo', 'x')).rejects.toThrow("ERR Unrecognized option 'lib-foo'");
      const info = fields(await c.call('CLIENT', 'INFO') as string);
      expect(info.get('id')).toBe(String(id));
      expect(info.get('name')).toBe('worker-1');
      expect(info.get('db')).toBe('2');
      expect(info.get('cmd')).toBe('client|info');
      expect(info.get('lib-name')).toBe('mylib');
      expect(info.get('lib-ver')).toBe('1.2.3');
      expect(info.get('resp')).toBe('2');
      expect(info.get('flags')).toBe('N');
    } finally {
      c.disconnect();
    }
  });

  it('CLIENT LIST has Redis 7 fields in order and filters by TYPE and ID', async () => {
    const c = redisClient(server.port);
    await c.connect();
    try {
      const otherId = await c.call('CLIENT', 'ID') as number;
      const myId = await r.call('CLIENT', 'ID') as number;
      const list = await r.call('CLIENT', 'LIST') as string;
      const lines = list.split('\n').filter((l) => l !== '');
      expect(list.endsWith('\n')).toBe(true);
      const ids = lines.map((l) => Number(fields(l).get('id')));
      expect(ids).toContain(otherId);
      expect(ids).toContain(myId);
      const keys = [...fields(lines[0]).keys()];
      expect(keys).toEqual(['id', 'addr', 'laddr', 'fd', 'name', 'age', 'idle', 'flags', 'db', 'sub', 'psub', 'ssub', 'multi',
        'qbuf', 'qbuf-free', 'argv-mem', 'multi-mem', 'rbs', 'rbp', 'obl', 'oll', 'omem', 'tot-mem', 'events', 'cmd', 'user',
        'redir', 'resp', 'lib-name', 'lib-ver']);
      const mine = lines.map(fields).find((f) => Number(f.get('id')) === myId);
      expect(mine?.get('cmd')).toBe('client|list');
      expect(mine?.get('laddr')).toBe(`127.0.0.1:${server.port}`);
      // ioredis announces itself with CLIENT SETINFO.
      expect(mine?.get('lib-name')).toBe('ioredis');

      const byId = await r.call('CLIENT', 'LIST', 'ID', String(otherId), '999999') as string;
      expect(byId.split('\n').filter((l) => l !== '').map((l) => Number(fields(l).get('id')))).toEqual([otherId]);
      const normal = await r.call('CLIENT', 'LIST', 'TYPE', 'normal') as string;
      expect(normal.split('\n').filter((l) => l !== '').length).toBe(lines.length);
      expect(await r.call('CLIENT', 'LIST', 'TYPE', 'pubsub')).toBe('');
      await expect(r.call('CLIENT', 'LIST', 'TYPE', 'foo')).rejects.toThrow("ERR Unknown client type 'foo'");
      await expect(r.call('CLIENT', 'LIST', 'ID', 'x')).rejects.toThrow('ERR Invalid client ID');
      await expect(r.call('CLIENT', 'LIST', 'x')).rejects.toThrow('ERR syntax error');
    } finally {
      c.disconnect();
    }
  });

  it('CLIENT KILL ID closes the target connection', async () => {
    const victim = redisClient(server.port);
    await victim.connect();
    const gone = closed(victim);
    const id = await victim.call('CLIENT', 'ID') as number;
    expect(await r.call('CLIENT', 'KILL', 'ID', String(id))).toBe(1);
    await gone;
    const list = await r.call('CLIENT', 'LIST') as string;
    expect(list).not.toContain(`id=${id} `);
    expect(await r.call('CLIENT', 'KILL', 'ID', String(id))).toBe(0);
  });

  it('CLIENT KILL by address (old form), LADDR and USER filters', async () => {
    const victim = redisClient(server.port);
    await victim.connect();
    const gone = closed(victim);
    const info = fields(await victim.call('CLIENT', 'INFO') as string);
    const addr = info.get('addr') as string;
    expect(await r.call('CLIENT', 'KILL', addr)).toBe('OK');
    await gone;
    await expect(r.call('CLIENT', 'KILL', addr)).rejects.toThrow('ERR No such client');

    const v2 = redisClient(server.port);
    await v2.connect();
    const gone2 = closed(v2);
    await v2.call('CLIENT', 'SETNAME', 'v2');
    // SKIPME defaults to yes: the caller survives, the other connection does not.
    const n = await r.call('CLIENT', 'KILL', 'LADDR', `127.0.0.1:${server.port}`, 'USER', 'default') as number;
    expect(n).toBeGreaterThanOrEqual(1);
    await gone2;
    expect(await r.ping()).toBe('PONG');
    await expect(r.call('CLIENT', 'KILL', 'USER', 'nobody')).rejects.toThrow("ERR No such user 'nobody'");
    await expect(r.call('CLIENT', 'KILL', 'ID', '0')).rejects.toThrow('ERR client-id should be greater than 0');
    await expect(r.call('CLIENT', 'KILL', 'SKIPME', 'maybe')).rejects.toThrow('ERR syntax error');
  });

  it('CLIENT KILL SKIPME no closes the caller after its reply', async () => {
    const self = redisClient(server.port);
    await self.connect();
    const gone = closed(self);
    const id = await self.call('CLIENT', 'ID') as number;
    expect(await self.call('CLIENT', 'KILL', 'ID', String(id), 'SKIPME', 'no')).toBe(1);
    await gone;
  });

  it('CLIENT REPLY OFF / SKIP / ON', async () => {
    const out = await raw(server.port, [
      ['CLIENT', 'REPLY', 'OFF'], ['SET', 'k', 'v1'], ['PING', 'hidden'], ['CLIENT', 'REPLY', 'ON'],
      ['GET', 'k'], ['CLIENT', 'REPLY', 'SKIP'], ['PING', 'skipped'], ['PING', 'shown'],
    ], 3);
    expect(out.toString('latin1')).toBe('+OK\r\n$2\r\nv1\r\n$5\r\nshown\r\n');
    await expect(r.call('CLIENT', 'REPLY', 'maybe')).rejects.toThrow('ERR syntax error');
  });

  it('CLIENT NO-EVICT / NO-TOUCH set the client flags', async () => {
    const c = redisClient(server.port);
    await c.connect();
    try {
      expect(await c.call('CLIENT', 'NO-EVICT', 'on')).toBe('OK');
      expect(await c.call('CLIENT', 'NO-TOUCH', 'ON')).toBe('OK');
      expect(fields(await c.call('CLIENT', 'INFO') as string).get('flags')).toBe('eT');
      await c.call('CLIENT', 'NO-TOUCH', 'off');
      expect(fields(await c.call('CLIENT', 'INFO') as string).get('flags')).toBe('e');
      await expect(c.call('CLIENT', 'NO-EVICT', 'maybe')).rejects.toThrow('ERR syntax error');
      await c.call('RESET');
      expect(fields(await c.call('CLIENT', 'INFO') as string).get('flags')).toBe('N');
    } finally {
      c.disconnect();
    }
  });

  it('RESET restores db, protocol, name and reply mode', async () => {
    const out = await raw(server.port, [
      ['HELLO', '3'], ['SELECT', '5'], ['CLIENT', 'SETNAME', 'x'], ['CLIENT', 'REPLY', 'OFF'], ['RESET'],
      ['CLIENT', 'GETNAME'], ['GET', 'nokey'], ['CLIENT', 'INFO'],
    ], 5);
    const { replies } = splitReplies(out);
    expect(replies[1].toString('latin1')).toBe('+OK\r\n');
    expect(replies[2].toString('latin1')).toBe('+OK\r\n');
    expect(replies[3].toString('latin1')).toBe('+RESET\r\n');
    // GETNAME and GET answer RESP2 nulls again; the info line says db=0 resp=2.
    expect(replies[4].toString('latin1')).toBe('$-1\r\n');
    const rest = await raw(server.port, [['SELECT', '5'], ['RESET'], ['CLIENT', 'INFO']], 3);
    const info = splitReplies(rest).replies[2].toString('latin1');
    expect(info).toContain(' db=0 ');
    expect(info).toContain(' resp=2 ');
  });

  it('QUIT replies OK and closes', async () => {
    const out = await rawCommand(server.port, Buffer.concat([encodeCommand(['QUIT']), encodeCommand(['PING'])]), { timeoutMs: 3000 });
    expect(out.toString('latin1')).toBe('+OK\r\n');
  });

  it('unknown CLIENT subcommands and wrong arities', async () => {
    await expect(r.call('CLIENT', 'FOO')).rejects.toThrow("ERR unknown subcommand 'FOO'. Try CLIENT HELP.");
    await expect(r.call('CLIENT', 'ID', 'x')).rejects.toThrow("ERR wrong number of arguments for 'client|id' command");
    await expect(r.call('CLIENT')).rejects.toThrow("ERR wrong number of arguments for 'client' command");
    const help = await r.call('CLIENT', 'HELP') as string[];
    expect(help[0]).toBe('CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:');
    expect(help).toContain('SETINFO <option> <value>');
    expect(help.at(-1)).toBe('    Prints this help.');
  });
});

describe('authentication with requirepass', () => {
  let server: ServerHandle;

  beforeAll(async () => {
    server = await startSabre({ shards: 4, args: ['--requirepass', 's3cret'] });
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('refuses commands before AUTH, accepts the right password only', async () => {
    const c = redisClient(server.port);
    await c.connect();
    try {
      await expect(c.get('k')).rejects.toThrow('NOAUTH Authentication required.');
      await expect(c.ping()).rejects.toThrow('NOAUTH Authentication required.');
      // The subcommand checks come before authentication, like Redis.
      await expect(c.call('CLIENT', 'FOO')).rejects.toThrow("ERR unknown subcommand 'FOO'. Try CLIENT HELP.");
      await expect(c.call('CLIENT', 'ID')).rejects.toThrow('NOAUTH Authentication required.');
      await expect(c.call('HELLO', '3')).rejects.toThrow('NOAUTH HELLO must be called with the client already authenticated');
      await expect(c.call('AUTH', 'wrong')).rejects.toThrow('WRONGPASS invalid username-password pair or user is disabled.');
      await expect(c.call('AUTH', 'other', 's3cret')).rejects.toThrow('WRONGPASS');
      expect(await c.call('AUTH', 's3cret')).toBe('OK');
      expect(await c.set('{u}k', 'v')).toBe('OK');
      expect(await c.get('{u}k')).toBe('v');
      // RESET drops the authentication again.
      expect(await c.call('RESET')).toBe('RESET');
      await expect(c.get('{u}k')).rejects.toThrow('NOAUTH');
      expect(await c.call('AUTH', 'default', 's3cret')).toBe('OK');
      expect(await c.get('{u}k')).toBe('v');
    } finally {
      c.disconnect();
    }
  });

  it('HELLO AUTH authenticates and switches protocol at once', async () => {
    const out = await raw(server.port, [['HELLO', '3', 'AUTH', 'default', 'nope'], ['HELLO', '3', 'AUTH', 'default', 's3cret', 'SETNAME', 'h'],
      ['GET', 'nokey'], ['CLIENT', 'GETNAME']], 4);
    const { replies } = splitReplies(out);
    expect(replies[0].toString('latin1')).toBe('-WRONGPASS invalid username-password pair or user is disabled.\r\n');
    expect(replies[1].toString('latin1')).toMatch(/^%7\r\n/);
    expect(replies[2].toString('latin1')).toBe('_\r\n');
    expect(replies[3].toString('latin1')).toBe('$1\r\nh\r\n');
  });

  it('the unauthenticated limits of the parser are lifted by AUTH', async () => {
    const big = 'x'.repeat(20000);
    const before = await rawCommand(server.port, encodeCommand(['SET', 'big', big]), { replies: 1 });
    expect(before.toString('latin1')).toBe('-ERR Protocol error: unauthenticated bulk length\r\n');
    const after = await raw(server.port, [['AUTH', 's3cret'], ['SET', 'big', big], ['STRLEN', 'big']], 3);
    expect(after.toString('latin1')).toBe('+OK\r\n+OK\r\n:20000\r\n');
  });

  it('CONFIG SET requirepass applies to new connections; clearing it opens every connection', async () => {
    const admin = redisClient(server.port, { password: 's3cret' });
    const waiting = redisClient(server.port);
    await admin.connect();
    await waiting.connect();
    try {
      await expect(waiting.ping()).rejects.toThrow('NOAUTH');
      expect(await admin.call('CONFIG', 'SET', 'requirepass', 'n3w')).toBe('OK');
      const fresh = await raw(server.port, [['AUTH', 's3cret'], ['AUTH', 'n3w'], ['PING']], 3);
      expect(fresh.toString('latin1')).toBe('-WRONGPASS invalid username-password pair or user is disabled.\r\n+OK\r\n+PONG\r\n');
      expect(await admin.ping()).toBe('PONG');
      expect(await admin.call('CONFIG', 'SET', 'requirepass', '')).toBe('OK');
      expect(await waiting.ping()).toBe('PONG');
      const open = await raw(server.port, [['PING']], 1);
      expect(open.toString('latin1')).toBe('+PONG\r\n');
      expect(await admin.call('CONFIG', 'SET', 'requirepass', 's3cret')).toBe('OK');
    } finally {
      admin.disconnect();
      waiting.disconnect();
    }
  });
});
