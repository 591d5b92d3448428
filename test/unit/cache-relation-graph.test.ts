import { expect } from 'chai';
import { RelationGraph, type RelationRow } from '../../lib/cache/relation-graph';

function rel(oid: string, schema: string, name: string, extra: Partial<RelationRow> = {}): RelationRow {
  return { oid, schema, name, kind: 'r', rls: false, triggers: false, rules: false, opaque: false, parents: [], cascades: [], reads: [], ...extra };
}

describe('cache relation graph', () => {
  const rows: RelationRow[] = [
    rel('1', 'public', 'users', { cascades: ['2'] }),
    rel('2', 'public', 'posts', { cascades: ['3'] }),
    rel('3', 'public', 'comments'),
    rel('4', 'public', 'user_posts', { kind: 'v', reads: ['1', '2'] }),
    rel('5', 'app', 'users'),
    rel('6', 'public', 'events', { kind: 'p' }),
    rel('7', 'public', 'events_2024', { parents: ['6'] }),
    rel('8', 'public', 'audited', { triggers: true }),
    rel('9', 'public', 'tenant_rows', { rls: true }),
    rel('10', 'public', 'remote', { kind: 'f' }),
    rel('11', 'public', 'ids', { kind: 'S' }),
    rel('12', 'pg_catalog', 'pg_class'),
    rel('13', 'public', 'clocked', { kind: 'v', reads: ['1'], opaque: true }),
    rel('14', 'public', 'Mixed Case'),
    rel('15', 'public', 'posts_by_tenant', { kind: 'v', reads: ['2', '9'] }),
  ];
  const graph = new RelationGraph(rows, ['pg_catalog', 'public']);
  const ref = (display: string) => {
    const parts = display.split('.');
    return parts.length === 2 ? { schema: parts[0], name: parts[1]!, display } : { schema: undefined, name: display, display };
  };

  it('resolves "users", public.users and quoted names to one tag, on the search path', () => {
    expect(graph.readTags([ref('users')], false)).to.deep.equal({ tags: ['public.users'] });
    expect(graph.readTags([ref('public.users')], false)).to.deep.equal({ tags: ['public.users'] });
    expect(graph.readTags([ref('app.users')], false)).to.deep.equal({ tags: ['app.users'] });
    expect(graph.readTags([ref('Mixed Case')], false)).to.deep.equal({ tags: ['public.Mixed Case'] });
    const appFirst = new RelationGraph(rows, ['pg_catalog', 'app', 'public']);
    expect(appFirst.readTags([ref('users')], false)).to.deep.equal({ tags: ['app.users'] });
  });

  it('tags a view read with the base tables it reads', () => {
    expect(graph.readTags([ref('user_posts')], false)).to.deep.equal({ tags: ['public.posts', 'public.users'] });
  });

  it('refuses what it cannot invalidate: unknown, system, foreign, sequences, opaque views, RLS without scope', () => {
    expect(graph.readTags([ref('nope')], false)).to.deep.include({ unknown: true });
    expect(graph.readTags([ref('pg_class')], false).refusal).to.match(/system relation/);
    expect(graph.readTags([ref('remote')], false).refusal).to.match(/foreign table/);
    expect(graph.readTags([ref('ids')], false).refusal).to.match(/sequence/);
    expect(graph.readTags([ref('clocked')], false).refusal).to.match(/not immutable/);
    expect(graph.readTags([ref('tenant_rows')], false).refusal).to.match(/row-level security .* needs cache.scope/);
    expect(graph.readTags([ref('posts_by_tenant')], false).refusal).to.match(/row-level security/);
    expect(graph.readTags([ref('tenant_rows')], true)).to.deep.equal({ tags: ['public.tenant_rows'] });
  });

  it('invalidates through cascading foreign keys, transitively', () => {
    expect(graph.writeTags(['users'], false)).to.deep.equal(['public.comments', 'public.posts', 'public.users']);
    expect(graph.writeTags(['comments'], false)).to.deep.equal(['public.comments']);
  });

  it('invalidates partition parents and children both ways', () => {
    expect(graph.writeTags(['events_2024'], false)).to.deep.equal(['public.events', 'public.events_2024']);
    expect(graph.writeTags(['public.events'], false)).to.deep.equal(['public.events', 'public.events_2024']);
  });

  it('writes through a view invalidate its tables', () => {
    expect(graph.writeTags(['user_posts'], false)).to.deep.equal(['public.comments', 'public.posts', 'public.users']);
  });

  it('clears everything for triggers (unless trusted) and unknown tables', () => {
    expect(graph.writeTags(['audited'], false)).to.equal(undefined);
    expect(graph.writeTags(['audited'], true)).to.deep.equal(['public.audited']);
    expect(graph.writeTags(['ghost'], false)).to.equal(undefined);
  });

  it('has a fingerprint that changes with anything invalidation relies on', () => {
    const same = new RelationGraph(rows.map((r) => ({ ...r })), ['pg_catalog', 'public']);
    expect(same.fingerprint).to.equal(graph.fingerprint);
    const moreCascades = new RelationGraph(rows.map((r) => (r.oid === '3' ? { ...r, cascades: ['1'] } : r)), ['pg_catalog', 'public']);
    expect(moreCascades.fingerprint).to.not.equal(graph.fingerprint);
    const trigger = new RelationGraph(rows.map((r) => (r.oid === '3' ? { ...r, triggers: true } : r)), ['pg_catalog', 'public']);
    expect(trigger.fingerprint).to.not.equal(graph.fingerprint);
  });
});
