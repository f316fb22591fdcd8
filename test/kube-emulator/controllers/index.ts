import type { ControllerOptions, Controllers } from '../contract.js';
import type { ControllerContext, SimulatedController } from './controller-context.js';
import { DaemonSetController } from './daemonset-controller.js';
import { DeploymentController } from './deployment-controller.js';
import { EndpointsController } from './endpoints-controller.js';
import { EventRecorder } from './event-recorder.js';
import { JobController } from './job-controller.js';
import { Kubelet } from './kubelet.js';
import { ReplicaSetController } from './replicaset-controller.js';
import { StatefulSetController } from './statefulset-controller.js';
import { WorkQueue } from './work-queue.js';

/**
 * Starts the simulated controllers (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job,
 * Endpoints, and the scheduler + kubelet of `options.nodes`) against the store. They react to
 * store events and to clock timers only, and write only when something changed. `stop()`
 * unsubscribes and cancels every timer; it is idempotent.
 */
export function startControllers(options: ControllerOptions): Controllers {
  const queue = new WorkQueue(options.clock);
  const ctx: ControllerContext = {
    ...options,
    nodes: options.nodes.length > 0 ? options.nodes : ['node-1'],
    crashing: options.crashing ?? (() => false),
    crashAfterSeconds: options.crashAfterSeconds ?? 2,
    queue,
    recorder: new EventRecorder(options.store, options.clock),
  };
  const controllers: SimulatedController[] = [
    new DeploymentController(ctx),
    new ReplicaSetController(ctx),
    new StatefulSetController(ctx),
    new DaemonSetController(ctx),
    new JobController(ctx),
    new EndpointsController(ctx),
    new Kubelet(ctx),
  ];
  const unsubscribe = options.store.subscribe(
    (event) => {
      if (event.resource === 'events' || event.resource === 'events.events.k8s.io') return;
      for (const controller of controllers) controller.onEvent(event);
      // Controllers only read events (they queue syncs that read the store afresh): no copy each.
    },
    { shared: true },
  );
  for (const controller of controllers) controller.resyncAll();
  let stopped = false;
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      unsubscribe();
      queue.stop();
      for (const controller of controllers) controller.stop?.();
    },
  };
}
