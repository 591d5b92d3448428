import { expect } from 'chai';
import { SplitKnexError } from '../../lib/errors';

/**
 * Runs `fn`, asserts it threw a `SplitKnexError` with code `ESPLIT_CONFIG`, and returns it
 * so the test can check the message names the key and the value.
 *
 * @example
 * expect(configError(() => splitKnex({ client: 'mysql2' } as never)).message).to.include('"client"');
 */
export function configError(fn: () => unknown): SplitKnexError {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(SplitKnexError);
    expect((e as SplitKnexError).code).to.equal('ESPLIT_CONFIG');
    return e as SplitKnexError;
  }
  throw new Error('expected a config error');
}
