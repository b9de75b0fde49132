// Runs the controllers (and anything else that must have a single active copy) while
// this server holds the controller Lease; stops them when it loses it. Given the server's
// authorizer, each controller runs under its own identity (see
// src/apiserver/authz/bootstrap-controllers.ts), as kube-controller-manager does with
// --use-service-account-credentials; the lease and the shared informers run as
// system:kube-controller-manager.
import type { Registry } from '../apiserver/registry/registry.ts';
import type { Authorizer } from '../apiserver/authz/authorizer.ts';
import type { AuditLog } from '../apiserver/audit/log.ts';
import { controllerManagerUser, controllerUser, ensureControllerAccounts } from '../apiserver/authz/bootstrap-controllers.ts';
import { authorizingRegistry, type InProcessIdentity } from '../client/inprocess-auth.ts';
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
  /** Builds the controllers; `registryFor(name)` is the registry as controller `name` may use it. */
  controllers: (registryFor: (controller: string) => Registry) => Controller[];
  /** Who may do what (the API server's authorizer). Without it components are not checked. */
  authorization?: { authz: Authorizer };
  /** The server's audit log: controllers' requests are audited under their identities. */
  audit?: AuditLog;
  now?: () => number;
}

export class ControllerManager {
  readonly #o: ManagerOptions;
  readonly #elector: LeaderElector;
  readonly #identities = new Map<string, InProcessIdentity | undefined>();
  readonly #self?: InProcessIdentity;
  #running?: { controllers: Controller[]; informers: SharedInformerFactory };
  /** Counts stops, so a start that was waiting when one came gives up. */
  #stops = 0;

  constructor(opts: ManagerOptions) {
    this.#o = opts;
    const authz = opts.authorization?.authz;
    this.#self = authz ? { user: controllerManagerUser(), authz, log: opts.log.child('authz'), audit: opts.audit, userAgent: 'skiff-controller-manager' } : undefined;
    const registry = this.#self ? authorizingRegistry(opts.registry, this.#self) : opts.registry;
    this.#elector = new LeaderElector(registry, opts.log.child('leader'), {
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

  /** A controller's identity: its own user, checked by the server's authorizer. */
  #identity(controller: string): InProcessIdentity | undefined {
    if (this.#identities.has(controller)) return this.#identities.get(controller);
    const authz = this.#o.authorization?.authz;
    let id: InProcessIdentity | undefined;
    if (authz) {
      const user = controllerUser(controller);
      if (user) id = { user, authz, log: this.#o.log.child(controller), audit: this.#o.audit, userAgent: `skiff-controller-manager/${controller}` };
      else this.#o.log.warn('controller has no identity in bootstrap-controllers.ts: its requests are not authorized', { controller });
    }
    this.#identities.set(controller, id);
    return id;
  }

  #registryFor(controller: string): Registry {
    const id = this.#identity(controller);
    return id ? authorizingRegistry(this.#o.registry, id) : this.#o.registry;
  }

  async #startControllers(): Promise<void> {
    if (this.#running) return;
    const stops = this.#stops;
    const { registry, log, config } = this.#o;
    if (this.#self) {
      // Their service accounts, as kube-controller-manager makes them (RBAC needs only the names).
      await ensureControllerAccounts(new InProcessApi(registry, 'skiff-controller-manager'))
        .catch((err) => log.warn('could not make the controller service accounts', { error: String(err) }));
      // A stop during that wait found nothing running yet: starting now would leave
      // controllers (and their timers) running in a stopped server.
      if (this.#stops !== stops || this.#running) return;
    }
    const api = new InProcessApi(registry, 'skiff-controller-manager', this.#self);
    const informers = new SharedInformerFactory(api, { log: log.child('informers') });
    const controllers = this.#o.controllers((name) => this.#registryFor(name));
    this.#running = { controllers, informers };
    const ctx: ControllerContext = {
      api, informers, log, config,
      recorder: (component) => new RegistryEventRecorder(registry, component, log.child('events')),
      now: this.#o.now ?? Date.now,
    };
    const run = this.#running;
    for (const c of controllers) {
      if (this.#running !== run) return; // stopped while starting
      const id = this.#identity(c.name);
      const own = this.#registryFor(c.name);
      try {
        await c.start({
          ...ctx, log: log.child(c.name), api: new InProcessApi(registry, `skiff-${c.name}`, id),
          recorder: (component) => new RegistryEventRecorder(own, component, log.child('events')),
        });
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
    this.#stops++;
    if (!this.#running) return;
    for (const c of this.#running.controllers) c.stop();
    this.#running.informers.stop();
    this.#running = undefined;
  }
}
