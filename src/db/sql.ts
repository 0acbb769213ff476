/**
 * Anything that runs SQL: the pool, a checked-out client inside a transaction.
 * Hot paths take one of these so they can join the caller's transaction.
 */
export interface SqlExecutor {
  query<R extends Record<string, any> = any>(text: string, values?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
}
