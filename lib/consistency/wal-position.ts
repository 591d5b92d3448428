export * from '../wal-position';
