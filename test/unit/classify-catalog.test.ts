import { expect } from 'chai';
import { classifySql, SqlClassifier, type FunctionCatalog, type FunctionVolatility } from '../../lib/classify';

// A FunctionCatalog fake that records what it was asked.
function fakeCatalog(
  volatility: Record<string, FunctionVolatility>,
  unlogged: string[] = [],
  version?: number,
): FunctionCatalog & { functionCalls: string[]; relationCalls: string[] } {
  const functionCalls: string[] = [];
  const relationCalls: string[] = [];
  return {
    functionCalls,
    relationCalls,
    ...(version === undefined ? {} : { version }),
    functionVolatility(name: string, schema?: string) {
      const key = schema === undefined ? name : `${schema}.${name}`;
      functionCalls.push(key);
      return volatility[key];
    },
    isUnloggedRelation(name: string, schema?: string) {
      const key = schema === undefined ? name : `${schema}.${name}`;
      relationCalls.push(key);
      return unlogged.includes(key);
    },
  };
}

describe('SqlClassifier with a FunctionCatalog', () => {
  it('clears stable and immutable functions and rejects volatile ones', () => {
    const catalog = fakeCatalog({ 'app.slugify': 'immutable', 'app.now_utc': 'stable', 'app.touch': 'volatile' });
    const classifier = new SqlClassifier();
    expect(classifier.classify('select app.slugify(x), app.now_utc() from t', { catalog }).target).to.equal(
      'replica',
    );
    expect(classifier.classify('select app.touch(1)', { catalog }).reason).to.equal('volatile function app.touch');
    expect(classifier.classify('select app.unknown(1)', { catalog }).reason).to.equal('unknown function app.unknown');
  });

  it('asks with the name and schema as written', () => {
    const catalog = fakeCatalog({ slugify: 'immutable' });
    classifySql('select slugify(a), app."Mixed"(b) from t', { catalog });
    expect(catalog.functionCalls).to.deep.equal(['slugify', 'app.Mixed']);
  });

  it('never lets the catalog clear a built-in write function', () => {
    const catalog = fakeCatalog({ nextval: 'stable' });
    expect(classifySql("select nextval('s')", { catalog }).target).to.equal('primary');
  });

  it('keeps built-in read-only functions on a replica even when pg_proc calls them volatile', () => {
    const catalog = fakeCatalog({ random: 'volatile', pg_is_in_recovery: 'volatile' });
    expect(classifySql('select random(), pg_is_in_recovery()', { catalog }).target).to.equal('replica');
  });

  it('sends reads of unlogged or temporary relations to the primary', () => {
    const catalog = fakeCatalog({}, ['session_cache', 'app.scratch']);
    expect(classifySql('select * from session_cache', { catalog }).reason).to.equal(
      'unlogged or temporary relation session_cache',
    );
    expect(classifySql('select * from app.scratch', { catalog }).target).to.equal('primary');
    expect(classifySql('select * from users', { catalog }).target).to.equal('replica');
    expect(catalog.relationCalls).to.include.members(['session_cache', 'app.scratch', 'users']);
  });

  it('treats a throwing catalog as a reason for the primary', () => {
    const catalog: FunctionCatalog = {
      functionVolatility() {
        throw new Error('catalog offline');
      },
      isUnloggedRelation() {
        throw new Error('catalog offline');
      },
    };
    expect(classifySql('select app.f()', { catalog }).reason).to.equal('catalog lookup failed for function app.f');
    expect(classifySql('select * from users', { catalog }).reason).to.equal(
      'catalog lookup failed for relation users',
    );
  });

  it('asks an unversioned catalog on every call', () => {
    const catalog = fakeCatalog({ 'app.f': 'stable' });
    const classifier = new SqlClassifier();
    classifier.classify('select app.f()', { catalog });
    classifier.classify('select app.f()', { catalog });
    expect(catalog.functionCalls).to.have.length(2);
    expect(classifier.memoized).to.equal(0);
  });

  it('memoizes per catalog version', () => {
    const catalog = fakeCatalog({ 'app.f': 'stable' }, [], 1);
    const classifier = new SqlClassifier();
    classifier.classify('select app.f()', { catalog });
    classifier.classify('select app.f()', { catalog });
    expect(catalog.functionCalls).to.have.length(1);

    const bumped = { ...catalog, version: 2 };
    classifier.classify('select app.f()', { catalog: bumped });
    expect(catalog.functionCalls).to.have.length(2);
  });

  it('does not share memo entries between two catalogs at the same version', () => {
    const classifier = new SqlClassifier();
    const stable = fakeCatalog({ 'app.f': 'stable' }, [], 1);
    const volatile = fakeCatalog({ 'app.f': 'volatile' }, [], 1);
    expect(classifier.classify('select app.f()', { catalog: stable }).target).to.equal('replica');
    expect(classifier.classify('select app.f()', { catalog: volatile }).target).to.equal('primary');
  });
});
