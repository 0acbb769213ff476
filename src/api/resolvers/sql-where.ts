/** Builds `a = $1 and b = $2` from conditions written with `?` placeholders. */
export class SqlWhere {
  readonly values: unknown[] = [];
  private readonly parts: string[] = [];

  add(condition: string, value: unknown): this {
    this.values.push(value);
    this.parts.push(condition.replace('?', `$${this.values.length}`));
    return this;
  }

  /** A condition with no value, written into the SQL as is (e.g. a partial index's predicate, for the planner to match). */
  raw(condition: string): this {
    this.parts.push(condition);
    return this;
  }

  get sql(): string {
    return this.parts.length ? this.parts.join(' and ') : 'true';
  }
}
