import { expect } from 'chai';
import { inspect } from 'node:util';
import createDebug from 'debug';
import { debugLogger } from '../../lib/debug-log';
import { redact, redactConnection, redactError, redactingLogger, redactText, sqlShown } from '../../lib/redact';
import { configError as makeConfigError, SplitKnexError } from '../../lib/errors';
import { normalizeConfig, type SplitKnexConfig } from '../../lib/config';
import { connectionLabel } from '../../lib/route/connection-label';
import { configError } from '../support/expect-config-error';

// A small seeded generator: the same "random" passwords on every run, so a failure replays.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
const PRINTABLE = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&()*+,-./:;<=>?@[]^_{|}~\'"` \\';
const URL_SAFE = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~';

function password(next: () => number, alphabet: string): string {
  const length = 8 + Math.floor(next() * 16);
  // A fixed, unlikely prefix so a password never occurs by chance in the rest of a shape.
  let out = 'Qz';
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(next() * alphabet.length)];
  return out;
}

// Every way a credential reaches a string, built around one password.
const SHAPES: Array<[string, string, (pw: string) => string]> = [
  ['a URL with a scheme', PRINTABLE, (pw) => `postgres://app:${encodeURIComponent(pw)}@db.internal:5432/app`],
  ['a postgresql:// URL with a query', PRINTABLE, (pw) => `postgresql://app:${encodeURIComponent(pw)}@10.0.0.7/app?sslmode=require`],
  ['a URL to an IPv6 host', PRINTABLE, (pw) => `postgres://app:${encodeURIComponent(pw)}@[::1]:5433/app`],
  ['a URL with an unencoded @ in the password', URL_SAFE, (pw) => `postgres://app:${pw}@x@db/app`],
  ['a URL without a scheme', PRINTABLE, (pw) => `app:${encodeURIComponent(pw)}@db.internal:5432/app`],
  ['a URL without a scheme nor port', URL_SAFE, (pw) => `app:${pw}@db/app`],
  ['a comma-separated list of URLs', PRINTABLE, (pw) => `postgres://a:x@r1/app,postgres://b:${encodeURIComponent(pw)}@r2/app`],
  ['a password in a URL query', PRINTABLE, (pw) => `postgres://db/app?sslmode=require&password=${encodeURIComponent(pw)}`],
  ['a key/value string, unquoted', URL_SAFE, (pw) => `host=db port=5432 password=${pw} user=app`],
  ['a key/value string, quoted', PRINTABLE, (pw) => `host=db password='${pw.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}' user=app`],
  ['an upper-case key', URL_SAFE, (pw) => `PGPASSWORD=${pw} psql -h db`],
  ['an sslpassword key', URL_SAFE, (pw) => `host=db sslpassword=${pw}`],
  ['JSON of a connection object', PRINTABLE, (pw) => JSON.stringify({ host: 'db', password: pw, user: 'app' })],
  ['util.inspect of a connection object', PRINTABLE, (pw) => inspect({ host: 'db', password: pw, user: 'app' })],
  ['SQL setting a role password', PRINTABLE, (pw) => `alter role app with encrypted password '${pw.replace(/'/g, "''")}' valid until 'infinity'`],
  ['an error message quoting a URL', PRINTABLE, (pw) => `connect failed for "app:${encodeURIComponent(pw)}@db:5432/app": ECONNREFUSED`],
];

