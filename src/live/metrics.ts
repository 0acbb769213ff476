import { Counter, Gauge, type Registry } from 'prom-client';
import type { Live } from './live.js';

/** Live-update metrics of this api process, read from `live` on each scrape. */
export function watchLive(registry: Registry, live: Live): void {
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({ name, help, registers: [registry], collect() { this.set(read()); } });
  const counter = (name: string, help: string, read: () => number, labels?: Record<string, () => number>) =>
    new Counter({
      name,
      help,
      labelNames: labels ? ['reason'] : [],
      registers: [registry],
      collect() {
        this.reset();
        if (labels) for (const [reason, get] of Object.entries(labels)) this.inc({ reason }, get());
        else this.inc(read());
      },
    });
  gauge('hookgraph_live_listener_connected', '1 while the LISTEN connection is up.', () => (live.listener.connected ? 1 : 0));
  gauge('hookgraph_live_sockets', 'Open authenticated graphql-ws sockets.', () => live.connections.size);
  gauge('hookgraph_live_subscriptions', 'Open GraphQL subscriptions.', () => live.pubsub.subscriberCount);
  counter('hookgraph_live_messages_total', 'Live messages received over LISTEN (and re-read by resyncs).', () => live.stats.messages);
  counter('hookgraph_live_listener_reconnects_total', 'Times the LISTEN connection came back after a loss.', () => Math.max(0, live.listener.connects - 1));
  counter('hookgraph_live_sockets_closed_total', 'Sockets closed by hookgraph: revoked key, or too slow.', () => 0, {
    key_revoked: () => live.connections.closed.keyRevoked,
    slow_consumer: () => live.connections.closed.slowConsumer,
  });
}
