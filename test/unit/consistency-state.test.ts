import { expect } from 'chai';
import { SplitKnexError } from '../../lib';
import { ConsistencyState, MAX_TABLE_WINDOWS, tableKey } from '../../lib/consistency/consistency-state';
import { decodeConsistencyToken, encodeConsistencyToken } from '../../lib/consistency/consistency-token';
import { formatLsn, parseLsn } from '../../lib/wal-position';

describe('consistency state', () => {
  it('sticks every read until the window ends', () => {
    const s = new ConsistencyState();
    s.noteWindow(1000 + 2000, undefined);
    expect(s.windowLeft(1000, undefined)).to.equal(2000);
    expect(s.windowLeft(2999, ['anything'])).to.equal(1);
    expect(s.windowLeft(3000, undefined)).to.equal(0);
  });

  it('per table: sticks reads of a written table only, and reads whose tables are unknown', () => {
    const s = new ConsistencyState();
    s.noteWindow(5000, ['public.Orders']);
    expect(s.windowLeft(1000, ['orders'])).to.equal(4000);
    expect(s.windowLeft(1000, ['users'])).to.equal(0);
    expect(s.windowLeft(1000, ['users', 'app.orders'])).to.equal(4000);
    expect(s.windowLeft(1000, [])).to.equal(4000);
    // Not per table (a token into a window-mode instance without perTable): every read.
    expect(s.windowLeft(1000, undefined)).to.equal(4000);
    expect(s.windowLeft(5000, ['orders'])).to.equal(0);
  });

  it('collapses too many table windows into one window for everything (bounded, never laxer)', () => {
    const s = new ConsistencyState();
    for (let i = 0; i <= MAX_TABLE_WINDOWS; i++) s.noteWindow(1000 + i, [`t${i}`]);
    expect(s.windowLeft(0, ['unrelated'])).to.equal(1000 + MAX_TABLE_WINDOWS);
  });

  it('keeps the highest LSN and the time of its write; reset forgets everything', () => {
    const s = new ConsistencyState();
    s.noteLsn(20n, 100);
    s.noteLsn(10n, 200);
    expect(s.lsn).to.equal(20n);
    expect(s.lsnAt).to.equal(200);
    s.noteWindow(500, undefined);
    s.reset();
    expect(s.lsn).to.equal(undefined);
    expect(s.windowLeft(0, undefined)).to.equal(0);
  });

  it('merges the stricter of two states', () => {
    const s = new ConsistencyState();
    s.noteLsn(50n, 10);
    s.merge({ lsn: 40n, lsnAt: 5, until: 900, tables: [['users', 1200]] });
    expect(s.lsn).to.equal(50n);
    expect(s.windowLeft(0, ['users'])).to.equal(1200);
    s.merge({ lsn: 60n, lsnAt: 20, until: 0, tables: [] });
    expect(s.lsn).to.equal(60n);
  });

  it('compares tables by unqualified lower-case name', () => {
    expect(tableKey('public.Users')).to.equal('users');
    expect(tableKey('orders')).to.equal('orders');
  });
});

describe('consistency tokens', () => {
  it('round-trips LSN, write time, window and table windows as a small base64url string', () => {
    const snapshot = { lsn: 0x16B374D848n, lsnAt: 1_700_000_000_000, until: 1_700_000_002_000, tables: [['orders', 1_700_000_001_000] as const] };
    const token = encodeConsistencyToken(snapshot);
    expect(token).to.match(/^[A-Za-z0-9_-]+$/);
    expect(token.length).to.be.below(140);
    expect(decodeConsistencyToken(token)).to.deep.equal({ ...snapshot, tables: [['orders', 1_700_000_001_000]] });
  });

  it('encodes an empty state too (a token is always a string)', () => {
    expect(decodeConsistencyToken(encodeConsistencyToken({ lsn: undefined, lsnAt: 0, until: 0, tables: [] })))
      .to.deep.equal({ lsn: undefined, lsnAt: 0, until: 0, tables: [] });
  });

  const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
  const bad: Array<[string, unknown]> = [
    ['not a string', 42],
    ['empty', ''],
    ['not base64url', 'abc+/='],
    ['too long', 'a'.repeat(5000)],
    ['not JSON', b64('{nope')],
    ['an array', b64([1])],
    ['another version', b64({ v: 2 })],
    ['an unknown field', b64({ v: 1, x: 1 })],
    ['a malformed LSN', b64({ v: 1, l: '0/XYZ', a: 1 })],
    ['an LSN without its time', b64({ v: 1, l: '0/10' })],
    ['a time without an LSN', b64({ v: 1, a: 5 })],
    ['a negative window', b64({ v: 1, u: -5 })],
    ['a fractional window', b64({ v: 1, u: 1.5 })],
    ['a malformed table entry', b64({ v: 1, t: [['users']] })],
    ['a table list that is not a list', b64({ v: 1, t: { users: 1 } })],
  ];
  for (const [what, token] of bad) {
    it(`rejects a token that is ${what} with ESPLIT_TOKEN`, () => {
      try {
        decodeConsistencyToken(token);
      } catch (err) {
        expect(err).to.be.instanceOf(SplitKnexError);
        expect((err as SplitKnexError).code).to.equal('ESPLIT_TOKEN');
        return;
      }
      throw new Error('expected ESPLIT_TOKEN');
    });
  }
});

describe('WAL positions', () => {
  it('parses X/Y hex into a BigInt and formats it back the way PostgreSQL does', () => {
    expect(parseLsn('0/0')).to.equal(0n);
    expect(parseLsn('1/0')).to.equal(1n << 32n);
    expect(parseLsn('16/B374D848')).to.equal(0x16B374D848n);
    expect(parseLsn('16/b374d848')).to.equal(0x16B374D848n);
    expect(formatLsn(0x16B374D848n)).to.equal('16/B374D848');
    expect(formatLsn(parseLsn('FFFFFFFF/FFFFFFFF')!)).to.equal('FFFFFFFF/FFFFFFFF');
  });

  it('compares positions numerically, not as text', () => {
    expect(parseLsn('0/A0000000')! > parseLsn('0/9FFFFFFF')!).to.equal(true);
    expect(parseLsn('1/0')! > parseLsn('0/FFFFFFFF')!).to.equal(true);
    expect('0/A' > '0/10').to.equal(true); // text compare would say A > 10: wrong
    expect(parseLsn('0/A')! > parseLsn('0/10')!).to.equal(false);
  });

  it('returns undefined for NULL and garbage', () => {
    for (const v of [null, undefined, '', '0', '0/', '/0', '123456789/0', 'G/0', 5]) expect(parseLsn(v)).to.equal(undefined);
  });
});
