import { expect } from 'chai';
import { formatLsn, parseLsn, parseWalPosition, walBytesBetween } from '../../lib/wal-position';

// lib/wal-position.ts is the one WAL position type (bigint) for the library.
describe('WAL positions (lib/wal-position, no database)', () => {
  it('parses both spellings PostgreSQL gives to the same bigint', () => {
    expect(parseWalPosition('0/16B3748')).to.equal(23803720n);
    expect(parseWalPosition('23803720')).to.equal(23803720n);
    expect(parseWalPosition(23803720)).to.equal(23803720n);
    expect(parseWalPosition('1/0')).to.equal(parseWalPosition('4294967296'));
    expect(parseWalPosition('FFFFFFFF/FFFFFFFF')).to.equal(parseWalPosition('18446744073709551615'));
  });

  it('is exact beyond 2^53 bytes, where a number is not', () => {
    expect(parseWalPosition('FFFFFFFF/FFFFFFFF')).to.equal(2n ** 64n - 1n);
    expect(parseWalPosition('9007199254740993')).to.equal(9007199254740993n);
    expect(parseWalPosition(2 ** 53)).to.equal(undefined);
  });

  it('rejects anything that is not a position', () => {
    for (const v of [null, undefined, '', 'nope', '0/', '/0', '123456789/0', 'G/0', '-1', '1.5', '18446744073709551616', -1, 1.5, NaN, {}, -1n]) {
      expect(parseWalPosition(v), String(v)).to.equal(undefined);
    }
  });

  it('keeps parseLsn strict to the pg_lsn spelling (consistency tokens carry only that)', () => {
    expect(parseLsn('0/16B3748')).to.equal(23803720n);
    expect(parseLsn('23803720')).to.equal(undefined);
  });

  it('formats as PostgreSQL does and round-trips', () => {
    expect(formatLsn(23803720n)).to.equal('0/16B3748');
    for (const text of ['0/0', '0/16B3748', '16/B374D848', 'FFFFFFFF/FFFFFFFF']) expect(formatLsn(parseWalPosition(text)!)).to.equal(text);
  });

  it('computes differences like pg_wal_lsn_diff(to, from)', () => {
    expect(walBytesBetween(parseLsn('0/3000000')!, parseLsn('0/3000060')!)).to.equal(96n);
    expect(walBytesBetween(parseLsn('0/FFFFFFFF')!, parseLsn('1/0')!)).to.equal(1n);
    expect(walBytesBetween(parseLsn('1/0')!, parseLsn('0/0')!)).to.equal(-(2n ** 32n));
  });

});
