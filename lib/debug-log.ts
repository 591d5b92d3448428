import createDebug from 'debug';
import { format } from 'util';
import { redactText } from './redact';

/**
 * A `debug` logger for one of split-knex's namespaces whose every line has its credentials
 * hidden ({@link redactText}) before it is written, the line formatted first so that extra
 * arguments are covered too: a debug line may quote an error from a
 * driver or a connection provider, and those can embed a URL with its password. The line
 * still goes through `debug.log` as it is when the line is written, so a log function a user
 * installed (`require('debug').log = …`) receives it.
 *
 * @example
 * const debug = debugLogger('split-knex:lag');
 * debug('%s position poll failed: %s', 'vault', 'cannot renew postgres://app:S3cret@db/app');
 * // split-knex:lag vault position poll failed: cannot renew postgres://app:***@db/app
 */
export function debugLogger(namespace: string): createDebug.Debugger {
  const logger = createDebug(namespace);
  // Formatted first (extra arguments included), then redacted: one string reaches the log.
  logger.log = function redactedLog(this: unknown, ...args: unknown[]): void {
    createDebug.log.call(this, redactText(format(...args)));
  };
  return logger;
}
