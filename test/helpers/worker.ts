import { AddressGuard } from '../../src/delivery/address-guard.js';
import { DeliveryWorker } from '../../src/delivery/worker.js';
import { silentLogger } from '../../src/log.js';
import type { TestApp } from './app.js';

/** A delivery worker in the test's own process, on an api-role test app's services; every host resolves to 127.0.0.1 unless `resolve` says otherwise. */
export async function startWorker(app: TestApp, resolve: (host: string) => Promise<string[]> = async () => ['127.0.0.1']): Promise<DeliveryWorker> {
  const services = app.app.services!;
  const worker = new DeliveryWorker({
    config: services.config,
    db: services.db,
    boss: services.boss,
    log: silentLogger,
    secretKey: services.secretKey,
    metrics: services.metrics,
    guard: new AddressGuard(services.config.allowTargets, resolve),
  });
  await worker.start();
  return worker;
}
