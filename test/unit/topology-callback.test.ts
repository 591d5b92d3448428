import { expect } from 'chai';
import { EventEmitter } from 'node:events';
import { callbackTopology } from '../../lib/topology/callback-topology';
import { checkTopology } from '../../lib/topology/check-topology';
import { watchHotStandby } from '../../lib/topology/hot-standby-watch';
import { TopologyError } from '../../lib/topology/topology-error';

describe('topology: callbackTopology and checkTopology', () => {
  it("calls the user's function on each read and accepts a topology or a bare member list", async () => {
    let calls = 0;
    const source = callbackTopology(async () => {
      calls++;
      return [{ name: 'a', host: 'db-a', port: 5432, role: 'primary' as const, state: 'running' }];
    });
    expect(source.kind).to.equal('callback');
    expect((await source.read()).members).to.deep.equal([{ name: 'a', host: 'db-a', port: 5432, role: 'primary', state: 'running' }]);
    await source.read();
    expect(calls).to.equal(2);
    const sync = callbackTopology(() => ({ members: [{ name: 'b', host: 'db-b', port: 5433, role: 'replica', state: 'streaming', lagBytes: 12, timeline: 2 }] }));
    expect((await sync.read()).members[0]).to.deep.equal({ name: 'b', host: 'db-b', port: 5433, role: 'replica', state: 'streaming', lagBytes: 12, timeline: 2 });
  });

  it("wraps a throwing callback as ESPLIT_TOPOLOGY with the original as cause, without copying its message", async () => {
    const original = new Error('cannot reach postgres://app:hunter2@db/app');
    const err = await callbackTopology(() => { throw original; }).read().then(() => undefined, (e: unknown) => e as TopologyError);
    expect(err?.code).to.equal('ESPLIT_TOPOLOGY');
    expect(err?.cause).to.equal(original);
    expect(err?.message).to.not.include('hunter2');
  });

  it('rejects members it cannot route to, naming the member and key and never echoing a string value', () => {
    const cases: Array<[unknown, string]> = [
      [{ nodes: [] }, 'must be { members: [...] } or an array of members; got an object'],
      [[{ host: 'h', port: 1, role: 'primary' }], "member 0 needs a non-empty string \"name\"; got undefined"],
      [[{ name: 'a', host: '', port: 1, role: 'primary' }], 'member "a" of the callback topology needs a non-empty string "host"; got a string'],
      [[{ name: 'a', host: 'h', port: 70000, role: 'replica' }], 'needs an integer "port" in 1–65535; got 70000'],
      [[{ name: 'a', host: 'h', port: '5432', role: 'replica' }], 'needs an integer "port" in 1–65535; got a string'],
      [[{ name: 'a', host: 'h', port: 1, role: 'leader' }], `needs "role" 'primary' or 'replica'; got "leader"`],
      [[{ name: 'a', host: 'h', port: 1, role: 'replica', lagBytes: -1 }], 'needs "lagBytes" >= 0 when set; got -1'],
      [[{ name: 'a', host: 'h', port: 1, role: 'replica', timeline: 0 }], 'needs an integer "timeline" >= 1 when set; got 0'],
      [[{ name: 'a', host: 'h', port: 1, role: 'replica' }, { name: 'a', host: 'h', port: 2, role: 'replica' }], 'lists member "a" twice'],
      [[{ name: 'a', host: 'h', port: 1, role: 'primary' }, { name: 'b', host: 'h', port: 2, role: 'primary' }], 'reports 2 primaries (a, b)'],
    ];
    for (const [value, message] of cases) {
      expect(() => checkTopology(value, 'callback'), message).to.throw(TopologyError, message);
    }
    expect(() => checkTopology([{ name: 'a', host: 'postgres://u:hunter2@h', port: 'x', role: 'primary' }], 'callback')).to.throw(TopologyError).that.satisfies((e: Error) => !e.message.includes('hunter2'));
  });

  it('defaults a missing state to running (primary) or streaming (replica)', () => {
    const { members } = checkTopology([{ name: 'a', host: 'h', port: 1, role: 'primary' }, { name: 'b', host: 'h', port: 2, role: 'replica' }], 'callback');
    expect(members.map((m) => m.state)).to.deep.equal(['running', 'streaming']);
  });

  it('keeps planned stops a callback announces (a scheduled switchover), checked like members', () => {
    const members = [{ name: 'a', host: 'h', port: 1, role: 'primary' }, { name: 'b', host: 'h', port: 2, role: 'replica' }];
    const at = '2026-12-07T12:00:00Z';
    const t = checkTopology({ members, plannedStops: [{ member: 'a', at, reason: 'switchover to b' }, { member: 'b' }] }, 'callback');
    expect(t.plannedStops).to.deep.equal([{ member: 'a', at: Date.parse(at), reason: 'switchover to b' }, { member: 'b', reason: 'announced by the topology source' }]);
    expect(() => checkTopology({ members, plannedStops: [{ member: 'c' }] }, 'callback')).to.throw(TopologyError, /"member": the name of a listed member; got a name not listed/);
    expect(() => checkTopology({ members, plannedStops: [{ member: 'a', at: 'soon' }] }, 'callback')).to.throw(TopologyError, /"at" as epoch ms/);
    expect(() => checkTopology({ members, plannedStops: {} }, 'callback')).to.throw(TopologyError, /must be an array/);
    expect(checkTopology({ members }, 'callback')).to.not.have.property('plannedStops');
  });
});

/** A stand-in for pg.Client: a protocol connection that emits parameterStatus, and SHOW. */
function fakeSession(show: string | Error) {
  const connection = new EventEmitter();
  const client = {
    connection,
    queries: [] as string[],
    async query(sql: string) {
      client.queries.push(sql);
      if (show instanceof Error) throw show;
      return { rows: [{ in_hot_standby: show }] };
    },
  };
  const status = (value: string) => connection.emit('parameterStatus', { parameterName: 'in_hot_standby', parameterValue: value });
  return { client, connection, status };
}

describe('topology: watchHotStandby (protocol logic; the server side is in test/integration)', () => {
  it('reports the current value once, then only real changes, and nothing after stop()', async () => {
    const s = fakeSession('on');
    const seen: Array<[boolean, boolean | undefined]> = [];
    const watch = await watchHotStandby(s.client, (v, was) => seen.push([v, was]));
    expect(watch.current).to.equal(true);
    s.status('on');
    s.connection.emit('parameterStatus', { parameterName: 'TimeZone', parameterValue: 'UTC' });
    s.status('off');
    expect(seen).to.deep.equal([[true, undefined], [false, true]]);
    expect(watch.current).to.equal(false);
    watch.stop();
    s.status('on');
    expect(seen).to.have.length(2);
    expect(s.connection.listenerCount('parameterStatus')).to.equal(0);
  });

  it('rejects on a server without in_hot_standby (PostgreSQL < 14) and on a client without a protocol connection', async () => {
    const old = fakeSession(Object.assign(new Error('unrecognized configuration parameter "in_hot_standby"'), { code: '42704' }));
    const err = await watchHotStandby(old.client, () => undefined).then(() => undefined, (e: unknown) => e as TopologyError);
    expect(err?.message).to.equal('split-knex: SHOW in_hot_standby failed (PostgreSQL >= 14 is needed; see cause)');
    expect(old.connection.listenerCount('parameterStatus')).to.equal(0);
    const native = { query: async () => ({ rows: [] }) };
    const err2 = await watchHotStandby(native, () => undefined).then(() => undefined, (e: unknown) => e as TopologyError);
    expect(err2?.code).to.equal('ESPLIT_TOPOLOGY');
  });
});
