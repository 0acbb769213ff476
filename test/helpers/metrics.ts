/** A Prometheus text exposition as a map from series (`name{labels}` exactly as exposed) to value. */
export async function scrape(baseUrl: string): Promise<Map<string, number>> {
  const response = await fetch(`${baseUrl}/metrics`);
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  const series = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    series.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return series;
}

/** The value of one series; throws when the process does not expose it. */
export function value(metrics: Map<string, number>, series: string): number {
  const found = metrics.get(series);
  if (found === undefined) throw new Error(`no series ${series} in /metrics`);
  return found;
}
