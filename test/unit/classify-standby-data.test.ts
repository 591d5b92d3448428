import { expect } from 'chai';
import { classifySql, type FunctionCatalog } from '../../lib/classify';
import { isReadOnlyFunction } from '../../lib/classify/read-only-functions';
import { RECOVERY_REFUSED_FUNCTIONS } from '../../lib/classify/recovery-refused-functions';

// A catalog of the shape written before sequences were loaded: no isSequence.
const legacyCatalog: FunctionCatalog = { version: 1, functionVolatility: () => 'stable', isUnloggedRelation: () => false };

describe('classifier: data a standby holds differently', () => {
  describe('sequence state', () => {
    it('sends reads of a *_seq relation to the primary without a catalog (the serial/identity naming)', () => {
      for (const sql of [
        'select last_value from users_id_seq',
        'select last_value, is_called from public.orders_id_seq',
        'select * from "Orders_ID_SEQ"',
        'select u.id, s.last_value from users u, users_id_seq s',
        'table users_id_seq',
      ]) expect(classifySql(sql).target, sql).to.equal('primary');
      expect(classifySql('select last_value from users_id_seq').reason).to.equal(
        "sequence users_id_seq (by its _seq name): a standby's sequence state is ahead of the primary",
      );
    });

    it('uses the name rule with a catalog that cannot tell sequences', () => {
      expect(classifySql('select last_value from users_id_seq', { catalog: legacyCatalog }).target).to.equal('primary');
      expect(classifySql('select * from users', { catalog: legacyCatalog }).target).to.equal('replica');
    });

    it('asks a catalog that can tell sequences, and trusts its answer', () => {
      const catalog: FunctionCatalog = {
        version: 1,
        functionVolatility: () => undefined,
        isUnloggedRelation: () => false,
        isSequence: (name, schema) => name === 'invoice_numbers' && (schema === undefined || schema === 'app'),
      };
      expect(classifySql('select last_value from invoice_numbers', { catalog }).target).to.equal('primary');
      expect(classifySql('select last_value from app.invoice_numbers', { catalog }).target).to.equal('primary');
      expect(classifySql('select * from dna_seq', { catalog }).target).to.equal('replica');
      const throwing: FunctionCatalog = { ...catalog, isSequence: () => { throw new Error('offline'); } };
      expect(classifySql('select * from t', { catalog: throwing }).reason).to.equal('catalog lookup failed for relation t');
    });

    it('sends pg_sequences and pg_sequence_last_value() to the primary, with or without a catalog', () => {
      for (const catalog of [undefined, legacyCatalog]) {
        for (const sql of [
          'select last_value from pg_sequences where sequencename = $1',
          'select * from pg_catalog.pg_sequences',
          "select pg_sequence_last_value('users_id_seq')",
          "select currval('users_id_seq')",
          'select lastval()',
        ]) expect(classifySql(sql, { catalog }).target, sql).to.equal('primary');
      }
    });

    it('keeps sequence parameters (replicated exactly) on a replica', () => {
      for (const sql of [
        'select * from information_schema.sequences',
        'select seqstart from pg_catalog.pg_sequence',
        "select pg_get_serial_sequence('users', 'id')",
        'select * from app.pg_sequences_report',
      ]) expect(classifySql(sql).target, sql).to.equal('replica');
    });
  });

  describe('temporary relations', () => {
    it('sends pg_temp and pg_temp_N relations to the primary even without a catalog', () => {
      for (const catalog of [undefined, legacyCatalog]) {
        expect(classifySql('select * from pg_temp.scratch', { catalog }).reason).to.equal(
          'temporary relation pg_temp.scratch (a standby has none)',
        );
        expect(classifySql('select count(*) from users u join pg_temp_3.rows r on r.id = u.id', { catalog }).target).to.equal('primary');
      }
    });
  });

  describe('functions a standby refuses (generated list)', () => {
    it('lists the functions a standby refuses with the SQLSTATEs it used', () => {
      const names = RECOVERY_REFUSED_FUNCTIONS.map((f) => f.name);
      expect(names).to.include.members(['pg_walfile_name', 'pg_current_wal_lsn', 'pg_switch_wal', 'txid_current', 'nextval']);
      for (const f of RECOVERY_REFUSED_FUNCTIONS) expect(['25006', '55000', 'XX000', '0A000'], f.name).to.include(f.code);
    });

    it('sends a call of every listed function to the primary, qualified or not, whatever a catalog says', () => {
      const stable: FunctionCatalog = { version: 1, functionVolatility: () => 'stable', isUnloggedRelation: () => false };
      for (const { name, call } of RECOVERY_REFUSED_FUNCTIONS) {
        expect(classifySql(`select ${call}`).target, call).to.equal('primary');
        expect(classifySql(`select ${name}()`, { catalog: stable }).target, name).to.equal('primary');
      }
      expect(classifySql('select pg_walfile_name(pg_last_wal_replay_lsn())').reason).to.equal(
        'function pg_walfile_name refuses to run during recovery',
      );
    });

    it('has no function both in the generated refused list and in the built-in read-only list', () => {
      const both = RECOVERY_REFUSED_FUNCTIONS.map((f) => f.name).filter((name) => isReadOnlyFunction(name));
      expect(both).to.deep.equal([]);
    });
  });
});
