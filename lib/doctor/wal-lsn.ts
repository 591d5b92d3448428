/**
 * Bytes of WAL from `from` to `to` (`pg_wal_lsn_diff(to, from)`), computed client side so
 * positions read on different servers can be compared. Undefined when either is not an LSN.
 *
 * @example
 * walBytesBetween('0/3000000', '0/3000060') // 96
 */
export function walBytesBetween(from: string | undefined, to: string | undefined): number | undefined {
  const a = parseLsn(from);
  const b = parseLsn(to);
  return a === undefined || b === undefined ? undefined : Number(b - a);
}

/** `'16/B374D848'` → 0x16B374D848n; undefined for anything else. */
export function parseLsn(lsn: string | undefined): bigint | undefined {
  const m = lsn === undefined ? null : /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(lsn);
  if (m === null) return undefined;
  return (BigInt(`0x${m[1]}`) << 32n) + BigInt(`0x${m[2]}`);
}

/**
 * A byte count for people: `0 B`, `96 B`, `1.5 kB`, `12.0 MB`.
 *
 * @example
 * formatBytes(1536) // '1.5 kB'
 */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}
