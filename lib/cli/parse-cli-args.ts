import { KNEXFILE_NAMES } from './load-knexfile';

/** What `split-knex doctor …` was asked to do. */
export interface DoctorCommand {
  command: 'doctor';
  /** Path of the knexfile (default: the first of {@link KNEXFILE_NAMES} that exists). */
  knexfile: string | undefined;
  /** The knexfile entry (default `NODE_ENV`, else `development`). */
  env: string;
  json: boolean;
  instances: number | undefined;
  samples: number | undefined;
  timeoutMs: number | undefined;
}

/** A parsed command line: a command, help, or a usage error to print. */
export type CliCommand = DoctorCommand | { command: 'help' } | { command: 'error'; message: string };

/** The usage text printed by `--help` and after a usage error. */
export const USAGE = `Usage: split-knex doctor [options]

Checks a split-knex configuration against the live databases.

Options:
  --knexfile <path>   knexfile to load (default ${KNEXFILE_NAMES.map((n) => `./${n}`).join(', else ')})
  --env <name>        knexfile entry (default $NODE_ENV, else development)
  --json              print the report as JSON
  --instances <n>     processes sharing the databases, for pool sizing (default 1)
  --samples <n>       new connections per node to detect balancers (default 6)
  --timeout <ms>      bound on each connect and probe (default 5000)
  -h, --help          show this help

Exit codes: 0 no problems (warnings allowed), 1 problems found, 2 usage or config error.`;

const NUMERIC = { '--instances': 'instances', '--samples': 'samples', '--timeout': 'timeoutMs' } as const;

/**
 * Parses `argv` (without node and the script path). Accepts `--flag value` and `--flag=value`.
 *
 * @example
 * parseCliArgs(['doctor', '--env', 'production', '--json'], {})
 * // { command: 'doctor', env: 'production', json: true, knexfile: undefined, … }
 */
export function parseCliArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): CliCommand {
  const args = argv.flatMap((a) => (/^--[^=]+=/.test(a) ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a]));
  if (args.length === 0 || args.includes('-h') || args.includes('--help') || args[0] === 'help') return { command: 'help' };
  const [command, ...rest] = args;
  if (command !== 'doctor') return { command: 'error', message: `unknown command ${JSON.stringify(command)}` };
  const out: DoctorCommand = {
    command: 'doctor', knexfile: undefined, env: env['NODE_ENV'] || 'development', json: false,
    instances: undefined, samples: undefined, timeoutMs: undefined,
  };
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i] as string;
    if (flag === '--json') {
      out.json = true;
      continue;
    }
    const value = rest[i + 1];
    if (flag === '--knexfile' || flag === '--env' || flag in NUMERIC) {
      if (value === undefined || value.startsWith('--')) return { command: 'error', message: `${flag} needs a value` };
      i++;
      if (flag === '--knexfile') out.knexfile = value;
      else if (flag === '--env') out.env = value;
      else {
        const n = Number(value);
        if (!Number.isInteger(n) || n < 0) return { command: 'error', message: `${flag} must be a nonnegative integer, got ${JSON.stringify(value)}` };
        out[NUMERIC[flag as keyof typeof NUMERIC]] = n;
      }
      continue;
    }
    return { command: 'error', message: `unknown option ${JSON.stringify(flag)}` };
  }
  return out;
}
