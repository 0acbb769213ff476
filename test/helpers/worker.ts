import { AddressGuard } from '../../src/delivery/address-guard.js';
import { DeliveryWorker } from '../../src/delivery/worker.js';
import { silentLogger } from '../../src/log.js';
import type { TestApp } from './app.js';

/** A delivery worker in the test's own process, on an api-role test app's services; every host resolves to 127.0.0.1. */
export async function startWorker(app: TestApp): Promise<DeliveryWorker> {
  const services = app.app.services!;
  const worker = new DeliveryWorker({
    config: services.config,
    db: services.db,
    boss: services.boss,
    log: silentLogger,
    secretKey: services.secretKey,
    metrics: services.metrics,
    guard: new AddressGuard(services.config.allowTargets, async () => ['127.0.0.1']),
  });
  await worker.start();
  return worker;
}
