#!/usr/bin/env node
// The `split-knex` command. Only `doctor` for now: load the knexfile entry, build the
// instance, run db.doctor(), print, and exit 0 (healthy), 1 (problems) or 2 (usage/config).
import { formatDoctorReport } from '../doctor';
import { redactSecrets } from '../doctor/redact-report';
import { splitKnex } from '../split-knex';
import { loadKnexfile } from './load-knexfile';
import { parseCliArgs, USAGE, type DoctorCommand } from './parse-cli-args';

/** Where the CLI writes; injectable for tests. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
}

/**
 * Runs the CLI and resolves to its exit code.
 *
 * @example
 * process.exitCode = await runCli(['doctor', '--json'], { out: console.log, err: console.error, cwd: process.cwd(), env: process.env });
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCliArgs(argv, io.env);
  if (parsed.command === 'help') {
    // No subcommand at all is a usage error: a script that forgot `doctor` must not pass.
    if (argv.length === 0) {
      io.err(USAGE);
      return 2;
    }
    io.out(USAGE);
    return 0;
  }
  if (parsed.command === 'error') {
    io.err(`split-knex: ${parsed.message}\n\n${USAGE}`);
    return 2;
  }
  return doctor(parsed, io);
}

async function doctor(cmd: DoctorCommand, io: CliIo): Promise<number> {
  // knex logs and config errors may quote a connection string or a provider's error.
  const err = (text: string) => io.err(redactSecrets(text));
  let db;
  try {
    const config = await loadKnexfile(cmd.knexfile, cmd.env, io.cwd);
    // knex prints its warnings with console.log: keep stdout for the report (--json must parse).
    const toStderr = (m: unknown) => err(`knex: ${typeof m === 'string' ? m : JSON.stringify(m)}`);
    db = splitKnex({ log: { warn: toStderr, error: toStderr, deprecate: toStderr, debug: toStderr }, ...config });
  } catch (e) {
    err(e instanceof Error ? e.message : String(e));
    return 2;
  }
  try {
    const options: Record<string, number> = {};
    if (cmd.instances !== undefined) options.instances = cmd.instances;
    if (cmd.samples !== undefined) options.samples = cmd.samples;
    if (cmd.timeoutMs !== undefined) options.timeoutMs = cmd.timeoutMs;
    const report = await db.doctor(options);
    io.out(cmd.json ? JSON.stringify(report, null, 2) : formatDoctorReport(report));
    return report.ok ? 0 : 1;
  } catch (e) {
    err(e instanceof Error ? e.message : String(e));
    return 2;
  } finally {
    await db.destroy().catch(() => undefined);
  }
}

if (require.main === module) {
  runCli(process.argv.slice(2), {
    out: (t) => process.stdout.write(`${t}\n`),
    err: (t) => process.stderr.write(`${t}\n`),
    cwd: process.cwd(),
    env: process.env,
  }).then((code) => {
    process.exitCode = code;
  });
}
