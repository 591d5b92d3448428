import { expect } from 'chai';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PatroniTopology, topologyFromPatroniCluster } from '../../lib/topology/patroni-topology';
import { TopologyError } from '../../lib/topology/topology-error';
import { configError } from '../support/expect-config-error';

// `GET /cluster` bodies recorded from Patroni 3.0.2 + etcd 3.4 (the Patroni test lane and
// the reference measurements), one per situation the source must map.
const RECORDED = {
  healthy: {
    members: [
      { name: 'n1', role: 'leader', state: 'running', api_url: 'http://127.0.0.1:26851/patroni', host: '127.0.0.1', port: 26850, timeline: 1 },
      { name: 'n2', role: 'replica', state: 'running', api_url: 'http://127.0.0.1:20757/patroni', host: '127.0.0.1', port: 20756, timeline: 1, lag: 0 },
      { name: 'n3', role: 'replica', state: 'creating replica', api_url: 'http://127.0.0.1:28565/patroni', host: '127.0.0.1', port: 28564, lag: 'unknown' },
    ],
  },
  // 5 s after SIGKILL of n1: its key expired, n2 leads timeline 2, n3 still replays timeline 1.
  afterFailover: {
    members: [
      { name: 'n2', role: 'leader', state: 'running', api_url: 'http://127.0.0.1:28009/patroni', host: '127.0.0.1', port: 28433, timeline: 2 },
      { name: 'n3', role: 'replica', state: 'running', api_url: 'http://127.0.0.1:28010/patroni', host: '127.0.0.1', port: 28434, timeline: 1, lag: 2640 },
    ],
  },
  // Mid-switchover: the old leader is stopping, nobody else leads yet; n3 restarting.
  switchover: {
    members: [
      { name: 'n1', role: 'leader', state: 'stopping', api_url: 'http://127.0.0.1:28008/patroni', host: '127.0.0.1', port: 28432 },
      { name: 'n2', role: 'replica', state: 'running', api_url: 'http://127.0.0.1:28009/patroni', host: '127.0.0.1', port: 28433, timeline: 4, lag: 0 },
      { name: 'n3', role: 'replica', state: 'stopped', api_url: 'http://127.0.0.1:28010/patroni', host: '127.0.0.1', port: 28434, lag: 'unknown' },
    ],
    scheduled_switchover: { at: '2026-01-01T00:00:00+00:00', from: 'n1', to: 'n2' },
  },
  // Synchronous mode and a standby cluster's leader; `pause` and `tags` appear only when set.
  syncAndStandbyLeader: {
    members: [
      { name: 'a', role: 'leader', state: 'running', host: '10.0.0.1', port: 5432, timeline: 7, tags: { nofailover: false } },
      { name: 'b', role: 'sync_standby', state: 'running', host: '10.0.0.2', port: 5432, timeline: 7, lag: 0 },
      { name: 'c', role: 'standby_leader', state: 'running', host: '10.0.1.1', port: 5432, timeline: 7 },
    ],
    pause: true,
  },
};

