import { spawn, spawnSync } from 'node:child_process';

/** Options of {@link runCommand}. */
export interface RunCommandOptions {
  /** Working directory; must be readable by the `postgres` user when running as it. */
  cwd: string;
  /** Kill the command after this many ms (default 60 000). */
  timeoutMs?: number;
}

/** A command that exited non-zero, timed out or could not start; carries its output. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly command: string,
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

/** True when server binaries must be run through `runuser -u postgres` (they refuse root). */
export function mustSwitchUser(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * The argv that runs `file args…` as the `postgres` user when we are root, directly otherwise.
 *
 * @example
 * const [cmd, ...rest] = asPostgres('/usr/lib/postgresql/15/bin/pg_ctl', ['status', '-D', dir]);
 */
export function asPostgres(file: string, args: readonly string[]): [string, ...string[]] {
  return mustSwitchUser() ? ['runuser', '-u', 'postgres', '--', file, ...args] : [file, ...args];
}

/**
 * Runs a server binary (as `postgres` when root) and resolves with its stdout; rejects with
 * a {@link CommandError} holding stderr. libpq `PG*` variables are removed from the
 * environment so a developer's shell cannot redirect the harness to another server.
 *
 * @example
 * await runCommand(`${bin}/pg_ctl`, ['stop', '-D', dir, '-m', 'fast', '-w'], { cwd: root });
 */
export function runCommand(file: string, args: readonly string[], options: RunCommandOptions): Promise<string> {
  const [cmd, ...argv] = asPostgres(file, args);
  const shown = [file.split('/').pop(), ...args].join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { cwd: options.cwd, env: serverEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    timer.unref();
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new CommandError(`cannot run ${shown}: ${err.message}`, shown, null, ''));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve(stdout);
      const why = signal ? `was killed by ${signal}` : `exited with ${code}`;
      reject(new CommandError(`${shown} ${why}: ${(stderr || stdout).trim()}`, shown, code, stderr));
    });
  });
}

/**
 * Synchronous best-effort variant for `process.on('exit')`; never throws.
 * @internal
 */
export function runCommandSync(file: string, args: readonly string[], cwd: string): void {
  const [cmd, ...argv] = asPostgres(file, args);
  try {
    spawnSync(cmd, argv, { cwd, env: serverEnv(), stdio: 'ignore', timeout: 15_000 });
  } catch {
    // Nothing more can be done while the process exits.
  }
}

/** The environment for server binaries: ours minus libpq overrides, with C messages. @internal */
export function serverEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('PG')) env[key] = value;
  }
  // English messages: the harness recognises "Address already in use" in server logs.
  env['LC_ALL'] = 'C';
  return env;
}
