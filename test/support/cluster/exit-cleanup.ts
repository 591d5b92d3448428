import { spawn } from 'node:child_process';

type Cleanup = () => void;

const cleanups = new Set<Cleanup>();
let hooked = false;
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Registers a synchronous, best-effort cleanup that runs if the process exits (normally,
 * by an uncaught exception, or by SIGINT/SIGTERM/SIGHUP) before the cluster was destroyed.
 * Returns the function that unregisters it; call that from `destroy()`.
 *
 * @example
 * const unregister = registerExitCleanup(() => stopEverythingSync());
 */
export function registerExitCleanup(cleanup: Cleanup): () => void {
  cleanups.add(cleanup);
  if (!hooked) {
    hooked = true;
    process.on('exit', runAll);
    for (const signal of SIGNALS) process.on(signal, onSignal);
  }
  return () => {
    cleanups.delete(cleanup);
  };
}

/**
 * Starts a detached shell that waits for this process to die, however it dies (SIGKILL and
 * OOM included), then runs `script`. Returns a function that ends the watchdog; call it
 * once the cluster has been destroyed normally.
 *
 * @example
 * const cancel = startWatchdog(`pg_ctl stop -D ${dir} -m immediate; rm -rf ${dir}`);
 */
export function startWatchdog(script: string): () => void {
  const loop = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ${script}`;
  const child = spawn('sh', ['-c', loop], { detached: true, stdio: 'ignore' });
  child.unref();
  child.on('error', () => undefined); // No sh: the exit hook remains.
  return () => {
    if (child.pid !== undefined && child.exitCode === null) {
      try {
        // Detached, so the shell leads its own process group: this takes its `sleep` too.
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  };
}

/** Shell-quotes one argument for {@link startWatchdog} scripts. @internal */
export function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

function runAll(): void {
  for (const cleanup of [...cleanups]) {
    cleanups.delete(cleanup);
    try {
      cleanup();
    } catch {
      // Best effort: keep cleaning the others.
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  runAll();
  // Our listener replaced Node's default "exit on signal"; when nobody else (mocha, the
  // demo) handles the signal, re-raise it without us so Ctrl-C still ends the process.
  if (process.listenerCount(signal) === 1) {
    process.removeListener(signal, onSignal);
    process.kill(process.pid, signal);
  }
}
