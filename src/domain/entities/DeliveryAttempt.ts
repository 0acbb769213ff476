import { Entity, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { Opt } from '@mikro-orm/core';
import { uuidv7 } from '../ids.js';
import { Delivery } from './Delivery.js';

/** One HTTP try of a delivery, written before the delivery's status changes. */
@Entity({ tableName: 'delivery_attempt' })
@Index({ properties: ['delivery', 'attemptNumber'] })
/* Attempts are only ever inserted, in start order, so a BRIN index (a few pages, next to no upkeep) serves retention's `started_at < cutoff`. */
@Index({
  name: 'delivery_attempt_started_at_brin',
  expression: 'create index "delivery_attempt_started_at_brin" on "delivery_attempt" using brin ("started_at")',
})
export class DeliveryAttempt {
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = uuidv7();

  @ManyToOne(() => Delivery, { deleteRule: 'cascade' })
  delivery!: Delivery;

  @Property({ type: 'integer' })
  attemptNumber!: number;

  @Property({ type: 'timestamptz' })
  startedAt!: Date;

  @Property({ type: 'integer' })
  durationMs!: number;

  @Property({ type: 'json' })
  requestHeaders!: Record<string, string>;

  @Property({ type: 'integer', nullable: true })
  responseStatus?: number | null;

  @Property({ type: 'json', nullable: true })
  responseHeaders?: Record<string, string> | null;

  /** First 4 KiB of the response body. */
  @Property({ type: 'text', nullable: true })
  responseBody?: string | null;

  /** TIMEOUT, CONNECTION, DNS, TLS, HTTP_STATUS, BLOCKED_TARGET, ...; null on success. */
  @Property({ type: 'text', nullable: true })
  errorKind?: string | null;

  @Property({ type: 'text', nullable: true })
  error?: string | null;
}
