import * as net from 'node:net';

// Ports handed out by this process; another cluster in the same run must not get them
// even before its postgres has bound them.
const reserved = new Set<number>();

const LOWEST = 20_000;
// The kernel's ephemeral range starts at 32768 here; a TIME_WAIT socket there once
// blocked a bind, so stay below it.
const HIGHEST = 32_767;

/**
 * Finds `count` ports on 127.0.0.1 that can be bound right now, scanning upwards from
 * `base` (default: `SPLIT_KNEX_BASE_PORT`, else random in 20000–30000). Skips 5432 and
 * ports this process already handed out; wraps around at 32767.
 *
 * @example
 * const [primaryPort, replicaPort] = await allocatePorts(2);
 */
export async function allocatePorts(count: number, base?: number): Promise<number[]> {
  const start = base ?? envBasePort() ?? LOWEST + Math.floor(Math.random() * 10_000);
  const ports: number[] = [];
  for (let i = 0; i <= HIGHEST - LOWEST && ports.length < count; i++) {
    const port = wrap(start + i);
    if (port === 5432 || reserved.has(port)) continue;
    if (await canBind(port)) {
      reserved.add(port);
      ports.push(port);
    }
  }
  if (ports.length < count) throw new Error(`no ${count} free ports on 127.0.0.1 from ${start}`);
  return ports;
}

/** Lets another cluster in this process use `ports` again (after destroy). */
export function releasePorts(ports: readonly number[]): void {
  for (const port of ports) reserved.delete(port);
}

/** True when nothing listens on 127.0.0.1:`port`. @internal */
export function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function wrap(port: number): number {
  return port > HIGHEST ? LOWEST + ((port - LOWEST) % (HIGHEST - LOWEST + 1)) : port;
}

function envBasePort(): number | undefined {
  const raw = process.env['SPLIT_KNEX_BASE_PORT'];
  if (raw === undefined || raw === '') return undefined;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1024 || port > HIGHEST) {
    throw new Error(`SPLIT_KNEX_BASE_PORT must be an integer in 1024–${HIGHEST}, got ${JSON.stringify(raw)}`);
  }
  return port;
}
