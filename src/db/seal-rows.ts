import { headersNeedSealing, resealHeaders } from '../domain/subscription-headers.js';
import { isOutdatedSeal, openSecret, sealSecret } from '../domain/secrets.js';
import type { Logger } from '../log.js';
import type { Db } from '../store/db.js';
import * as webhookSubscriptions from '../store/webhook-subscriptions.js';

const BATCH = 200;

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
export async function sealOutdatedSecrets(db: Db, secretKey: Buffer, log: Logger): Promise<number> {
  let after = '00000000-0000-0000-0000-000000000000';
  let sealed = 0;
  for (;;) {
    const batch = await db.transaction(async (tx) => {
      const rows = await webhookSubscriptions.lockOutdatedSeals(tx, after, BATCH);
      for (const row of rows) {
        let next: webhookSubscriptions.SealedColumns;
        try {
          next = resealed(secretKey, row);
        } catch {
          log.error('a stored secret of a subscription does not open (is HOOKGRAPH_SECRET_KEY the one it was sealed with?); left as it is', { webhookSubscriptionId: row.id });
          continue;
        }
        await webhookSubscriptions.storeSeals(tx, next);
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

function resealed(secretKey: Buffer, row: webhookSubscriptions.SealedColumns): webhookSubscriptions.SealedColumns {
  const again = (sealed: string) => (isOutdatedSeal(sealed) ? sealSecret(secretKey, openSecret(secretKey, sealed, row.id), row.id) : sealed);
  return {
    id: row.id,
    headers: headersNeedSealing(row.headers) ? resealHeaders(secretKey, row.id, row.headers) : row.headers,
    secretEncrypted: again(row.secretEncrypted),
    previousSecretEncrypted: row.previousSecretEncrypted === null ? null : again(row.previousSecretEncrypted),
  };
}
