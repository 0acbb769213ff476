/**
 * Counts the work of one publish call (payload validation and filter
 * matching) against a budget, so one call cannot hold the event loop for
 * long: work stops at the first charge past the limit. A unit is about one
 * cheap check of one payload value (see json-schema-cost.ts and filter.ts).
 */
export class WorkMeter {
  units = 0;

  constructor(readonly limit: number) {}

  /** Adds `units`; throws OverBudget once past the limit. */
  charge(units: number): void {
    this.units += units;
    if (this.units > this.limit) throw new OverBudget();
  }

  get remaining(): number {
    return this.limit - this.units;
  }
}

export class OverBudget extends Error {
  constructor() {
    super('over the work budget');
    this.name = 'OverBudget';
  }
}
