import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function packageVersion(): string {
  // src/delivery → package.json is two levels up in the source tree, three in dist/.
  for (const candidate of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = require(candidate) as { name?: string; version?: string };
      if (pkg.name === 'hookgraph' && pkg.version) return pkg.version;
    } catch {
      // try the next location
    }
  }
  return '0.0.0';
}

export const VERSION = packageVersion();
/** Sent with every delivery. */
export const USER_AGENT = `hookgraph/${VERSION}`;
