import type { StoreEvent } from '../contract.js';
import type { ControllerContext, SimulatedController } from './controller-context.js';
import { planEndpointsSync } from './endpoints-planner.js';
import {
  managesEndpoints,
  selectorMatches,
  type Endpoints,
  type Service,
} from './endpoints-subsets.js';
import { trackTriggerTime, type TriggerTimeState } from './endpoints-trigger-time.js';

/** `resourcelock.LeaderElectionRecordAnnotationKey`: such Endpoints have no Service by design. */
const leaderAnnotation = 'control-plane.alpha.kubernetes.io/leader';

const keyOf = (namespace: string | undefined, name: string) => `${namespace ?? ''}/${name}`;

/**
 * kube-controller-manager's endpoints controller: keeps an Endpoints of the same name for every
 * Service with a selector (not ExternalName), follows its Pods and its selector, deletes it
 * with the Service, and leaves the Endpoints of a Service without a selector alone.
 */
export class EndpointsController implements SimulatedController {
  /** namespace → Service name → selector, for the Services this controller manages. */
  private readonly selectors = new Map<string, Map<string, Record<string, string>>>();
  /** Pod uid → its labels at the last event, so a relabelled Pod also leaves its old Services. */
  private readonly podLabels = new Map<string, Record<string, string> | undefined>();
  private readonly triggerTimes = new Map<string, TriggerTimeState>();

  constructor(private readonly ctx: ControllerContext) {}

  onEvent(event: StoreEvent): void {
    const { resource, object } = event;
    const { namespace, name = '', uid = '' } = object.metadata;
    if (resource === 'services') {
      const service: Service | undefined = event.type === 'DELETED' ? undefined : object;
      this.remember(service, namespace, name);
      this.enqueue(namespace, name);
    } else if (resource === 'pods') {
      const before = this.podLabels.get(uid);
      const labels = object.metadata.labels;
      if (event.type === 'DELETED') this.podLabels.delete(uid);
      else this.podLabels.set(uid, labels);
      for (const [service, selector] of this.selectors.get(namespace ?? '') ?? []) {
        if (selectorMatches(selector, labels) || (before && selectorMatches(selector, before))) {
          this.enqueue(namespace, service);
        }
      }
    } else if (resource === 'endpoints' && event.type === 'DELETED') {
      this.enqueue(namespace, name);
    }
  }

  /** Every Service, and every Endpoints (`checkLeftoverEndpoints`: one without a Service goes). */
  resyncAll(): void {
    const { store } = this.ctx;
    for (const pod of store.list('pods')) {
      this.podLabels.set(pod.metadata.uid ?? '', pod.metadata.labels);
    }
    for (const service of store.list('services')) {
      const { namespace, name = '' } = service.metadata;
      this.remember(service, namespace, name);
      this.enqueue(namespace, name);
    }
    for (const endpoints of store.list('endpoints')) {
      if (endpoints.metadata.annotations?.[leaderAnnotation] !== undefined) continue;
      this.enqueue(endpoints.metadata.namespace, endpoints.metadata.name ?? '');
    }
  }

  private remember(service: Service | undefined, namespace: string | undefined, name: string) {
    const inNamespace =
      this.selectors.get(namespace ?? '') ?? new Map<string, Record<string, string>>();
    this.selectors.set(namespace ?? '', inNamespace);
    if (service && managesEndpoints(service)) inNamespace.set(name, service.spec?.selector ?? {});
    else inNamespace.delete(name);
  }

  private enqueue(namespace: string | undefined, name: string): void {
    this.ctx.queue.add(`endpoints/${keyOf(namespace, name)}`, () => this.sync(namespace, name));
  }

  private sync(namespace: string | undefined, name: string): void {
    const { store } = this.ctx;
    const key = keyOf(namespace, name);
    const service: Service | undefined = store.get('services', namespace, name);
    const current: Endpoints | undefined = store.get('endpoints', namespace, name);
    if (!service) {
      this.triggerTimes.delete(key);
      if (current) store.delete('endpoints', namespace, name);
      return;
    }
    if (!managesEndpoints(service)) return;
    const selector = service.spec?.selector ?? {};
    const pods = store
      .list('pods', { namespace })
      .filter((p) => selectorMatches(selector, p.metadata.labels));
    const tracked = trackTriggerTime(this.triggerTimes.get(key), service, pods);
    this.triggerTimes.set(key, tracked.state);
    const plan = planEndpointsSync(service, pods, current, tracked.timeMs);
    if (plan.action === 'create') store.create('endpoints', plan.endpoints);
    if (plan.action === 'update') store.update('endpoints', plan.endpoints);
  }
}
