import { Entity, Enum, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { Opt } from '@mikro-orm/core';
import { uuidv7 } from '../ids.js';
import { Tenant } from './Tenant.js';

export enum ApiKeyScope {
  ADMIN = 'ADMIN',
  PUBLISH = 'PUBLISH',
  READ = 'READ',
}

/** A tenant's bearer key. Only the SHA-256 of the key is stored. */
@Entity({ tableName: 'api_key' })
@Index({ properties: ['tenant', 'createdAt'] })
export class ApiKey {
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = uuidv7();

  @ManyToOne(() => Tenant, { deleteRule: 'cascade' })
  tenant!: Tenant;

  @Property({ type: 'text' })
  name!: string;

  /** The first characters of the key, safe to display (e.g. `hg_3kf9`). */
  @Property({ type: 'text' })
  prefix!: string;

  /** Hex SHA-256 of the full key; keys are 256-bit random, so no salt or slow hash is needed. */
  @Property({ type: 'text', unique: true })
  hash!: string;

  @Enum({ items: () => ApiKeyScope, array: true })
  scopes!: ApiKeyScope[];

  @Property({ type: 'timestamptz' })
  createdAt: Date & Opt = new Date();

  @Property({ type: 'timestamptz', nullable: true })
  revokedAt?: Date | null;
}
