import { expect } from 'chai';
import fs from 'fs';
import path from 'path';
import { normalizeHealthConfig } from '../../lib/health/health-config';
import { PROBE_SQL } from '../../lib/health/link-probe';

describe('docs/failure-handling.md', () => {
  const doc = fs.readFileSync(path.join(__dirname, '../../docs/failure-handling.md'), 'utf8');

  it('has the "Failure handling" section with its failure → behaviour → what the app sees table', () => {
    expect(doc).to.match(/^## Failure handling$/m);
    expect(doc).to.include('| failure | behaviour | what the application sees |');
  });

  it('shows the exact probe query', () => {
    expect(doc).to.include(PROBE_SQL);
  });

  it('documents every health option with the default the code uses', () => {
    const defaults = normalizeHealthConfig({});
    const rows: Record<string, string> = {
      intervalMs: String(defaults.intervalMs), timeoutMs: String(defaults.timeoutMs), failuresToDown: String(defaults.failuresToDown),
      maxBackoffMs: '2 × intervalMs', connectTimeoutMs: String(defaults.connectTimeoutMs), retryReads: String(defaults.retryReads),
      closeOnDown: `'${defaults.closeOnDown}'`,
    };
    for (const [key, value] of Object.entries(rows)) expect(doc).to.include(`| \`${key}\` | \`${value}\` |`);
    expect(normalizeHealthConfig({ health: { intervalMs: 700 } }).maxBackoffMs).to.equal(1400);
  });

  it('documents discoverRoles, the events and the stats section', () => {
    for (const key of ['`discoverRoles`', '`node-down`', '`node-up`', '`failover`', '`role-change`', '`stats().health`', 'ESPLIT_PRIMARY_DOWN', 'ESPLIT_NO_REPLICA', '`health: false`']) {
      expect(doc).to.include(key);
    }
  });
});
