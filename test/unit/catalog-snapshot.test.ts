import { expect } from 'chai';
import { CatalogSnapshot, LiveCatalog, type CatalogRows } from '../../lib/catalog';
import { classifySql } from '../../lib/classify';

// pg type OIDs as proargtypes spells them: 23 int4, 25 text.
function rows(extra: Partial<CatalogRows> = {}): CatalogRows {
  return {
    role: 'alice',
    schemas: ['pg_catalog', 'app', 'public'],
    functions: [
      { schema: 'app', name: 'slugify', args: '25', volatility: 'i' },
      { schema: 'app', name: 'audit', args: '', volatility: 'v' },
      { schema: 'app', name: 'total', args: '23', volatility: 's' },
      { schema: 'app', name: 'mixed', args: '23', volatility: 'i' },
      { schema: 'app', name: 'mixed', args: '25', volatility: 'v' },
      { schema: 'app', name: 'masked', args: '23', volatility: 's' },
      { schema: 'public', name: 'masked', args: '23', volatility: 'v' },
      { schema: 'public', name: 'spread', args: '23', volatility: 's' },
      { schema: 'app', name: 'spread', args: '25', volatility: 'v' },
      { schema: 'tools', name: 'hidden', args: '', volatility: 's' },
      { schema: 'alice', name: 'mine', args: '', volatility: 's' },
    ],
    relations: [
      { schema: 'public', name: 'sessions', persistence: 'u' },
      { schema: 'public', name: 'sessions_view', persistence: 'p' },
      { schema: 'tools', name: 'scratch', persistence: 'u' },
      { schema: 'pg_temp_3', name: 'tmp_import', persistence: 't' },
    ],
    ...extra,
  };
}

describe('CatalogSnapshot', () => {
  const snap = new CatalogSnapshot(rows());

  it('answers a schema-qualified function by the most dangerous volatility of its overloads', () => {
    expect(snap.functionVolatility('slugify', 'app')).to.equal('immutable');
    expect(snap.functionVolatility('total', 'app')).to.equal('stable');
    expect(snap.functionVolatility('audit', 'app')).to.equal('volatile');
    expect(snap.functionVolatility('mixed', 'app')).to.equal('volatile');
    expect(snap.functionVolatility('hidden', 'tools')).to.equal('stable');
    expect(snap.functionVolatility('nope', 'app')).to.equal(undefined);
    expect(snap.functionVolatility('slugify', 'public')).to.equal(undefined);
  });

  it('resolves a bare function through the search_path, and not outside it', () => {
    expect(snap.functionVolatility('slugify')).to.equal('immutable');
    expect(snap.functionVolatility('hidden')).to.equal(undefined);
    expect(snap.functionVolatility('mine')).to.equal(undefined);
  });

  it('masks an overload with the same argument types in a later schema, as PostgreSQL does', () => {
    // app.masked(int) hides public.masked(int): the volatile one can never be called bare.
    expect(snap.functionVolatility('masked')).to.equal('stable');
    expect(snap.functionVolatility('masked', 'public')).to.equal('volatile');
  });

  it('counts every overload a bare call could pick across schemas: the most dangerous wins', () => {
    // public.spread(int) and app.spread(text) are both candidates for spread(x).
    expect(snap.functionVolatility('spread')).to.equal('volatile');
  });

  it('honours a configured searchPath, expanding $user to the role, pg_catalog implicitly first', () => {
    const custom = new CatalogSnapshot(rows(), ['$user', 'tools']);
    expect(custom.searchPath).to.deep.equal(['pg_catalog', 'alice', 'tools']);
    expect(custom.functionVolatility('mine')).to.equal('stable');
    expect(custom.functionVolatility('hidden')).to.equal('stable');
    expect(custom.functionVolatility('slugify')).to.equal(undefined);
  });

  it('lets pg_catalog shadow a user function of the same signature when it comes first', () => {
    const s = new CatalogSnapshot(rows({
      functions: [
        { schema: 'pg_catalog', name: 'lower', args: '25', volatility: 'i' },
        { schema: 'app', name: 'lower', args: '25', volatility: 'v' },
      ],
    }));
    expect(s.functionVolatility('lower')).to.equal('immutable');
    const late = new CatalogSnapshot(rows({ schemas: ['app', 'pg_catalog'], functions: [
      { schema: 'pg_catalog', name: 'lower', args: '25', volatility: 'i' },
      { schema: 'app', name: 'lower', args: '25', volatility: 'v' },
    ] }));
    expect(late.functionVolatility('lower')).to.equal('volatile');
  });

  it('knows unlogged relations qualified, bare on the path, and anything temporary', () => {
    expect(snap.isUnloggedRelation('sessions', 'public')).to.equal(true);
    expect(snap.isUnloggedRelation('sessions')).to.equal(true);
    expect(snap.isUnloggedRelation('sessions_view')).to.equal(true);
    expect(snap.isUnloggedRelation('sessions', 'app')).to.equal(false);
    expect(snap.isUnloggedRelation('scratch', 'tools')).to.equal(true);
    expect(snap.isUnloggedRelation('scratch')).to.equal(false);
    expect(snap.isUnloggedRelation('users')).to.equal(false);
    expect(snap.isUnloggedRelation('tmp_import')).to.equal(true);
    expect(snap.isUnloggedRelation('anything', 'pg_temp')).to.equal(true);
    expect(snap.isUnloggedRelation('x', 'pg_temp_12')).to.equal(true);
    expect([snap.functionCount, snap.relationCount]).to.deep.equal([10, 4]);
  });

  it('has equal fingerprints for equal answers whatever the row order, different ones otherwise', () => {
    const r = rows();
    const reversed = new CatalogSnapshot({ ...r, functions: [...r.functions].reverse(), relations: [...r.relations].reverse() });
    expect(reversed.fingerprint).to.equal(snap.fingerprint);
    const changed = new CatalogSnapshot({ ...r, functions: r.functions.map((f) => (f.name === 'total' ? { ...f, volatility: 'v' } : f)) });
    expect(changed.fingerprint).to.not.equal(snap.fingerprint);
  });
});

