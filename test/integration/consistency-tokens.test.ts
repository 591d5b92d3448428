import { expect } from 'chai';
import { SplitKnexError } from '../../lib';
import { destroyAll, makeDb } from '../support/split-db';

// stats().consistency.tokensApplied counts every token applied, however it arrives, and
// never one that was refused.
describe('consistency tokens: every applied token is counted, a refused one is not', () => {
  after(destroyAll);

  it('counts tokens applied through consistencyMiddleware, runInContext and applyConsistencyToken; not ESPLIT_TOKEN ones', async () => {
    const writer = makeDb({ sticky: { scope: 'none' } });
    const reader = makeDb({ sticky: { scope: 'none' } });
    const token = await writer.runInContext(async () => {
      await writer.raw('create table if not exists ct_tokens (id serial primary key)');
      await writer('ct_tokens').insert({});
      return writer.consistencyToken();
    });
    const applied = () => reader.stats().consistency.tokensApplied;
    expect(applied()).to.equal(0);

    // The middleware, with a good token and with a forged one.
    const middleware = reader.consistencyMiddleware({ token: (req: { token?: string }) => req.token });
    const through = (req: { token?: string }) => new Promise<unknown>((resolve) => middleware(req, {}, (err?: unknown) => resolve(err)));
    expect(await through({ token })).to.equal(undefined);
    expect(applied()).to.equal(1);
    const refused = await through({ token: 'not-a-token' });
    expect(refused).to.be.instanceOf(SplitKnexError);
    expect((refused as SplitKnexError).code).to.equal('ESPLIT_TOKEN');
    expect(applied()).to.equal(1);

    // runInContext({ token }) and applyConsistencyToken() inside a scope.
    await reader.runInContext(async () => undefined, { token });
    expect(applied()).to.equal(2);
    await reader.runInContext(async () => {
      reader.applyConsistencyToken(token);
      expect(() => reader.applyConsistencyToken('forged')).to.throw(SplitKnexError);
    });
    expect(applied()).to.equal(3);
  });
});
