import { AsyncLocalStorage } from 'async_hooks';
import { debugLogger } from '../debug-log';

const debugRoute = debugLogger('split-knex:route');

// One transaction opened in an async context (and what was open around it).
interface Frame {
  readonly owner: object;
  trx: TrackedTransaction | undefined;
  open: boolean;
  readonly parent: Frame | undefined;
}

/** What the tracking reads of knex's transaction: its name, and whether COMMIT/ROLLBACK was sent. */
export interface TrackedTransaction {
  readonly txid: string;
  isCompleted(): boolean;
}

// One store for the process: frames name the instance (owner) they belong to.
const storage = new AsyncLocalStorage<Frame>();
// Instances whose strict check is on: they track transactions even with debug output off.
const strictOwners = new WeakSet<object>();

/** A transaction being tracked in the async context that opened it. */
export interface OpenedTransaction {
  /**
   * Names the transaction (built once knex's constructor ran): it is open until COMMIT or
   * ROLLBACK is sent (`trx.isCompleted()`) or `settled` settles (e.g. it never got a
   * connection). Returns a promise that settles like `settled`, to stand in for it (the
   * caller's handlers stay the only ones: an unhandled rejection stays unhandled).
   */
  until<T>(trx: TrackedTransaction, settled: Promise<T>): Promise<T>;
}

/**
 * Called when a transaction is created, synchronously in the caller's async context and
 * before knex schedules the transaction's callback: the callback, and the code after
 * `await db.transaction()`, then run in a context that knows the transaction is open. Tracks
 * nothing (and costs nothing) unless the instance is strict or `split-knex:route` debug
 * output is on; `owner` undefined (a nested transaction, a client split-knex does not route)
 * tracks nothing either.
 *
 * @example
 * // lib/knex/split-transaction.ts, in the constructor:
 * const opened = openTransaction(pipelineOf(client)); // before super()
 * super(client, container, config, outerTx);
 * if (opened !== undefined) this._promise = opened.until(this, this._promise);
 */
export function openTransaction(owner: object | undefined): OpenedTransaction | undefined {
  if (owner === undefined || !(strictOwners.has(owner) || debugRoute.enabled)) return undefined;
  const frame: Frame = { owner, trx: undefined, open: true, parent: nearestOpen(storage.getStore()) };
  // enterWith, not run(): the promise form (`const trx = await db.transaction()`) hands the
  // transaction back to the caller's own context, which has no callback to wrap.
  storage.enterWith(frame);
  return {
    until<T>(trx: TrackedTransaction, settled: Promise<T>): Promise<T> {
      frame.trx = trx;
      return settled.finally(() => {
        frame.open = false;
      });
    },
  };
}

/**
 * The `txid` of a transaction of `owner` open in the current async context, if any: a
 * statement routed outside a transaction while this returns one is the usual sign of a
 * forgotten `.transacting(trx)`.
 *
 * @example
 * const txid = openTransactionIn(pipeline); // 'trx3' inside db.transaction(async (trx) => …)
 */
export function openTransactionIn(owner: object): string | undefined {
  for (let f = storage.getStore(); f !== undefined; f = f.parent) {
    if (isOpen(f) && f.owner === owner) return f.trx?.txid ?? 'being opened';
  }
  return undefined;
}

/**
 * Tracks `owner`'s transactions whatever the debug output (`routing.strictTransactions`).
 *
 * @example
 * trackTransactionsOf(pipeline);
 */
export function trackTransactionsOf(owner: object): void {
  strictOwners.add(owner);
}

// Closed frames are dropped from new chains, so a loop of transactions in one context
// keeps a chain as long as the transactions open at once, not one per transaction ever run.
function nearestOpen(frame: Frame | undefined): Frame | undefined {
  let f = frame;
  while (f !== undefined && !isOpen(f)) f = f.parent;
  return f;
}

function isOpen(f: Frame): boolean {
  if (f.open && f.trx?.isCompleted() === true) f.open = false;
  return f.open;
}