describe('LiveCatalog with the classifier', () => {
  it('turns calls of known STABLE/IMMUTABLE functions into replica reads, volatile and unknown ones into primary', () => {
    const live = new LiveCatalog();
    expect(classifySql('select app.total(1)', { catalog: live }).target).to.equal('primary');
    live.install(new CatalogSnapshot(rows()), 0);
    expect(live.version).to.equal(1);
    expect(classifySql('select app.total(1), slugify(name) from users', { catalog: live }).target).to.equal('replica');
    expect(classifySql('select app.audit()', { catalog: live }).target).to.equal('primary');
    expect(classifySql('select mixed(1)', { catalog: live }).target).to.equal('primary');
    expect(classifySql('select hidden()', { catalog: live }).target).to.equal('primary');
    expect(classifySql('select * from sessions', { catalog: live }).target).to.equal('primary');
    expect(classifySql('select * from public.sessions where false', { catalog: live }).reason).to.include('unlogged');
    // The built-in write list wins over any catalog answer.
    expect(classifySql("select nextval('s')", { catalog: live }).target).to.equal('primary');
  });

  it('bumps the version only when the answers change, and counts the classifications it decided', () => {
    const live = new LiveCatalog();
    live.install(new CatalogSnapshot(rows()), 0);
    live.install(new CatalogSnapshot(rows()), 10);
    expect([live.version, live.loadedAt]).to.deep.equal([1, 10]);
    live.install(new CatalogSnapshot(rows({ relations: [] })), 20);
    expect(live.version).to.equal(2);
    const run = (sql: string) => live.observe(() => classifySql(sql, { catalog: live }));
    run('select app.total(1)');           // replica thanks to the catalog
    run('select app.audit()');            // primary either way: not counted
    run('select 1');                      // no catalog question
    run('select app.total(1) for update'); // primary for the lock: not counted
    expect(live.routes).to.deep.equal({ replica: 1, primary: 0 });
    live.install(new CatalogSnapshot(rows()), 30);
    run('select * from sessions');
    expect(live.routes).to.deep.equal({ replica: 1, primary: 1 });
  });
});

describe('CatalogSnapshot sequences (a standby holds their state ahead of the primary)', () => {
  const withSequences = rows({
    sequences: [
      { schema: 'public', name: 'users_id_seq' },
      { schema: 'app', name: 'invoice_numbers' },
      { schema: 'public', name: 'invoice_view' },
      { schema: 'tools', name: 'ticket_no' },
    ],
  });
  const snap = new CatalogSnapshot(withSequences);

  it('knows sequences qualified, and bare when a schema of the search_path has one of that name', () => {
    expect(snap.isSequence('users_id_seq', 'public')).to.equal(true);
    expect(snap.isSequence('users_id_seq')).to.equal(true);
    expect(snap.isSequence('invoice_numbers')).to.equal(true);
    expect(snap.isSequence('invoice_view')).to.equal(true);
    expect(snap.isSequence('ticket_no', 'tools')).to.equal(true);
    expect(snap.isSequence('ticket_no')).to.equal(false);
    expect(snap.isSequence('users_id_seq', 'app')).to.equal(false);
    expect(snap.isSequence('users')).to.equal(false);
    expect(snap.sequenceCount).to.equal(4);
  });

  it('changes its fingerprint when the sequences change, and loads rows without any', () => {
    expect(snap.fingerprint).to.not.equal(new CatalogSnapshot(rows()).fingerprint);
    expect(new CatalogSnapshot(rows()).isSequence('users_id_seq')).to.equal(false);
  });

  it('routes reads of a catalog-known sequence to the primary and counts them as catalog decisions', () => {
    const live = new LiveCatalog();
    live.install(snap, 0);
    const run = (sql: string) => live.observe(() => classifySql(sql, { catalog: live }));
    expect(run('select last_value from invoice_numbers').reason).to.equal(
      "sequence invoice_numbers: a standby's sequence state is ahead of the primary",
    );
    expect(run('select * from app.invoice_numbers').target).to.equal('primary');
    expect(run('select last_value from invoice_view').target).to.equal('primary');
    expect(live.routes).to.deep.equal({ replica: 0, primary: 3 });
  });

  it('with the catalog, a table merely named *_seq stays on a replica', () => {
    const live = new LiveCatalog();
    live.install(new CatalogSnapshot(rows({ sequences: [] })), 0);
    expect(classifySql('select * from dna_seq', { catalog: live }).target).to.equal('replica');
    expect(classifySql('select * from dna_seq').target).to.equal('primary');
  });
});
