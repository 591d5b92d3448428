// Read-your-writes per HTTP request with Express: create a note, redirect, read it back —
// never a 404, even when the read lands on another server behind a load balancer.
//
// The whole integration is the middleware (one consistency scope per request) and a cookie
// that carries the scope's token to the next request:
//
//   app.use(db.consistencyMiddleware({ token: (req) => cookie(req, 'rw') }));
//   res.cookie('rw', db.consistencyToken(), { httpOnly: true, maxAge: 10_000 });
//
// Run it against your databases (Express is a dependency of this example, not of split-knex):
//
//   DATABASE_URL=postgres://…/app REPLICA_URLS=postgres://…,postgres://… PORT=3000 npx tsx examples/express-consistency.ts
//   curl -i -X POST 'http://127.0.0.1:3000/notes?body=hello'   # 303 to /notes/1, with the rw cookie
//
// In your app: `import { splitKnex, type SplitKnex } from 'split-knex';`.
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import type { AddressInfo } from 'net';
import { splitKnex, SplitKnexError, type SplitKnex } from '../lib';

/** The cookie that carries the consistency token between requests (and servers). */
export const TOKEN_COOKIE = 'rw';

/**
 * The app: `POST /notes` creates a note and redirects to it (303); `GET /notes/:id` reads it
 * and says which server answered (`port`, `standby`).
 *
 * @example
 * createNotesApp(db).listen(3000);
 */
export function createNotesApp(db: SplitKnex): express.Express {
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  // Before the routes: the rest of each request runs in its own scope, plus the cookie's token.
  app.use(db.consistencyMiddleware<Request, Response>({ token: (req) => readCookie(req, TOKEN_COOKIE) }));

  app.post('/notes', async (req, res) => {
    const body = String(req.body?.body ?? req.query.body ?? '');
    const [note] = await db('example_notes').insert({ body }).returning('id');
    // Whoever reads with this cookie next (this server or another) sees the note.
    res.cookie(TOKEN_COOKIE, db.consistencyToken(), { httpOnly: true, maxAge: 10_000 });
    res.redirect(303, `/notes/${note.id}`);
  });

  app.get('/notes/:id', async (req, res) => {
    const note = await db('example_notes')
      .where({ id: Number(req.params.id) })
      .first('id', 'body', db.raw('inet_server_port() as port'), db.raw('pg_is_in_recovery() as standby'));
    if (note === undefined) res.status(404).json({ error: 'no such note' });
    else res.json(note);
  });

  // A tampered or truncated cookie is the client's problem (ESPLIT_TOKEN): 400, not 500.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = err instanceof SplitKnexError && err.code === 'ESPLIT_TOKEN' ? 400 : 500;
    res.status(status).json({ error: String(err) });
  });
  return app;
}

/**
 * Creates the example's table.
 *
 * @example
 * await createNotesTable(db);
 */
export async function createNotesTable(db: SplitKnex): Promise<void> {
  await db.schema.dropTableIfExists('example_notes');
  await db.schema.createTable('example_notes', (t) => {
    t.increments('id');
    t.text('body').notNullable();
  });
}

// No cookie-parser needed for one cookie.
function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

async function main(): Promise<void> {
  const db = splitKnex({ client: 'pg', connection: process.env.DATABASE_URL, replicas: process.env.REPLICA_URLS });
  await createNotesTable(db);
  const server = createNotesApp(db).listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
    console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  const stop = () => server.close(() => void db.destroy().then(() => console.log('stopped')));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
