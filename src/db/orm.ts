import { MikroORM, type EntityManager } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { ReflectMetadataProvider } from '@mikro-orm/decorators/legacy';
import type { Pool } from 'pg';
import { ENTITIES } from '../domain/entities/index.js';
import { MIGRATIONS } from './migrations/index.js';

export type Orm = MikroORM;
export type Em = EntityManager;

export interface OrmOptions {
  url: string;
  /** Connections in the pool. */
  poolSize?: number;
  debug?: boolean;
}

export async function createOrm({ url, poolSize = 20, debug = false }: OrmOptions): Promise<Orm> {
  return MikroORM.init({
    clientUrl: url,
    entities: ENTITIES,
    metadataProvider: ReflectMetadataProvider,
    extensions: [Migrator],
    migrations: {
      migrationsList: MIGRATIONS,
      snapshot: false,
      transactional: true,
      allOrNothing: true,
      silent: true,
    },
    pool: { min: 0, max: poolSize },
    // MikroORM reads only host/port/user/password/db from clientUrl; handing pg the whole URL keeps
    // its other parameters (sslmode, host=/socket/dir, options, ...) in effect for the pool too.
    driverOptions: { connectionString: url },
    debug,
    allowGlobalContext: false,
    discovery: { warnWhenNoEntities: true },
  });
}

/**
 * One process's connection budget, split between its two pools: MikroORM's,
 * which every hookgraph statement and transaction uses, and pg-boss's own,
 * which only fetches, completes and maintains jobs (its connections skip the
 * WAL flush on commit, see `startBoss`, so it cannot share the first). A
 * third goes to pg-boss, at least 2. The configured minimum (6) leaves
 * MikroORM 4: a transaction never waits for a second connection of its pool
 * (reads it needs run on its own), and with 4 a few concurrent transactions
 * and the reads beside them still make progress.
 */
export function connectionBudget(total: number): { orm: number; queue: number } {
  const queue = Math.max(2, Math.floor(total / 3));
  return { orm: total - queue, queue };
}

/** The `pg` pool under MikroORM, for hot paths written in plain SQL. */
export async function pgPool(orm: Orm): Promise<Pool> {
  return orm.em.getConnection().getNativeClient();
}

export async function migrate(orm: Orm): Promise<string[]> {
  const done = await orm.migrator.up();
  return done.map((m) => m.name);
}

export async function pendingMigrations(orm: Orm): Promise<string[]> {
  return (await orm.migrator.getPending()).map((m) => m.name);
}
