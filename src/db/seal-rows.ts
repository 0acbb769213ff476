import type { Pool } from 'pg';
import { inTransaction } from '../delivery/transaction.js';
import { headersNeedSealing, resealHeaders, type StoredHeaders } from '../domain/subscription-headers.js';
import { isOutdatedSeal, openSecret, sealSecret } from '../domain/secrets.js';
import type { Logger } from '../log.js';

/** Rows with something not sealed as v2: a v1 signing secret, or a header value in plain text or v1. */
const OUTDATED = `(secret_encrypted not like 'v2.%'
  or previous_secret_encrypted not like 'v2.%'
  or exists (select 1 from jsonb_each_text(headers) h where h.value not like 'v2.%'))`;

const BATCH = 200;

interface Row {
  id: string;
  headers: StoredHeaders | null;
  secret_encrypted: string;
  previous_secret_encrypted: string | null;
}

/**
 * The data step after the SQL migrations, which cannot do it (they have no
 * HOOKGRAPH_SECRET_KEY): seals custom header values still in plain text
 * (tagged `plain:` by the seal_headers migration) and re-seals v1 signing
 * secrets and header values as v2 (row id as additional data). Idempotent and
 * safe to run from several processes at once (rows are locked, and a row
 * already done no longer matches); run by `migrate`, `serve` and `api` after
 * migrating. A row that does not open (wrong key) is logged by id and left
 * as it is.
 */
export async function sealOutdatedSecrets(pool: Pool, secretKey: Buffer, log: Logger): Promise<number> {
  let after = '00000000-0000-0000-0000-000000000000';
  let sealed = 0;
  for (;;) {
    const batch = await inTransaction(pool, async (client) => {
      const { rows } = await client.query<Row>(
        `select id, headers, secret_encrypted, previous_secret_encrypted from webhook_subscription
          where id > $1 and ${OUTDATED} order by id limit ${BATCH} for update`,
        [after],
      );
      for (const row of rows) {
        let next: Row;
        try {
          next = resealed(secretKey, row);
        } catch {
          log.error('a stored secret of a subscription does not open (is HOOKGRAPH_SECRET_KEY the one it was sealed with?); left as it is', { webhookSubscriptionId: row.id });
          continue;
        }
        // updated_at stays: only the stored form changed, not the subscription.
        await client.query('update webhook_subscription set headers = $2, secret_encrypted = $3, previous_secret_encrypted = $4 where id = $1', [
          row.id,
          JSON.stringify(next.headers ?? {}),
          next.secret_encrypted,
          next.previous_secret_encrypted,
        ]);
        sealed++;
      }
      return rows;
    });
    if (batch.length < BATCH) break;
    after = batch[batch.length - 1].id;
  }
  if (sealed) log.info('sealed stored secrets in the current format', { subscriptions: sealed });
  return sealed;
}

function resealed(secretKey: Buffer, row: Row): Row {
  const again = (sealed: string) => (isOutdatedSeal(sealed) ? sealSecret(secretKey, openSecret(secretKey, sealed, row.id), row.id) : sealed);
  return {
    id: row.id,
    headers: headersNeedSealing(row.headers) ? resealHeaders(secretKey, row.id, row.headers) : row.headers,
    secret_encrypted: again(row.secret_encrypted),
    previous_secret_encrypted: row.previous_secret_encrypted === null ? null : again(row.previous_secret_encrypted),
  };
}
