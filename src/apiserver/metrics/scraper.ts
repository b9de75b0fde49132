// Scrapes every Ready node's /metrics/resource through its agent (the kubelet client
// certificate, as for logs and exec) and keeps the samples in a MetricsStore: Skiff's
// metrics-server, in the API server's process.
//
// Scraping is on demand, then periodic: nothing is scraped until the metrics API or the
// HPA controller first asks. The first question that finds no rate yet waits for two scrapes
// 1 s apart (so `kubectl top` answers at once with a 1 s window); after that every node is
// scraped every 15 s (metrics-server's --metric-resolution=15s) and answers come from memory.
// With no questions for 10 minutes the loop stops, so clusters without metrics users (and
// thousands of simulated nodes) pay nothing.
import https from 'node:https';
import type { KObject } from '../../api/object.ts';
import { lookupResource } from '../../api/scheme.ts';
import { parseText } from '../../agent/metrics/prometheus.ts';
import type { Logger } from '../../util/log.ts';
import type { Registry } from '../registry/registry.ts';
import { agentAddress, type KubeletClientConfig } from '../handlers/pod-streams.ts';
import { MetricsStore, readScrape } from './store.ts';
import type { NodeMetricsPoint, PodMetricsPoint, ResourceMetricsSource } from './types.ts';

const NODES = lookupResource('', 'v1', 'nodes')!;

export interface ScraperOptions {
  registry: Registry;
  kubeletClient?: KubeletClientConfig;
  log: Logger;
  /** Between scrapes (default 15 s). */
  intervalMs?: number;
  /** Between the two first scrapes (default 1 s). */
  warmupGapMs?: number;
  /** Stop scraping after this long without a question (default 10 min). */
  idleAfterMs?: number;
  /** Per node (default 5 s). */
  timeoutMs?: number;
  /** Nodes scraped at once (default 16). */
  concurrency?: number;
  /** Reads a URL's body; HTTPS with the kubelet client certificate by default. */
  fetchText?: (url: string) => Promise<string>;
  now?: () => number;
}

const isReady = (node: KObject): boolean =>
  ((node.status as { conditions?: { type?: string; status?: string }[] } | undefined)?.conditions ?? [])
    .some((c) => c.type === 'Ready' && c.status === 'True');

export class MetricsScraper implements ResourceMetricsSource {
  readonly #o: Required<Omit<ScraperOptions, 'kubeletClient' | 'fetchText'>> & Pick<ScraperOptions, 'kubeletClient'>;
  readonly #fetch: (url: string) => Promise<string>;
  readonly store = new MetricsStore();
  #lastDemand = 0;
  #timer?: NodeJS.Timeout;
  #warmup?: Promise<void>;
  #inFlight?: Promise<void>;
  #scrapes = 0;
  #stopped = false;

  constructor(opts: ScraperOptions) {
    this.#o = {
      registry: opts.registry, kubeletClient: opts.kubeletClient, log: opts.log,
      intervalMs: opts.intervalMs ?? 15_000, warmupGapMs: opts.warmupGapMs ?? 1_000, idleAfterMs: opts.idleAfterMs ?? 600_000,
      timeoutMs: opts.timeoutMs ?? 5_000, concurrency: opts.concurrency ?? 16, now: opts.now ?? Date.now,
    };
    this.#fetch = opts.fetchText ?? ((url) => this.#httpsGet(url));
  }

  async nodeMetrics(): Promise<NodeMetricsPoint[]> {
    await this.#ready();
    return this.store.nodeMetrics();
  }

  async podMetrics(namespace?: string): Promise<PodMetricsPoint[]> {
    await this.#ready();
    return this.store.podMetrics(namespace);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Scrapes every Ready node once (concurrent calls share one scrape). */
  scrapeOnce(): Promise<void> {
    this.#inFlight ??= this.#scrapeAll().finally(() => { this.#inFlight = undefined; this.#scrapes++; });
    return this.#inFlight;
  }

  async #ready(): Promise<void> {
    if (this.#stopped) return;
    this.#lastDemand = this.#o.now();
    if (!this.#timer && !this.#warmup) this.#schedule(this.#o.intervalMs);
    if (this.#scrapes >= 2 || this.store.hasRates()) return;
    this.#warmup ??= (async () => {
      try {
        if (this.#scrapes === 0) await this.scrapeOnce();
        await new Promise((r) => setTimeout(r, this.#o.warmupGapMs));
        await this.scrapeOnce();
      } finally {
        this.#warmup = undefined;
      }
    })();
    await this.#warmup;
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#o.now() - this.#lastDemand > this.#o.idleAfterMs) return; // nobody is asking: stop until the next question
      this.scrapeOnce().catch(() => {}).finally(() => { if (!this.#timer) this.#schedule(this.#o.intervalMs); });
    }, ms);
    this.#timer.unref();
  }

  async #scrapeAll(): Promise<void> {
    const { items } = await this.#o.registry.list(NODES, undefined, {});
    const nodes = items.filter(isReady);
    this.store.retain(new Set(nodes.map((n) => n.metadata.name!)));
    let next = 0;
    const worker = async () => {
      while (next < nodes.length) {
        const node = nodes[next++]!;
        const name = node.metadata.name!;
        try {
          const base = await agentAddress(this.#o.registry, name);
          const text = await this.#fetch(`${base}/metrics/resource`);
          this.store.add(name, readScrape(parseText(text), this.#o.now()));
        } catch (err) {
          this.#o.log.debug('scraping node metrics failed', { node: name, error: String(err) });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#o.concurrency, nodes.length) }, worker));
  }

  #httpsGet(url: string): Promise<string> {
    const c = this.#o.kubeletClient;
    return new Promise((resolve, reject) => {
      const req = https.get(url, { cert: c?.certPem, key: c?.keyPem, ca: c?.caPem, rejectUnauthorized: c?.caPem !== undefined, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => { body += d; });
        res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`GET ${url}: ${res.statusCode}: ${body.slice(0, 200)}`))));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.setTimeout(this.#o.timeoutMs, () => req.destroy(new Error(`GET ${url}: no answer in ${this.#o.timeoutMs} ms`)));
    });
  }
}
