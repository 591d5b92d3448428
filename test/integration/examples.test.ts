import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import ts from 'typescript';
import knexfile, { quietConnectionErrors } from '../../examples/knexfile';
import { splitKnex, type SplitKnex } from '../../lib';
import { getTestCluster, startCluster, type Cluster } from '../support/cluster';

const ROOT = path.join(__dirname, '../..');

// The examples as users start them: `tsx examples/<file>.ts` with the databases in the
// environment (the shared cluster's primary and its replicas, minus the one lag tests delay).
function exampleEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const cluster = getTestCluster();
  const replicas = cluster.replicas.filter((r) => r !== cluster.lagReplica);
  return { PATH: process.env.PATH, DATABASE_URL: cluster.primary.url, REPLICA_URLS: replicas.map((r) => r.url).join(','), ...extra };
}

// `npx tsx file.ts`, as the examples' comments tell users to run them.
const TSX = require.resolve('tsx/cli');

function runToEnd(args: string[], env: NodeJS.ProcessEnv): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [TSX, ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 90_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// Resolves with the first stdout line matching `pattern` (the server says where it listens).
function waitForLine(child: ChildProcess, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = pattern.exec(out);
      if (m !== null) resolve(m);
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before ${pattern}: ${out}${err}`)));
  });
}

describe('examples/ run against the cluster', function () {
  this.timeout(120_000);

  it('express-consistency.ts: POST redirects with a token cookie, the GET with it finds the note, a tampered cookie is a 400', async () => {
    const child = spawn(process.execPath, [TSX, 'examples/express-consistency.ts'], { cwd: ROOT, env: exampleEnv({ PORT: '0' }) });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const [, base] = await waitForLine(child, /listening on (http:\/\/127\.0\.0\.1:\d+)/);
      const created = await fetch(`${base}/notes`, { method: 'POST', body: new URLSearchParams({ body: 'from the example' }), redirect: 'manual' });
      expect(created.status).to.equal(303);
      const cookie = created.headers.get('set-cookie')!.split(';')[0]!;
      expect(cookie).to.match(/^rw=[\w-]+$/);
      const note = await fetch(`${base}${created.headers.get('location')}`, { headers: { cookie } });
      expect(note.status).to.equal(200);
      expect(await note.json()).to.include({ body: 'from the example' });
      const tampered = await fetch(`${base}${created.headers.get('location')}`, { headers: { cookie: 'rw=bm90IGEgdG9rZW4' } });
      expect(tampered.status).to.equal(400);
      expect(((await tampered.json()) as { error: string }).error).to.include('consistency token');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited, 'a clean stop: server closed, instance destroyed').to.equal(0);
  });

  it('job-worker.ts: every job finds the order its request wrote, and the report job reads on a standby', () => {
    const { status, stdout, stderr } = runToEnd(['examples/job-worker.ts'], exampleEnv());
    expect(status, stderr).to.equal(0);
    expect(stdout).to.include('3 jobs done');
    expect(stdout).to.match(/^job 1: found=true/m).and.match(/^job 2: found=true/m);
    expect(stdout).to.match(/^job 3: found=true, read on a standby/m);
    expect(stdout).to.match(/worker consistency: 2 tokens applied/);
  });

  it('demo.ts (`npm run demo`): reads and writes on every node, and a read in a new scope answers from a standby', () => {
    // The demo starts a primary and 2 replicas; here its cluster provider is pointed at the
    // shared cluster's servers (no apply delay outside the lag tests).
    const { replicas, primary } = getTestCluster();
    const { status, stdout, stderr } = runToEnd(['examples/demo.ts'], {
      PATH: process.env.PATH, SPLIT_KNEX_PRIMARY_URL: primary.url, SPLIT_KNEX_REPLICA_URLS: replicas.map((r) => r.url).join(','),
    });
    expect(status, stderr).to.equal(0);
    expect(stdout).to.match(/^primary\s+primary\s+\d+\s+[1-9]/m);
    replicas.forEach((_, i) => expect(stdout).to.match(new RegExp(`^replica${i + 1}\\s+replica\\s+[1-9]`, 'm')));
    // Right after the demo's last write the instance-wide scope reads on the primary, unless a
    // replica has replayed it by then: either is right. A new scope has nothing to wait for.
    expect(stdout).to.match(/^a read right after the writes answered from port \d+ \(in recovery: (true|false)\)$/m);
    expect(stdout).to.match(/^a read in a new scope answered from port \d+ \(in recovery: true\)$/m);
  });

  it('knexfile.ts: split-knex doctor loads the TypeScript knexfile and finds no problem', () => {
    const { status, stdout, stderr } = runToEnd(['lib/cli/split-knex-cli.ts', 'doctor', '--knexfile', 'examples/knexfile.ts', '--env', 'development', '--samples', '2'], exampleEnv());
    expect(status, `${stdout}\n${stderr}`).to.equal(0);
    expect(stdout).to.match(/^✓ primary\s+role\s+primary/m);
  });

  it('knexfile.ts: typed SplitKnexConfig it compiles; typed Knex.Config, TypeScript rejects `replicas`', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'split-knex-knexfile-types-'));
    try {
      const entry = "{ client: 'pg', connection: 'postgres://app@127.0.0.1/app', replicas: ['postgres://app@127.0.0.1:5433/app'] }";
      const files = {
        split: `import type { SplitKnexConfig } from ${JSON.stringify(path.join(ROOT, 'lib/config'))};\nexport const c: SplitKnexConfig = ${entry};\n`,
        plain: `import type { Knex } from ${JSON.stringify(path.join(ROOT, 'node_modules/knex'))};\nexport const c: Knex.Config = ${entry};\n`,
      };
      const paths = Object.fromEntries(Object.entries(files).map(([name, text]) => {
        const file = path.join(dir, `${name}.ts`);
        fs.writeFileSync(file, text);
        return [name, file];
      }));
      // One program for both files: the knex and split-knex types are parsed once.
      const program = ts.createProgram(Object.values(paths), { strict: true, noEmit: true, skipLibCheck: true, esModuleInterop: true, moduleResolution: ts.ModuleResolutionKind.Node10, module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, types: ['node'], typeRoots: [path.join(ROOT, 'node_modules/@types')] });
      const diagnostics = Object.fromEntries(Object.entries(paths).map(([name, file]) => [name, ts.getPreEmitDiagnostics(program, program.getSourceFile(file)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))]));
      expect(diagnostics.split).to.deep.equal([]);
      expect(diagnostics.plain!.join('\n')).to.match(/'replicas' does not exist in type 'Config/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('knexfile.ts log option: knex\'s "Connection Error" lines while a replica is down', () => {
    let cluster: Cluster;
    const dbs: SplitKnex[] = [];
    before(async () => {
      cluster = await startCluster({ replicas: 1 });
    });
    after(async () => {
      await Promise.all(dbs.splice(0).map((db) => db.destroy()));
      await cluster?.destroy();
    });

    it('reach the console without the option, reach quietConnectionErrors (and are dropped) with it; every read succeeds', async () => {
      const seen: string[] = [];
      const base = { ...knexfile.development, connection: cluster.primary.url, replicas: cluster.replicas.map((r) => ({ name: r.name, connection: r.url })) };
      const loud = splitKnex({ ...base, log: undefined });
      const quiet = splitKnex({ ...base, log: { warn: (m: unknown) => { seen.push(String(m)); quietConnectionErrors(m); } } });
      dbs.push(loud, quiet);
      // Open replica connections in both pools, then crash the replica under them.
      for (const db of [loud, quiet]) await Promise.all([1, 2, 3].map(() => db.raw('select pg_sleep(0.05)')));
      const printed: string[] = [];
      const original = { log: console.log, warn: console.warn };
      console.log = (...a: unknown[]) => void printed.push(a.map(String).join(' '));
      console.warn = console.log;
      const knexLine = /Connection Error|Acquire connection error/;
      const readUntil = async (db: SplitKnex, done: () => boolean) => {
        for (let i = 0; i < 50 && !done(); i++) {
          expect((await db.raw('select 1 as one')).rows[0].one).to.equal(1);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      };
      try {
        await cluster.stop(cluster.replicas[0]!.name, 'immediate');
        // Only the quiet instance reads first: any knex line on the console now would be its own.
        await readUntil(quiet, () => seen.some((l) => knexLine.test(l)));
        expect(printed.filter((l) => knexLine.test(l)), 'with the option: nothing on the console').to.deep.equal([]);
        await readUntil(loud, () => printed.some((l) => knexLine.test(l)));
      } finally {
        Object.assign(console, original);
      }
      const dropped = seen.filter((l) => knexLine.test(l)).length;
      const shown = printed.filter((l) => knexLine.test(l)).length;
      console.log(`[figures] replica crashed under two instances: ${shown} knex connection lines printed without the log option, ${dropped} dropped by quietConnectionErrors`);
      expect(dropped, 'with the option the lines reach the log function').to.be.above(0);
      expect(shown, 'without the option knex prints them').to.be.above(0);
    });
  });
});