describe('redact', () => {
  for (const [what, alphabet, shape] of SHAPES) {
    it(`hides the password of ${what} (200 generated passwords), and is idempotent`, () => {
      const next = rng(what.length * 7919);
      for (let i = 0; i < 200; i++) {
        const pw = password(next, alphabet);
        const text = shape(pw);
        const out = redactText(text);
        expect(out, text).to.not.include(pw);
        expect(out, text).to.not.include(encodeURIComponent(pw));
        expect(out, text).to.include('***');
        expect(redactText(out)).to.equal(out);
        const wrapped = redactError(new Error(`wrapped: ${text}`));
        expect(wrapped).to.not.include(pw);
        expect(wrapped).to.not.include(encodeURIComponent(pw));
      }
    });
  }

  it('keeps what identifies the node: user, host, port and database stay readable', () => {
    expect(redactText('postgres://app:S3cret@db.internal:5432/app')).to.equal('postgres://app:***@db.internal:5432/app');
    expect(redactText('app:S3cret@db.internal:5432/app')).to.equal('app:***@db.internal:5432/app');
    expect(redactText("host=db password='a b' user=app")).to.equal("host=db password='***' user=app");
    expect(JSON.parse(redactText(JSON.stringify({ host: 'db', password: 'S3cret' })))).to.deep.equal({ host: 'db', password: '***' });
    expect(redactText('postgres://u1:p1@h1/db,postgres://u2:p2@h2/db')).to.equal('postgres://u1:***@h1/db,postgres://u2:***@h2/db');
  });

  it('leaves text without credentials alone', () => {
    for (const text of ['postgres://app@db/app', 'relation "users" does not exist', 'password authentication failed for user "app"',
      'connect ECONNREFUSED 127.0.0.1:5432', 'node r1:5433 is down', '[::1]:5432']) {
      expect(redactText(text)).to.equal(text);
    }
  });

  it('copies connection objects with every password-like key hidden, at any depth and in any case, without mutating them', () => {
    const next = rng(42);
    for (let i = 0; i < 100; i++) {
      const pw = password(next, PRINTABLE);
      const key = ['password', 'PASSWORD', 'Password', 'sslpassword', 'passphrase'][i % 5]!;
      const conn = {
        host: 'db', [key]: pw, connectionString: `postgres://u:${encodeURIComponent(pw)}@db/app`,
        ssl: { key: `-----BEGIN PRIVATE KEY-----${pw}`, passphrase: pw, ca: 'CA' }, replicas: [{ password: pw }], provider: () => pw,
      };
      const before = JSON.stringify(conn);
      const shown = JSON.stringify(redactConnection(conn));
      expect(shown).to.not.include(pw);
      expect(shown).to.not.include(encodeURIComponent(pw));
      expect(shown).to.include('"host":"db"').and.include('"ca":"CA"');
      expect(JSON.stringify(conn)).to.equal(before);
      expect(JSON.stringify(redact(conn))).to.equal(shown);
    }
  });

  it('survives cycles and non-plain values', () => {
    const a: Record<string, unknown> = { password: 'Qzcycle', n: 1n === 1n ? 1 : 0 };
    a.self = a;
    expect(JSON.stringify((redactConnection(a) as Record<string, unknown>).password)).to.equal('"***"');
    expect(redact(new Error('x postgres://u:Qzerr@h/db'))).to.equal('x postgres://u:***@h/db');
    expect(redactError({ password: 'Qzobj' })).to.not.include('Qzobj');
  });
});

