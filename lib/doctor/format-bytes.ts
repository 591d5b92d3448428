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
