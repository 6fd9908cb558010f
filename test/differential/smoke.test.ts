import { it } from 'vitest';
import { describeDifferential } from '../helpers/differential.ts';

describeDifferential('differential smoke', (ctx) => {
  it('PING and ECHO', async () => {
    await ctx.expectSame([
      ['PING'],
      ['ping'],
      ['PING', 'hello'],
      ['ECHO', 'hi'],
      ['ECHO', ''],
      ['echo', 'bin\x00ary\r\nwith crlf'],
    ]);
  });

  it('SET and GET', async () => {
    await ctx.expectSame([
      ['GET', 'k'],
      ['SET', 'k', 'v'],
      ['GET', 'k'],
      ['SET', 'k', 'v2', 'NX'],
      ['SET', 'k', 'v3', 'XX', 'GET'],
      ['GET', 'k'],
      ['set', 'empty', ''],
      ['get', 'empty'],
      ['SET', 'big', 'x'.repeat(10_000)],
      ['GET', 'big'],
    ]);
  });

  it('unknown command', async () => {
    await ctx.expectSame([
      ['NOSUCHCMD'],
      ['nosuchcmd', 'a', 'b'],
      ['PING'],
    ]);
  });

  it('wrong arity', async () => {
    await ctx.expectSame([
      ['GET'],
      ['SET', 'k'],
      ['ECHO'],
      ['ECHO', 'a', 'b'],
      ['PING', 'a', 'b'],
      ['get', 'a', 'b'],
      ['PING'],
    ]);
  });

  it('inline commands', async () => {
    await ctx.expectSame([Buffer.from('PING\r\n'), Buffer.from('SET ik iv\r\n'), Buffer.from('GET ik\n')]);
  });

  it('RESP3 replies', async () => {
    await ctx.expectSame(
      [['PING'], ['GET', 'missing'], ['SET', 'k', 'v'], ['GET', 'k'], ['NOSUCHCMD']],
      { resp3: true },
    );
  });
});
