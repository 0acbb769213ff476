import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Builds the admin console (admin/ → admin/dist) with Vite.
 * `npm run build` calls it without arguments: it builds only when admin/dist is
 * missing or older than the console's sources, so it costs ~nothing otherwise.
 * `--force` (npm run admin:build) always builds.
 *
 * Several processes may build at once in one tree (npm test, npm start): each
 * builds into a private folder and swaps it in, so a server never sees half a build.
 */
const adminDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../admin');
const distDir = path.join(adminDir, 'dist');
const marker = path.join(distDir, 'index.html');
const force = process.argv.includes('--force');

/** Newest modification time under the console's inputs. */
function newestSource(): number {
  let newest = 0;
  const visit = (file: string) => {
    const stat = fs.statSync(file, { throwIfNoEntry: false });
    if (!stat) return;
    if (stat.isDirectory()) for (const entry of fs.readdirSync(file)) visit(path.join(file, entry));
    else newest = Math.max(newest, stat.mtimeMs);
  };
  for (const input of ['src', 'index.html', 'vite.config.js']) visit(path.join(adminDir, input));
  return newest;
}

function isStale(): boolean {
  const built = fs.statSync(marker, { throwIfNoEntry: false });
  return !built || built.mtimeMs < newestSource();
}

if (force || isStale()) {
  const started = Date.now();
  const vite = await import('vite').catch(() => null);
  if (!vite) {
    // Production installs (npm ci --omit=dev) have no Vite: keep a build that is there, else /admin answers 503.
    process.stderr.write('admin console not rebuilt: vite is not installed (npm install, then npm run admin:build)\n');
    process.exit(0);
  }
  const { build } = vite;
  const tmp = path.join(adminDir, 'node_modules', '.hookgraph-build', `dist-${process.pid}`);
  fs.mkdirSync(path.dirname(tmp), { recursive: true });
  await build({ configFile: path.join(adminDir, 'vite.config.js'), build: { outDir: tmp, emptyOutDir: true } });
  // Swap in: remove the old build, move the new one into place (retry if another build raced us).
  for (let attempt = 0; ; attempt++) {
    fs.rmSync(distDir, { recursive: true, force: true });
    try {
      fs.renameSync(tmp, distDir);
      break;
    } catch (error) {
      if (attempt >= 5) throw error;
    }
  }
  process.stderr.write(`admin console built into ${path.relative(process.cwd(), distDir)} (${Date.now() - started} ms)\n`);
}
