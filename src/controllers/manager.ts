// Runs the controllers (and anything else that must have a single active copy) while
// this server holds the controller Lease; stops them when it loses it.
import type { Registry } from '../apiserver/registry/registry.ts';
import { InProcessApi } from '../client/inprocess-resource.ts';
import { SharedInformerFactory } from '../client/informer-factory.ts';
import type { Logger } from '../util/log.ts';
import { RegistryEventRecorder } from './events.ts';
import { LeaderElector } from './leader/elector.ts';
import type { ClusterConfig, Controller, ControllerContext } from './types.ts';

export interface ManagerOptions {
  registry: Registry;
  log: Logger;
  config: ClusterConfig;
  identity: string;
  controllers: () => Controller[];
  now?: () => number;
}

export class ControllerManager {
  readonly #o: ManagerOptions;
  readonly #elector: LeaderElector;
  #running?: { controllers: Controller[]; informers: SharedInformerFactory };

  constructor(opts: ManagerOptions) {
    this.#o = opts;
    this.#elector = new LeaderElector(opts.registry, opts.log.child('leader'), {
      name: 'skiff-controllers', identity: opts.identity,
      onStartedLeading: () => { this.#startControllers().catch((err) => opts.log.error('controllers failed to start', { error: String(err) })); },
      onStoppedLeading: () => this.#stopControllers(),
    });
  }

  get leading(): boolean { return this.#elector.leading; }

  /** Resolves after the first election attempt (so a lone server starts leading at once). */
  async start(): Promise<void> {
    await this.#elector.tryOnce();
    this.#elector.start();
  }

  stop(): void {
    this.#elector.stop();
    this.#stopControllers();
  }

  async #startControllers(): Promise<void> {
    if (this.#running) return;
    const { registry, log, config } = this.#o;
    const api = new InProcessApi(registry, 'skiff-controller-manager');
    const informers = new SharedInformerFactory(api, { log: log.child('informers') });
    const controllers = this.#o.controllers();
    this.#running = { controllers, informers };
    const ctx: ControllerContext = {
      api, informers, log, config,
      recorder: (component) => new RegistryEventRecorder(registry, component, log.child('events')),
      now: this.#o.now ?? Date.now,
    };
    const run = this.#running;
    for (const c of controllers) {
      if (this.#running !== run) return; // stopped while starting
      try {
        await c.start({ ...ctx, log: log.child(c.name), api: new InProcessApi(registry, `skiff-${c.name}`) });
      } catch (err) {
        log.error('controller failed to start', { controller: c.name, error: String(err) });
      }
    }
    if (this.#running !== run) {
      for (const c of controllers) c.stop(); // stop() came during the last await
      return;
    }
    informers.start();
  }

  #stopControllers(): void {
    if (!this.#running) return;
    for (const c of this.#running.controllers) c.stop();
    this.#running.informers.stop();
    this.#running = undefined;
  }
}
