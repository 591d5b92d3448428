import { expect } from 'chai';
import createDebug from 'debug';
import { AsyncResource } from 'async_hooks';
import { configError } from '../support/expect-config-error';
import { normalizeConfig } from '../../lib/config';
import { openTransaction, openTransactionIn, trackTransactionsOf } from '../../lib/route/open-transactions';

// A stand-in for knex's transaction: a name, and COMMIT/ROLLBACK sent or not.
function fakeTrx(txid: string) {
  let completed = false;
  let settle!: () => void;
  const settled = new Promise<void>((resolve) => { settle = resolve; });
  return { trx: { txid, isCompleted: () => completed }, settled, complete: () => { completed = true; }, settle };
}

// Runs `fn` in a fresh async context, as a new request would start.
const inNewContext = <T>(fn: () => Promise<T>): Promise<T> => new AsyncResource('test').runInAsyncScope(fn);

describe('open transactions of an async context', () => {
  it('tracks nothing for an instance that is neither strict nor watched by debug output', async () => {
    await inNewContext(async () => {
      const owner = {};
      expect(createDebug.enabled('split-knex:route')).to.equal(false);
      expect(openTransaction(owner)).to.equal(undefined);
      expect(openTransaction(undefined)).to.equal(undefined);
      expect(openTransactionIn(owner)).to.equal(undefined);
    });
  });

  it('a strict instance\'s transaction is open in the context that opened it until COMMIT/ROLLBACK is sent, and only for that instance', async () => {
    await inNewContext(async () => {
      const owner = {};
      trackTransactionsOf(owner);
      const t = fakeTrx('trx1');
      // Another request's context, made before the transaction opened.
      const other = new AsyncResource('other');
      const opened = openTransaction(owner)!;
      const standIn = opened.until(t.trx, t.settled);
      await Promise.resolve();
      expect(openTransactionIn(owner)).to.equal('trx1');
      expect(openTransactionIn({})).to.equal(undefined);
      expect(other.runInAsyncScope(() => openTransactionIn(owner))).to.equal(undefined);
      t.complete();
      expect(openTransactionIn(owner)).to.equal(undefined);
      t.settle();
      await standIn;
    });
    const owner = {};
    trackTransactionsOf(owner);
    expect(await inNewContext(async () => openTransactionIn(owner))).to.equal(undefined);
  });

  it('a transaction that settles without COMMIT (it got no connection) is closed; each of a loop of transactions in one context is tracked on its own', async () => {
    await inNewContext(async () => {
      const owner = {};
      trackTransactionsOf(owner);
      for (let i = 0; i < 3; i++) {
        const t = fakeTrx(`trx${i}`);
        const standIn = openTransaction(owner)!.until(t.trx, t.settled.then(() => { throw new Error('no connection'); }));
        expect(openTransactionIn(owner)).to.equal(`trx${i}`);
        t.settle();
        await standIn.catch(() => undefined);
      }
      expect(openTransactionIn(owner)).to.equal(undefined);
    });
  });

  it('routing.strictTransactions is a boolean, off by default', () => {
    const base = { client: 'pg', connection: 'postgres://h/db' };
    expect(normalizeConfig(base).routing.strictTransactions).to.equal(false);
    expect(normalizeConfig({ ...base, routing: { strictTransactions: true } }).routing.strictTransactions).to.equal(true);
    expect(configError(() => normalizeConfig({ ...base, routing: { strictTransactions: 'yes' as never } })).message).to.include('"routing.strictTransactions" must be a boolean');
  });
});
