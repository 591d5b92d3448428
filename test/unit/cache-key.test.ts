import { expect } from 'chai';
import { cacheKey, connectionIdentity, serializeValue, UnkeyableValue } from '../../lib/cache/cache-key';
import { copyResult } from '../../lib/cache/copy-result';
import { parseInvalidation, payloadHalves } from '../../lib/cache/invalidation-message';
import { formatHexLsn, parseHexLsn } from '../../lib/cache/lsn';
import { parseWalPosition as parseLsn } from '../../lib/wal-position';

describe('cache keys', () => {
  const base = { identity: 'app@db', searchPath: '', route: 'replicas', scope: '', context: '', text: 'select ?', bindings: [1] as unknown[] };

  it('differ by every part that changes the answer', () => {
    const k = cacheKey(base);
    for (const change of [
      { identity: 'other@db' }, { searchPath: 'app,public' }, { route: 'node:replica1' }, { scope: 'tenant-2' },
      { context: '{"a":n1}' }, { text: 'select ? ' }, { bindings: ['1'] }, { bindings: [1, 2] },
    ]) {
      expect(cacheKey({ ...base, ...change }), JSON.stringify(change)).to.not.equal(k);
    }
    expect(cacheKey({ ...base })).to.equal(k);
  });

  it('cannot be confused by separators inside parts', () => {
    expect(cacheKey({ ...base, scope: 'a","b' })).to.not.equal(cacheKey({ ...base, scope: 'a', context: 'b' }));
  });

  it('names binding values with their types', () => {
    expect(serializeValue([1, '1', true, null, undefined, 10n], 0)).to.equal('[n1,"1",t,z,u,b10]');
    expect(serializeValue(new Date(5), 0)).to.not.equal(serializeValue(new Date(5).toISOString(), 0));
    expect(serializeValue(Buffer.from('ab'), 0)).to.equal('x6162');
    expect(serializeValue({ a: [1] }, 0)).to.equal('{"a":[n1]}');
    expect(() => serializeValue(() => 1, 0)).to.throw(UnkeyableValue);
    expect(() => serializeValue(new (class Money {})(), 0)).to.throw(UnkeyableValue);
    expect(serializeValue({ toPostgres: () => 'x' }, 0)).to.not.equal(serializeValue({ toPostgres: () => 'y' }, 0));
  });

  it('take user and database from URLs, objects and libpq strings, never the password', () => {
    expect(connectionIdentity('postgres://app:s3cret@db1:5432/appdb', 'primary')).to.equal('app@appdb');
    expect(connectionIdentity({ host: 'db', user: 'ro', database: 'appdb', password: 'x' }, 'r')).to.equal('ro@appdb');
    expect(connectionIdentity({ connectionString: 'postgres://u@h/d', database: 'other' }, 'r')).to.equal('u@other');
    expect(connectionIdentity('host=db user=ro dbname=appdb', 'r')).to.equal('ro@appdb');
    expect(connectionIdentity(() => ({}), 'replica1')).to.equal('provider:replica1');
  });
});

describe('cache result copies', () => {
  it('copy deeply so callers never share objects, and estimate the size', () => {
    const rows = [{ id: 1, at: new Date(0), tags: ['a'], blob: Buffer.from('xy'), big: 2n, meta: { k: 'v' } }];
    const { value, bytes } = copyResult(rows);
    const copy = value as typeof rows;
    expect(copy).to.deep.equal(rows);
    expect(copy[0]).to.not.equal(rows[0]);
    expect(copy[0]!.at).to.not.equal(rows[0]!.at);
    expect(copy[0]!.tags).to.not.equal(rows[0]!.tags);
    expect(Buffer.isBuffer(copy[0]!.blob)).to.equal(true);
    expect(copy[0]!.blob).to.not.equal(rows[0]!.blob);
    expect(bytes).to.be.greaterThan(100);
  });

  it("keep a pg Result's prototype and share its parsers, copying rows", () => {
    class Result { command = 'SELECT'; rowCount = 1; rows = [{ a: 1 }]; fields = [{ name: 'a' }]; _parsers = [(x: string) => x]; _types = { getTypeParser() {} }; }
    const r = new Result();
    const c = copyResult(r).value as Result;
    expect(c).to.be.instanceOf(Result);
    expect(c.rows).to.deep.equal(r.rows);
    expect(c.rows).to.not.equal(r.rows);
    expect(c._types).to.equal(r._types);
    expect(c._parsers).to.equal(r._parsers);
  });

  it('keep a column named __proto__ a column', () => {
    const row = JSON.parse('{"__proto__": 5, "a": 1}') as Record<string, unknown>;
    const c = copyResult(row).value as Record<string, unknown>;
    expect(Object.getPrototypeOf(c)).to.equal(Object.prototype);
    expect(Object.keys(c)).to.deep.equal(['__proto__', 'a']);
  });

  it('refuse cyclic values instead of looping', () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    expect(() => copyResult(a)).to.throw(/deeper/);
  });
});

describe('cache invalidation messages and WAL positions', () => {
  const join = (halves: [string, string], lsn: string): string => halves[0] + lsn + halves[1];

  it('round-trip tags, origin, position and the DDL flag', () => {
    const m = parseInvalidation(join(payloadHalves('me', ['public.users', 'public.posts'], false), '23803720'), parseLsn)!;
    expect(m).to.deep.equal({ origin: 'me', lsn: 23803720n, tags: ['public.users', 'public.posts'], ddl: false });
    const all = parseInvalidation(join(payloadHalves('me', undefined, true), '7'), parseLsn)!;
    expect(all).to.deep.equal({ origin: 'me', lsn: 7n, tags: undefined, ddl: true });
  });

  it('fall back to "everything" beyond the NOTIFY payload limit', () => {
    const tags = Array.from({ length: 2000 }, (_, i) => `public.partition_${i}`);
    const halves = payloadHalves('me', tags, false);
    expect(Buffer.byteLength(halves.join('1234567890'))).to.be.lessThan(8000);
    expect(parseInvalidation(join(halves, '1'), parseLsn)!.tags).to.equal(undefined);
  });

  it('ignore payloads that are not ours', () => {
    expect(parseInvalidation('hello', parseLsn)).to.equal(undefined);
    expect(parseInvalidation('{"v":2}', parseLsn)).to.equal(undefined);
    expect(parseInvalidation('{"v":1,"o":"x","l":"zz","t":[]}', parseLsn)).to.equal(undefined);
  });

  it('parse pg_lsn text and byte counts; hex forms compare as strings like numbers', () => {
    expect(parseLsn('0/16B3748')).to.equal(0x16b3748n);
    expect(parseLsn('1/0')).to.equal(2n ** 32n);
    expect(parseLsn('4294967296')).to.equal(2n ** 32n);
    expect(parseLsn('nope')).to.equal(undefined);
    expect(formatHexLsn(0x16b3748n) < formatHexLsn(2n ** 32n)).to.equal(true);
    expect(parseHexLsn(formatHexLsn(123456789012n))).to.equal(123456789012n);
    // Beyond 2^53 bytes the one bigint type stays exact (the old number parser did not).
    expect(parseHexLsn(formatHexLsn(2n ** 60n + 1n))).to.equal(2n ** 60n + 1n);
  });
});
