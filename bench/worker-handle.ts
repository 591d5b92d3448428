import { fork, type ChildProcess } from 'child_process';
import * as path from 'path';

/** How a worker builds its one contender. */
export interface WorkerInit {
  contender: 'pg.Pool' | 'knex' | 'split-knex';
  /** pg.Pool and knex: the one server they use; split-knex: the primary. */
  url: string;
  /** split-knex only: its replicas (a weight of 0 takes no reads unless named). */
  replicas?: Array<{ name: string; url: string; weight?: number }>;
  /** split-knex only: more of its config (e.g. `{ sticky: { mode: 'none' } }`), plain JSON. */
  config?: Record<string, unknown>;
  poolSize: number;
  /** Stub the pools' driver connections (hot-path section). */
  stub?: boolean;
}

/** A benchmark worker process: one contender per process, driven by messages. */
export interface WorkerHandle {
  call<T>(command: Record<string, unknown>): Promise<T>;
  close(): Promise<void>;
}

/**
 * Forks bench/bench-worker.ts with the parent's execArgv (tsx's loader included) and sends
 * it `init`. One contender per process: knex's query compiler then only ever sees one
 * builder class, as in an application, instead of turning polymorphic (and slower for
 * whichever contender the JIT met second) when knex and split-knex share a process.
 *
 * @example
 * const w = await spawnWorker({ contender: 'knex', url: replicaUrl, poolSize: 16 });
 * const slice = await w.call({ cmd: 'slice', query: 'point', concurrency: 1, durationMs: 800 });
 */
export async function spawnWorker(init: WorkerInit, options: { execArgv?: string[] } = {}): Promise<WorkerHandle> {
  const execArgv = [...process.execArgv, ...(options.execArgv ?? [])];
  const child: ChildProcess = fork(path.join(__dirname, 'bench-worker.ts'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
  let pending: { resolve(v: unknown): void; reject(e: Error): void } | undefined;
  child.on('message', (m: { ok: boolean; value?: unknown; error?: string }) => {
    const p = pending;
    pending = undefined;
    if (m.ok) p?.resolve(m.value);
    else p?.reject(new Error(m.error));
  });
  child.on('exit', (code) => pending?.reject(new Error(`bench worker exited (${code})`)));
  const call = <T>(command: Record<string, unknown>): Promise<T> => new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      pending = undefined;
      child.kill('SIGKILL');
      reject(new Error(`bench worker did not answer ${String(command.cmd)} within 120 s`));
    }, 120_000);
    pending = {
      resolve: (v) => { clearTimeout(timer); (resolve as (v: unknown) => void)(v); },
      reject: (e) => { clearTimeout(timer); reject(e); },
    };
    child.send(command);
  });
  await call({ cmd: 'init', ...init });
  return {
    call,
    close: async () => {
      try {
        await call({ cmd: 'close' });
      } catch {
        // it exits after answering
      }
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            child.kill('SIGKILL');
            resolve();
          }, 5000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
  };
}