describe('topology: Patroni /cluster mapping', () => {
  it('maps the leader to primary and replicas to replica, with lag in bytes and timelines; "unknown" lag and a missing timeline stay absent', () => {
    expect(topologyFromPatroniCluster(RECORDED.healthy).members).to.deep.equal([
      { name: 'n1', host: '127.0.0.1', port: 26850, role: 'primary', state: 'running', timeline: 1 },
      { name: 'n2', host: '127.0.0.1', port: 20756, role: 'replica', state: 'running', lagBytes: 0, timeline: 1 },
      { name: 'n3', host: '127.0.0.1', port: 28564, role: 'replica', state: 'creating replica' },
    ]);
  });

  it('reports the promoted member as primary after a failover, and a replica still on the old timeline with its lag', () => {
    const { members } = topologyFromPatroniCluster(RECORDED.afterFailover);
    expect(members.find((m) => m.role === 'primary')).to.include({ name: 'n2', port: 28433, timeline: 2 });
    expect(members.find((m) => m.name === 'n3')).to.include({ role: 'replica', timeline: 1, lagBytes: 2640 });
  });

  it("keeps a stopping leader's role and passes its state through, so the caller can tell it is not usable", () => {
    const { members } = topologyFromPatroniCluster(RECORDED.switchover);
    expect(members.map((m) => [m.name, m.role, m.state])).to.deep.equal([
      ['n1', 'primary', 'stopping'],
      ['n2', 'replica', 'running'],
      ['n3', 'replica', 'stopped'],
    ]);
  });

  it('reports a switchover scheduled for later as a planned stop of its leader at its time; none without one', () => {
    // Recorded 60 ms after POST /switchover with scheduled_at (3 s ahead) was accepted.
    const scheduled = { ...RECORDED.healthy, scheduled_switchover: { at: '2026-12-07T11:07:25.587000+00:00', from: 'n1', to: 'n2' } };
    expect(topologyFromPatroniCluster(scheduled).plannedStops).to.deep.equal([
      { member: 'n1', at: Date.UTC(2026, 11, 7, 11, 7, 25, 587), reason: 'switchover to n2 scheduled' },
    ]);
    // No `from`: the leader stops. An unreadable time: no plan (nothing to pause for).
    const noFrom = { ...RECORDED.healthy, scheduled_switchover: { at: '2026-12-07T11:07:25+00:00' } };
    expect(topologyFromPatroniCluster(noFrom).plannedStops).to.deep.equal([{ member: 'n1', at: Date.UTC(2026, 11, 7, 11, 7, 25), reason: 'switchover scheduled' }]);
    expect(topologyFromPatroniCluster({ ...RECORDED.healthy, scheduled_switchover: { at: 'soon', from: 'n1' } }).plannedStops).to.equal(undefined);
    expect(topologyFromPatroniCluster(RECORDED.healthy).plannedStops).to.equal(undefined);
  });

  it('maps sync_standby and standby_leader to replica: a standby cluster leader never takes writes', () => {
    const { members } = topologyFromPatroniCluster(RECORDED.syncAndStandbyLeader);
    expect(members.map((m) => [m.name, m.role])).to.deep.equal([['a', 'primary'], ['b', 'replica'], ['c', 'replica']]);
  });

  it('leaves out members without a host or port, and rejects a body without members or with two leaders', () => {
    const { members } = topologyFromPatroniCluster({ members: [{ name: 'x', role: 'replica', state: 'starting' }, RECORDED.healthy.members[0]] });
    expect(members.map((m) => m.name)).to.deep.equal(['n1']);
    expect(() => topologyFromPatroniCluster({ error: 'x' })).to.throw(TopologyError, 'no "members" array');
    const two = { members: [RECORDED.healthy.members[0], { ...RECORDED.healthy.members[0], name: 'n9' }] };
    expect(() => topologyFromPatroniCluster(two)).to.throw(TopologyError, '2 primaries (n1, n9)');
  });
});

type FakeAnswer = { status: number; body: unknown } | 'refused' | 'hang';

/** A fetch that answers per URL from a script and records what it was asked. */
function fakeFetch(script: Record<string, FakeAnswer>) {
  const calls: Array<{ url: string; headers: Record<string, string> }> = [];
  const fn = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input);
    calls.push({ url, headers: { ...(init?.headers as Record<string, string>) } });
    const answer = script[url] ?? 'refused';
    if (answer === 'refused') throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    if (answer === 'hang') {
      return new Promise<Response>((_, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)));
    }
    return new Response(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body), { status: answer.status });
  }) as typeof fetch;
  return { fn, calls };
}

