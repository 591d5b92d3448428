// Read-your-writes per HTTP request, for the Consistency section of the README.
//
// With Express the whole integration is:
//
//   app.use(db.consistencyMiddleware({ token: (req) => req.cookies?.rw }));
//   app.post('/notes', async (req, res) => {
//     const [note] = await db('notes').insert({ body: req.body.body }).returning('id');
//     res.cookie('rw', db.consistencyToken(), { httpOnly: true, maxAge: 10_000 });
//     res.redirect(303, `/notes/${note.id}`);
//   });
//   app.get('/notes/:id', async (req, res) => { ... db('notes').where({ id }).first() ... });
//
// Express is not a dependency of split-knex, so this file runs the same middleware the way
// Express and Connect call it — `(req, res, next)` — on Node's own http server. The test
// suite starts two of these "servers" on two splitKnex instances and checks that a note
// created through one is never a 404 through the other.
import http from 'http';
import type { SplitKnex } from '../lib';

/** The cookie that carries the consistency token between requests (and servers). */
export const TOKEN_COOKIE = 'rw';

/**
 * The app: `POST /notes` creates a note and redirects to it (303); `GET /notes/:id` reads it
 * and says which server answered.
 *
 * @example
 * http.createServer(createNotesApp(db)).listen(3000);
 */
export function createNotesApp(db: SplitKnex): http.RequestListener {
  const consistency = db.consistencyMiddleware<http.IncomingMessage, http.ServerResponse>({
    token: (req) => readCookie(req, TOKEN_COOKIE),
  });
  return (req, res) => {
    consistency(req, res, (err?: unknown) => {
      if (err !== undefined) return send(res, 400, { error: String(err) }); // e.g. a tampered token: ESPLIT_TOKEN
      route(db, req, res).catch((e: unknown) => send(res, 500, { error: String(e) }));
    });
  };
}

async function route(db: SplitKnex, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method === 'POST' && url.pathname === '/notes') {
    const body = url.searchParams.get('body') ?? '';
    const [note] = await db('example_notes').insert({ body }).returning('id');
    res.setHeader('Set-Cookie', `${TOKEN_COOKIE}=${db.consistencyToken()}; HttpOnly; Max-Age=10; Path=/`);
    res.writeHead(303, { Location: `/notes/${note.id}` }).end();
    return;
  }
  const match = /^\/notes\/(\d+)$/.exec(url.pathname);
  if (req.method === 'GET' && match !== null) {
    const note = await db('example_notes')
      .where({ id: Number(match[1]) })
      .first('id', 'body', db.raw('inet_server_port() as port'), db.raw('pg_is_in_recovery() as standby'));
    if (note === undefined) return send(res, 404, { error: 'no such note' });
    return send(res, 200, note);
  }
  send(res, 404, { error: 'no such route' });
}

/** Creates the example's table. */
export async function createNotesTable(db: SplitKnex): Promise<void> {
  await db.schema.dropTableIfExists('example_notes');
  await db.schema.createTable('example_notes', (t) => {
    t.increments('id');
    t.text('body').notNullable();
  });
}

function readCookie(req: http.IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}
