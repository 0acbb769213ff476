import type { Pool } from 'pg';

export interface WalShare {
  /** A table or index name, or the resource manager of records that touch no relation (commits, standby). */
  what: string;
  records: number;
  bytes: number;
}

/**
 * Where the WAL between two positions went, per relation (`--wal-detail`):
 * each record is counted once, against the relation of its first block, so
 * the shares add up to the WAL written. Reads the WAL back with the
 * `pg_walinspect` extension, created on demand (it needs a superuser, as the
 * embedded PostgreSQL's user is).
 */
export async function walBreakdown(pool: Pool, from: string, to: string, top = 12): Promise<WalShare[]> {
  await pool.query('create extension if not exists pg_walinspect');
  const { rows } = await pool.query<{ what: string; records: string; bytes: string }>(
    `with records as (
       select start_lsn, resource_manager, record_length from pg_get_wal_records_info($1::pg_lsn, $2::pg_lsn)
     ), first_blocks as (
       select distinct on (start_lsn) start_lsn, reltablespace, relfilenode
       from pg_get_wal_block_info($1::pg_lsn, $2::pg_lsn, false) order by start_lsn, block_id
     )
     select coalesce(pg_filenode_relation(b.reltablespace, b.relfilenode)::regclass::text, case when b.relfilenode is null then r.resource_manager else 'relfilenode ' || b.relfilenode end) as what,
            count(*)::text as records, sum(r.record_length)::text as bytes
     from records r left join first_blocks b using (start_lsn)
     group by 1 order by sum(r.record_length) desc limit $3`,
    [from, to, top],
  );
  return rows.map((r) => ({ what: r.what, records: Number(r.records), bytes: Number(r.bytes) }));
}