describe('topology: PatroniTopology.read()', () => {
  it('asks the URLs in order and answers from the first that works: refused, then 503, then a good /cluster', async () => {
    const f = fakeFetch({
      'http://10.0.0.2:8008/cluster': { status: 503, body: 'no' },
      'http://10.0.0.3:8008/cluster': { status: 200, body: RECORDED.afterFailover },
    });
    const source = new PatroniTopology({ urls: ['http://10.0.0.1:8008', 'http://10.0.0.2:8008/', 'http://10.0.0.3:8008/cluster'], fetch: f.fn });
    const { members } = await source.read();
    expect(members.find((m) => m.role === 'primary')?.name).to.equal('n2');
    expect(f.calls.map((c) => c.url)).to.deep.equal(['http://10.0.0.1:8008/cluster', 'http://10.0.0.2:8008/cluster', 'http://10.0.0.3:8008/cluster']);
  });

  it('gives up on a URL that never answers after timeoutMs and moves on to the next', async () => {
    const f = fakeFetch({ 'http://10.0.0.1:8008/cluster': 'hang', 'http://10.0.0.2:8008/cluster': { status: 200, body: RECORDED.healthy } });
    const source = new PatroniTopology({ urls: ['http://10.0.0.1:8008', 'http://10.0.0.2:8008'], timeoutMs: 20, fetch: f.fn });
    expect((await source.read()).members).to.have.length(3);
    expect(f.calls).to.have.length(2);
  });

  it('rejects with ESPLIT_TOPOLOGY naming every URL and why it failed, without the credentials it sent as Basic auth', async () => {
    const f = fakeFetch({
      'http://10.0.0.1:8008/cluster': 'hang',
      'http://10.0.0.2:8008/cluster': { status: 200, body: 'not json' },
      'http://10.0.0.3:8008/cluster': { status: 200, body: { members: 'x' } },
    });
    const source = new PatroniTopology({
      urls: ['http://admin:s3cret@10.0.0.1:8008', 'http://10.0.0.2:8008', 'http://10.0.0.3:8008', 'https://10.0.0.4:8008?token=abc'],
      timeoutMs: 20,
      fetch: f.fn,
    });
    const err = await source.read().then(() => undefined, (e: unknown) => e as TopologyError);
    expect(err).to.be.instanceOf(TopologyError);
    expect(err?.code).to.equal('ESPLIT_TOPOLOGY');
    expect(err?.message).to.equal(
      'split-knex: no Patroni REST API answered GET /cluster (http://10.0.0.1:8008/cluster: timed out after 20 ms; ' +
        'http://10.0.0.2:8008/cluster: the answer is not JSON; http://10.0.0.3:8008/cluster: the answer has no "members" array; ' +
        'https://10.0.0.4:8008/cluster: ECONNREFUSED)',
    );
    expect(f.calls[0]).to.deep.include({ url: 'http://10.0.0.1:8008/cluster' });
    expect(f.calls[0]?.headers['authorization']).to.equal(`Basic ${Buffer.from('admin:s3cret').toString('base64')}`);
    expect(f.calls[1]?.headers['authorization']).to.equal(undefined);
    expect(JSON.stringify(err?.message) + String((err?.cause as AggregateError).errors.map(String))).to.not.match(/s3cret|token=abc/);
  });

  it('bounds the body too: a real server that sends headers and then stalls times out (global fetch)', async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"members": [');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const err = await new PatroniTopology({ urls: [`http://127.0.0.1:${port}`], timeoutMs: 100 }).read().then(() => undefined, (e: unknown) => e as Error);
      expect(err?.message).to.equal(`split-knex: no Patroni REST API answered GET /cluster (http://127.0.0.1:${port}/cluster: timed out after 100 ms)`);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('validates its options eagerly, naming the key and hiding a password', () => {
    expect(configError(() => new PatroniTopology({ urls: [] })).message).to.include('"discover.patroni" must be a non-empty array');
    expect(configError(() => new PatroniTopology({ urls: ['ftp://h:21'] })).message).to.include('"discover.patroni[0]" must use http: or https:');
    const bad = configError(() => new PatroniTopology({ urls: ['http://10.0.0.1:8008', 'postgres://u:hunter2@h:5432/db'] }));
    expect(bad.message).to.include('"discover.patroni[1]"').and.not.include('hunter2');
    expect(configError(() => new PatroniTopology({ urls: ['http://h:8008'], timeoutMs: 0 })).message).to.include('"discover.timeoutMs" must be an integer >= 1');
  });
});
