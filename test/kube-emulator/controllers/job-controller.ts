import type { StoreEvent } from '../contract.js';
import type { ControllerContext, SimulatedController } from './controller-context.js';
import type { Job } from './job-planner.js';
import { planJobSync } from './job-planner.js';
import { controllerOf, isControlledBy } from './owner-refs.js';

const jobs = 'jobs.batch';

/** The Job controller: runs Pods to completion, or fails the Job past its backoff limit. */
export class JobController implements SimulatedController {
  constructor(private readonly ctx: ControllerContext) {}

  onEvent(event: StoreEvent): void {
    const { resource, object } = event;
    if (resource === jobs && event.type !== 'DELETED') {
      this.enqueue(object.metadata.namespace, object.metadata.name ?? '');
    }
    if (resource === 'pods') {
      const owner = controllerOf(object);
      if (owner?.kind === 'Job') this.enqueue(object.metadata.namespace, owner.name);
    }
  }

  resyncAll(): void {
    for (const job of this.ctx.store.list(jobs)) {
      this.enqueue(job.metadata.namespace, job.metadata.name ?? '');
    }
  }

  private enqueue(namespace: string | undefined, name: string): void {
    this.ctx.queue.add(`job/${namespace ?? ''}/${name}`, () => this.sync(namespace, name));
  }

  private sync(namespace: string | undefined, name: string): void {
    const { store, recorder, clock } = this.ctx;
    const job = store.get(jobs, namespace, name) as Job | undefined;
    if (!job) return;
    const pods = store
      .list('pods', { namespace, ownerUid: job.metadata.uid ?? '' })
      .filter((p) => isControlledBy(p, job.metadata.uid));
    const plan = planJobSync(job, pods, clock.now());
    const record = (type: 'Normal' | 'Warning', reason: string, message: string) =>
      recorder.record(job, 'job-controller', { type, reason, message });
    for (const pod of plan.createPods) {
      const created = store.create('pods', pod);
      record('Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name ?? ''}`);
    }
    for (const podName of plan.deletePods) {
      store.delete('pods', namespace, podName);
      record('Normal', 'SuccessfulDelete', `Deleted pod: ${podName}`);
    }
    if (plan.status) store.updateStatus(jobs, { ...job, status: plan.status });
    if (plan.finished) record(plan.finished.type, plan.finished.reason, plan.finished.message);
  }
}
