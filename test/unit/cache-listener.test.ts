import { expect } from 'chai';
import { EventEmitter } from 'events';
import { InvalidationListener } from '../../lib/cache/invalidation-listener';

// A fake pg.Client: connect/query answers are scripted; `drop()` kills the connection.
class FakeClient extends EventEmitter {
  queries: string[] = [];
  ended = false;
  constructor(private readonly failConnect: boolean) {
    super();
  }

  async connect(): Promise<void> {
    if (this.failConnect) throw new Error('ECONNREFUSED');
  }

  async query(sql: string): Promise<{ rows: Array<Record<string, unknown>> }> {
    this.queries.push(sql);
    return { rows: [{ lsn: '1000' }] };
  }

  async end(): Promise<void> {
    this.ended = true;
  }

  drop(): void {
    this.emit('error', new Error('terminating connection due to administrator command'));
    this.emit('end');
  }
}

const until = async (cond: () => boolean, ms = 2000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
};

describe('cache NOTIFY listener', () => {
  it('listens on a dedicated client, reports up/down, reconnects with backoff, and stops', async () => {
    const clients: FakeClient[] = [];
    const failures = [false, true, true, false];
    const events: string[] = [];
    const messages: string[] = [];
    const listener = new InvalidationListener({
      channel: 'split_knex_cache',
      settings: async () => ({}),
      onMessage: (p) => messages.push(p),
      onUp: (lsn) => events.push(`up ${lsn}`),
      onDown: (why) => events.push(`down ${why}`),
      minBackoffMs: 1,
      maxBackoffMs: 4,
      createClient: () => {
        const c = new FakeClient(failures[clients.length] ?? false);
        clients.push(c);
        return c;
      },
    });
    listener.start();
    await until(() => listener.connected);
    expect(clients[0]!.queries[0]).to.equal('LISTEN "split_knex_cache"');
    clients[0]!.emit('notification', { channel: 'split_knex_cache', payload: 'p1' });
    clients[0]!.emit('notification', { channel: 'other', payload: 'p2' });
    expect(messages).to.deep.equal(['p1']);

    clients[0]!.drop();
    expect(listener.connected).to.equal(false);
    await until(() => listener.connected);
    expect(clients.length).to.equal(4); // two refused attempts in between
    expect(listener.reconnects).to.equal(1);
    expect(events).to.deep.equal(['up 1000', 'down terminating connection due to administrator command', 'up 1000']);
    expect(clients[0]!.ended).to.equal(true);

    await listener.stop();
    expect(clients[3]!.ended).to.equal(true);
    expect(listener.connected).to.equal(false);
    const before = clients.length;
    await new Promise((r) => setTimeout(r, 20));
    expect(clients.length).to.equal(before);
  });
});