describe('redaction at the output points', () => {
  const base = { client: 'pg', connection: 'postgres://app@p:5432/app' };

  it('debug lines: every argument, formatted, goes through the redaction to the log debug.log is at the time', () => {
    const lines: string[] = [];
    const log = createDebug.log;
    const enabled = createDebug.disable();
    createDebug.log = (...args: unknown[]) => { lines.push(args.join(' ')); };
    try {
      createDebug.enable('split-knex:test-redact');
      const debug = debugLogger('split-knex:test-redact');
      debug('poll failed: %s', 'cannot renew postgres://app:S3cret@db/app');
      debug('as an object: %o', { connectionString: 'postgres://app:S3cret@db/app' }, 'extra password=S3cret');
    } finally {
      createDebug.log = log;
      createDebug.disable();
      if (enabled !== '') createDebug.enable(enabled);
    }
    expect(lines).to.have.length(2);
    expect(lines.join('\n')).to.include('postgres://app:***@db/app').and.not.include('S3cret');
  });

  it('SQL in events: a statement that may hold a credential is redacted, any other is shown as written', () => {
    expect(sqlShown("alter role app with encrypted password 'S3cret'")).to.equal("alter role app with encrypted password '***'");
    expect(sqlShown("select dblink_connect('host=db user=app password=S3cret')")).to.not.include('S3cret');
    expect(sqlShown("select * from dblink('postgres://app:S3cret@db/app', 'select 1')")).to.not.include('S3cret');
    const plain = 'select * from "users" where "id" = ? and "email" = ?';
    expect(sqlShown(plain)).to.equal(plain);
  });

  it("knex's logger: every message split-knex writes is redacted before the user's log sees it", () => {
    const seen: unknown[] = [];
    const logger = redactingLogger({ warn: (m) => seen.push(m), debug: (m) => seen.push(m) });
    logger.warn('cannot read the position: password=S3cret refused');
    logger.debug({ connection: { password: 'S3cret', host: 'db' } });
    expect(seen).to.deep.equal(['cannot read the position: password=*** refused', { connection: { password: '***', host: 'db' } }]);
  });

  function assertHidden(err: SplitKnexError, pw: string): void {
    expect(err.message).to.not.include(pw);
    expect(err.stack ?? '').to.not.include(pw);
    expect(JSON.stringify(err)).to.not.include(pw);
    expect(inspect(err)).to.not.include(pw);
  }

  it('a scheme-less replica URL never puts its password in the ESPLIT_CONFIG message, stack or JSON', () => {
    const err = configError(() => normalizeConfig({ ...base, replicas: ['app:S3cret@host:5432/db'] }));
    expect(err.message).to.include('"replicas[0]"');
    expect(err.message).to.include('app:***@host:5432/db');
    assertHidden(err, 'S3cret');
  });

  it('no config error shows a password, whatever shape carried it', () => {
    const next = rng(7);
    for (let i = 0; i < 50; i++) {
      const pw = password(next, URL_SAFE);
      const configs: unknown[] = [
        { ...base, replicas: [`app:${pw}@h/db`] },
        { ...base, replicas: [{ name: 'x', conection: `postgres://u:${pw}@h/db` }] },
        { ...base, replicas: [{ host: 'h', pasword: pw }] },
        { ...base, replicas: [{ name: 'x', connection: `host=h password=${pw}`, password: pw }] },
        { ...base, replicas: [`mysql://u:${pw}@h/db`] },
        { ...base, replicas: 42, conection: `postgres://u:${pw}@h/db` },
        { ...base, connection: { host: 'h', passwrod: pw } },
        { ...base, cache: { max: 1, ttlMs: 1, listenConnection: `x:${pw}@h` }, routing: { strategy: `postgres://u:${pw}@h` } },
      ];
      for (const c of configs) assertHidden(configError(() => normalizeConfig(c as SplitKnexConfig)), pw);
    }
  });

  it('SplitKnexError redacts any message given to it, and configError hides password-like keys', () => {
    assertHidden(new SplitKnexError('ESPLIT_PRIMARY_DOWN', 'cannot reach postgres://app:Qzpw1@p/app'), 'Qzpw1');
    assertHidden(makeConfigError('connection.password', 'Qzpw2', 'must be a string'), 'Qzpw2');
    assertHidden(makeConfigError('connection', { host: 'h', password: 'Qzpw3' }, 'must be valid'), 'Qzpw3');
  });

  it('node names derived from connections never carry a password', () => {
    const next = rng(99);
    for (let i = 0; i < 200; i++) {
      const pw = password(next, URL_SAFE);
      for (const conn of [`postgres://app:${pw}@r1:5433/app`, `app:${pw}@r1:5433/app`, `postgres://app:${pw}@x@r1:5433/app`,
        `host=r1 port=5433 password=${pw}`, { connectionString: `app:${pw}@r1:5433/app` }, { host: `u:${pw}@r1` }]) {
        const label = connectionLabel(conn, 0);
        expect(label, JSON.stringify(conn)).to.not.include(pw);
        expect(['r1:5433', 'replica1']).to.include(label);
      }
    }
  });
});
