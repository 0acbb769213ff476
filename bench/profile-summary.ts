import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Summarises V8 .cpuprofile files (from `npm run bench -- --profile`): self
 * time by function and by package/file, so "where the time goes" is a table.
 */
interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

function area(url: string): string {
  if (!url) return '(native)';
  if (url.startsWith('node:')) return url;
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 13).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const dist = url.indexOf('/dist/');
  return dist >= 0 ? url.slice(dist + 6) : url;
}

/** V8's own entries of a profile. */
const SPECIAL = new Map([['(idle)', '(idle)'], ['(garbage collector)', '(gc)'], ['(program)', '(program)']]);

/** Self time of every .cpuprofile in `dir` (or of the one file `dir`), by area and by function. */
export function summariseProfiles(dir: string): string {
  const out: string[] = [];
  const files = fs.statSync(dir).isDirectory() ? fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(dir, f)) : [dir];
  for (const file of files) {
    const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parentOf = new Map<number, number>();
    for (const n of profile.nodes) for (const child of n.children ?? []) parentOf.set(child, n.id);
    /** Native code (socket writes, hashing) is counted with the first caller that has a file: "native via pg" says who wrote (node internals are skipped). */
    const caller = (id: number): string => {
      for (let at = parentOf.get(id); at !== undefined; at = parentOf.get(at)) {
        const url = byId.get(at)!.callFrame.url;
        if (url && !url.startsWith('node:')) return area(url);
      }
      return '?';
    };
    const self = new Map<number, number>();
    profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
    const total = [...self.values()].reduce((a, b) => a + b, 0);
    const byFunction = new Map<string, number>();
    const byArea = new Map<string, number>();
    for (const [id, us] of self) {
      const frame = byId.get(id)!.callFrame;
      const fn = `${frame.functionName || '(anonymous)'} ${area(frame.url)}:${frame.lineNumber + 1}`;
      byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
      const special = SPECIAL.get(frame.functionName);
      const a = special ?? (frame.url ? area(frame.url) : `(native via ${caller(id)})`);
      byArea.set(a, (byArea.get(a) ?? 0) + us);
    }
    // Shares of the busy time: an idle worker waiting on PostgreSQL or the receiver is not "where the CPU goes".
    const busy = total - (byArea.get('(idle)') ?? 0);
    const top = (map: Map<string, number>, n: number) =>
      [...map.entries()]
        .filter(([k]) => !k.startsWith('(idle)'))
        .sort((a, b) => b[1] - a[1])
        .slice(0, n)
        .map(([k, us]) => `  ${((100 * us) / busy).toFixed(1).padStart(5)} %  ${k}`)
        .join('\n');
    out.push(`${path.basename(file)}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy\nby area (self time, % of busy):\n${top(byArea, 15)}\nby function (self time, % of busy):\n${top(byFunction, 25)}\n`);
  }
  return out.join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.stdout.write(summariseProfiles(process.argv[2] ?? 'bench-profiles') + '\n');
