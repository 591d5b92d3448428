import { debugLogger } from './debug-log';
import type { BackgroundLinks } from './background/background-links';
import { SplitKnexError } from './errors';
import type { BackgroundTask } from './subsystem';

const debug = debugLogger('split-knex:lifecycle');

/**
 * `created`: built, nothing connected, no user function called. `running`: background work
 * started (by the first statement or `db.ready()`). `destroyed`: every timer stopped, every
 * connection split-knex opened closed; statements reject with `ESPLIT_DESTROYED` until
 * `initialize()` makes it `created` again.
 */
export type LifecycleState = 'created' | 'running' | 'destroyed';

/**
 * The lifecycle of one instance: starts the subsystems' background work lazily, and stops
 * it — timers, connections, connects in flight — on `destroy()`.
 *
 * @example
 * const life = new InstanceLifecycle(tasks, links);
 * life.enter();            // on every statement: throws after destroy(), starts work on the first
 * await life.ready();      // db.ready()
 * await life.destroy();    // db.destroy()
 * life.initialize();       // db.initialize()
 */
export class InstanceLifecycle {
  state: LifecycleState = 'created';
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly tasks: readonly BackgroundTask[],
    private readonly links: BackgroundLinks,
  ) {}

  /** Called for every statement: cheap when running. */
  enter(): void {
    if (this.state === 'running') return;
    if (this.state === 'destroyed') throw destroyedError();
    this.state = 'running';
    debug('starting background work');
    for (const task of this.tasks) task.start();
  }

  /** Starts background work and resolves when what it loads first (catalog, positions) is loaded. */
  async ready(): Promise<void> {
    this.enter();
    await Promise.all(this.tasks.map((t) => t.ready?.()));
  }

  /** Stops every task and closes every background connection; idempotent. */
  destroy(): Promise<void> {
    if (this.state === 'destroyed') return this.stopping ?? Promise.resolve();
    const wasRunning = this.state === 'running';
    this.state = 'destroyed';
    debug('destroying');
    // Links close first and at once (connects in flight included), so an initialize() right
    // after this call cannot be undone by a close that comes later.
    const closing = this.links.close();
    this.stopping = (async () => {
      if (wasRunning) await Promise.all(this.tasks.map((t) => t.stop()));
      await closing;
    })();
    return this.stopping;
  }

  /** After `destroy()`: back to `created` (background work starts again with the next statement). */
  initialize(): void {
    if (this.state !== 'destroyed') return;
    this.state = 'created';
    this.links.reopen();
  }
}

/** The error every statement gets after `destroy()`. */
export function destroyedError(): SplitKnexError {
  return new SplitKnexError('ESPLIT_DESTROYED', 'split-knex: the instance was destroyed; call db.initialize() to use it again');
}
