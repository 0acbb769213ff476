/**
 * The shared `pg` pool hands timestamptz columns back as strings (MikroORM
 * configures its type parsers that way); plain-SQL readers convert here.
 */
export function asDate(value: Date | string): Date;
export function asDate(value: Date | string | null | undefined): Date | null;
export function asDate(value: Date | string | null | undefined): Date | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value : new Date(value);
}
