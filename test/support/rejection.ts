/**
 * The error a promise rejects with; fails the test when it resolves instead.
 *
 * @example
 * const err = await rejection(db.raw('select * from missing'));
 * expect(err.code).to.equal('42P01');
 */
export async function rejection(p: PromiseLike<unknown>): Promise<{ code?: string; message?: string }> {
  try {
    await p;
  } catch (err) {
    return err as { code?: string; message?: string };
  }
  throw new Error('expected a rejection');
}
