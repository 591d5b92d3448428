import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';

/**
 * True when a Docker engine accepts connections at `DOCKER_HOST` (unix:// or tcp://) or
 * /var/run/docker.sock, within `timeoutMs`. Says nothing about images or permissions.
 *
 * @example
 * if (await dockerReachable()) provider = 'containers';
 */
export async function dockerReachable(timeoutMs = 500): Promise<boolean> {
  const host = process.env['DOCKER_HOST'];
  if (host) {
    if (host.startsWith('unix://')) return canConnect({ path: host.slice('unix://'.length) }, timeoutMs);
    const match = /^tcp:\/\/([^:/]+):(\d+)/.exec(host);
    if (match) return canConnect({ host: match[1] as string, port: Number(match[2]) }, timeoutMs);
    return false;
  }
  const socket = '/var/run/docker.sock';
  return fs.existsSync(socket) && canConnect({ path: socket }, timeoutMs);
}

function canConnect(target: net.NetConnectOpts, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(target);
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * True when the `docker` CLI reaches an engine (honouring `DOCKER_HOST`) that has `image`
 * and testcontainers is installed; synchronous, for a spec file deciding at load time
 * whether to register container-only tests. Never throws.
 *
 * @example
 * if (dockerImageAvailableSync('split-knex/haproxy')) describe('through HAProxy', () => { … });
 */
export function dockerImageAvailableSync(image: string): boolean {
  try {
    require.resolve('testcontainers');
  } catch {
    return false;
  }
  const result = spawnSync('docker', ['image', 'inspect', '--format', '{{.Id}}', image], { stdio: 'ignore', timeout: 10_000 });
  return result.status === 0;
}
