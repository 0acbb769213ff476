import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Express, type Response } from 'express';

/**
 * Serves the admin console (built into admin/dist by `npm run admin:build`) at
 * /admin. Client routes (/admin/subscriptions …) get index.html. The console
 * talks only to this origin's /graphql, which the CSP enforces.
 */
export function mountAdmin(app: Express, distDir = findAdminDist()): void {
  const index = path.join(distDir, 'index.html');
  const assets = express.static(distDir, {
    index: false,
    fallthrough: true,
    redirect: false,
    setHeaders(res, file) {
      // Vite fingerprints everything under assets/: cache forever. Anything else: revalidate.
      const hashed = file.startsWith(path.join(distDir, 'assets') + path.sep);
      res.setHeader('Cache-Control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
      securityHeaders(res);
    },
  });

  app.use('/admin', (req, res, next) => {
    if (!fs.existsSync(index)) {
      res.status(503).type('text/plain').send('The admin console is not built: run `npm run admin:build`.\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.status(405).set('Allow', 'GET, HEAD').end();
      return;
    }
    assets(req, res, () => {
      // Missing files under assets/ are real 404s; any other path is a client route.
      if (req.path.startsWith('/assets/')) {
        res.status(404).type('text/plain').send('Not found\n');
        return;
      }
      securityHeaders(res);
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(index, (error) => error && next(error));
    });
  });
}

const CSP = [
  "default-src 'self'",
  // 'self' covers same-origin ws:/wss: (CSP Level 3), which graphql-ws uses; nothing else is reachable.
  "connect-src 'self'",
  "img-src 'self' data:",
  "style-src 'self'",
  "script-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function securityHeaders(res: Response): void {
  res.setHeader('Content-Security-Policy', CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
}

/**
 * admin/dist of the checkout or image this module runs from (dist/src/api when
 * compiled, src/api under a TS runner); a checkout has admin/index.html, the
 * Docker image only admin/dist.
 */
export function findAdminDist(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const admin = path.join(dir, 'admin');
    if (fs.existsSync(path.join(admin, 'index.html')) || fs.existsSync(path.join(admin, 'dist', 'index.html'))) return path.join(admin, 'dist');
    dir = path.dirname(dir);
  }
  return path.resolve('admin', 'dist');
}
