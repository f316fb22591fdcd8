import type { KubeObject } from '../contract.js';
import type { RecordedEvent } from './event-recorder.js';
import type { Deployment, DeploymentStatus, ReplicaSet } from './deployment-types.js';
import { desiredReplicasAnnotation, revisionAnnotation } from './deployment-types.js';
import {
  byCreation,
  findNewReplicaSet,
  maxRevision,
  newReplicaSetReplicas,
  replicaSetFor,
  setNewReplicaSetAnnotations,
  setReplicasAnnotations,
} from './deployment-replica-sets.js';
import { planProgress, requeueStuckDeployment, statusChanged } from './deployment-progress.js';
import {
  DeploymentReason,
  availableReplicaCount,
  calculateStatus,
  deploymentComplete,
  desiredReplicas,
  getCondition,
  hasProgressDeadline,
  isRollingUpdate,
  maxSurge,
  maxUnavailable,
  newCondition,
  replicaCount,
  revisionOf,
  setCondition,
  specReplicas,
} from './deployment-util.js';
import { isPodActive } from './pod-status.js';
import { controllerOf } from './owner-refs.js';

/** One effect of a Deployment sync, applied in order by the controller. */
export type DeploymentStep =
  | { type: 'createReplicaSet'; replicaSet: ReplicaSet }
  | { type: 'updateReplicaSet'; replicaSet: ReplicaSet }
  | { type: 'deleteReplicaSet'; name: string }
  | { type: 'updateDeploymentAnnotations'; annotations: Record<string, string> }
  | { type: 'updateDeploymentStatus'; status: DeploymentStatus }
  | { type: 'event'; event: RecordedEvent };

export interface DeploymentPlan {
  steps: DeploymentStep[];
  /** Sync again after this many emulated ms (the progress deadline check), if set. */
  requeueAfterMs?: number;
}

export interface DeploymentSyncInput {
  deployment: Deployment;
  /** The ReplicaSets the Deployment controls. */
  replicaSets: ReplicaSet[];
  /** The Pods of those ReplicaSets (Recreate waits for old ones to be gone). */
  pods: KubeObject[];
  nowMs: number;
}

const active = (rss: ReplicaSet[]): ReplicaSet[] => rss.filter((rs) => specReplicas(rs) > 0);

/**
 * One pass of the Kubernetes deployment controller's `syncDeployment` over a snapshot, as a list of
 * effects: find or create the new ReplicaSet, scale it up by maxSurge and old ones down within
 * maxUnavailable (or Recreate), clean up history, and compute status and conditions. Pure.
 */
export function planDeploymentSync(input: DeploymentSyncInput): DeploymentPlan {
  const planner = new DeploymentPlanner(input);
  planner.run();
  return { steps: planner.steps, requeueAfterMs: planner.requeueAfterMs };
}

class DeploymentPlanner {
  readonly steps: DeploymentStep[] = [];
  requeueAfterMs: number | undefined;
  private readonly d: Deployment;
  private readonly rsList: ReplicaSet[];
  private readonly now: number;

  constructor(private readonly input: DeploymentSyncInput) {
    this.d = structuredClone(input.deployment);
    this.rsList = input.replicaSets.map((rs) => structuredClone(rs));
    this.now = input.nowMs;
  }

  run(): void {
    if (this.d.metadata.deletionTimestamp) return;
    this.checkPausedConditions();
    if (this.d.spec.paused || this.isScalingEvent()) {
      this.syncScaleOnly();
      return;
    }
    if (isRollingUpdate(this.d)) this.rolloutRolling();
    else this.rolloutRecreate();
  }

  private event(reason: string, message: string): void {
    this.steps.push({ type: 'event', event: { type: 'Normal', reason, message } });
  }

  private writeStatus(status: DeploymentStatus): void {
    this.d.status = status;
    this.steps.push({ type: 'updateDeploymentStatus', status: structuredClone(status) });
  }

  private checkPausedConditions(): void {
    if (!hasProgressDeadline(this.d)) return;
    const cond = getCondition(this.d.status, 'Progressing');
    if (cond?.reason === DeploymentReason.ProgressDeadlineExceeded) return;
    const pausedCondExists = cond?.reason === DeploymentReason.DeploymentPaused;
    const status = structuredClone(this.d.status ?? {});
    if (this.d.spec.paused && !pausedCondExists) {
      setCondition(
        status,
        newCondition(
          'Progressing',
          'Unknown',
          'DeploymentPaused',
          'Deployment is paused',
          this.now,
        ),
      );
    } else if (!this.d.spec.paused && pausedCondExists) {
      setCondition(
        status,
        newCondition(
          'Progressing',
          'Unknown',
          'DeploymentResumed',
          'Deployment is resumed',
          this.now,
        ),
      );
    } else {
      return;
    }
    this.writeStatus(status);
  }

  private isScalingEvent(): boolean {
    return active(this.rsList).some((rs) => {
      const desired = rs.metadata.annotations?.[desiredReplicasAnnotation];
      return desired !== undefined && Number(desired) !== desiredReplicas(this.d);
    });
  }

  /** `getAllReplicaSetsAndSyncRevision`. */
  private replicaSets(create: boolean): { newRS: ReplicaSet | undefined; oldRSs: ReplicaSet[] } {
    const existing = findNewReplicaSet(this.d, this.rsList);
    const oldRSs = this.rsList.filter((rs) => rs !== existing);
    return { newRS: this.syncNewReplicaSet(existing, oldRSs, create), oldRSs };
  }

  /** `getNewReplicaSet`. */
  private syncNewReplicaSet(
    existing: ReplicaSet | undefined,
    oldRSs: ReplicaSet[],
    create: boolean,
  ): ReplicaSet | undefined {
    const newRevision = maxRevision(oldRSs) + 1;
    if (existing) {
      const annotationsUpdated = setNewReplicaSetAnnotations(this.d, existing, newRevision, true);
      const minReady = this.d.spec.minReadySeconds ?? 0;
      if (annotationsUpdated || (existing.spec.minReadySeconds ?? 0) !== minReady) {
        if (minReady) existing.spec.minReadySeconds = minReady;
        else delete existing.spec.minReadySeconds;
        this.steps.push({ type: 'updateReplicaSet', replicaSet: structuredClone(existing) });
        return existing;
      }
      const annotate = this.setDeploymentRevision(String(revisionOf(existing)));
      const status = structuredClone(this.d.status ?? {});
      let statusUpdate = false;
      if (hasProgressDeadline(this.d) && !getCondition(this.d.status, 'Progressing')) {
        const message = `Found new replica set "${existing.metadata.name ?? ''}"`;
        setCondition(
          status,
          newCondition(
            'Progressing',
            'True',
            DeploymentReason.FoundNewReplicaSet,
            message,
            this.now,
          ),
        );
        statusUpdate = true;
      }
      if (annotate) this.flushAnnotations();
      if (statusUpdate) this.writeStatus(status);
      return existing;
    }
    if (!create) return undefined;
    const newRS = replicaSetFor(this.d);
    const clash = this.rsList.find((rs) => rs.metadata.name === newRS.metadata.name);
    if (clash) {
      // A hash collision: a different template under the same name. Retry with a new hash.
      this.writeStatus({
        ...structuredClone(this.d.status ?? {}),
        collisionCount: (this.d.status?.collisionCount ?? 0) + 1,
      });
      return undefined;
    }
    newRS.spec.replicas = newReplicaSetReplicas(this.d, [...oldRSs, newRS], newRS);
    setNewReplicaSetAnnotations(this.d, newRS, newRevision, false);
    this.steps.push({ type: 'createReplicaSet', replicaSet: structuredClone(newRS) });
    this.rsList.push(newRS);
    const name = newRS.metadata.name ?? '';
    if (specReplicas(newRS) > 0) {
      this.event('ScalingReplicaSet', `Scaled up replica set ${name} to ${specReplicas(newRS)}`);
    }
    if (this.setDeploymentRevision(String(newRevision))) this.flushAnnotations();
    if (hasProgressDeadline(this.d)) {
      const status = structuredClone(this.d.status ?? {});
      setCondition(
        status,
        newCondition(
          'Progressing',
          'True',
          DeploymentReason.NewReplicaSetCreated,
          `Created new replica set "${name}"`,
          this.now,
        ),
      );
      this.writeStatus(status);
    }
    return newRS;
  }

  private setDeploymentRevision(revision: string): boolean {
    if (this.d.metadata.annotations?.[revisionAnnotation] === revision) return false;
    this.d.metadata.annotations = {
      ...(this.d.metadata.annotations ?? {}),
      [revisionAnnotation]: revision,
    };
    return true;
  }

  private flushAnnotations(): void {
    this.steps.push({
      type: 'updateDeploymentAnnotations',
      annotations: { ...(this.d.metadata.annotations ?? {}) },
    });
  }

  /** `scaleReplicaSetAndRecordEvent`; true when the size changed. */
  private scaleReplicaSet(rs: ReplicaSet, newScale: number): boolean {
    const oldScale = specReplicas(rs);
    const sizeChanged = oldScale !== newScale;
    const annotationsChanged = setReplicasAnnotations(rs, this.d);
    if (!sizeChanged && !annotationsChanged) return false;
    rs.spec.replicas = newScale;
    this.steps.push({ type: 'updateReplicaSet', replicaSet: structuredClone(rs) });
    if (sizeChanged) {
      const direction = oldScale < newScale ? 'up' : 'down';
      this.event(
        'ScalingReplicaSet',
        `Scaled ${direction} replica set ${rs.metadata.name ?? ''} to ${newScale} from ${oldScale}`,
      );
    }
    return sizeChanged;
  }

  private rolloutRolling(): void {
    const { newRS, oldRSs } = this.replicaSets(true);
    if (!newRS) return;
    const allRSs = [...oldRSs, newRS];
    const snapshot = allRSs.map((rs) => structuredClone(rs));
    const snapshotNew = snapshot[snapshot.length - 1];
    if (this.reconcileNewReplicaSet(allRSs, newRS))
      return this.syncRolloutStatus(snapshot, snapshotNew);
    if (this.reconcileOldReplicaSets(allRSs, active(oldRSs), newRS)) {
      return this.syncRolloutStatus(snapshot, snapshotNew);
    }
    if (deploymentComplete(this.d, this.d.status)) this.cleanupDeployment(oldRSs);
    this.syncRolloutStatus(snapshot, snapshotNew);
  }

  private reconcileNewReplicaSet(allRSs: ReplicaSet[], newRS: ReplicaSet): boolean {
    const desired = desiredReplicas(this.d);
    if (specReplicas(newRS) === desired) return false;
    if (specReplicas(newRS) > desired) return this.scaleReplicaSet(newRS, desired);
    return this.scaleReplicaSet(newRS, newReplicaSetReplicas(this.d, allRSs, newRS));
  }

  private reconcileOldReplicaSets(
    allRSs: ReplicaSet[],
    oldRSs: ReplicaSet[],
    newRS: ReplicaSet,
  ): boolean {
    if (replicaCount(oldRSs) === 0) return false;
    const minAvailable = desiredReplicas(this.d) - maxUnavailable(this.d);
    const newUnavailable = specReplicas(newRS) - (newRS.status?.availableReplicas ?? 0);
    const maxScaledDown = replicaCount(allRSs) - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return false;
    const sorted = [...oldRSs].sort(byCreation);
    let cleaned = 0;
    for (const rs of sorted) {
      if (cleaned >= maxScaledDown) break;
      const available = rs.status?.availableReplicas ?? 0;
      if (specReplicas(rs) === 0 || specReplicas(rs) === available) continue;
      const count = Math.min(maxScaledDown - cleaned, specReplicas(rs) - available);
      this.scaleReplicaSet(rs, specReplicas(rs) - count);
      cleaned += count;
    }
    return cleaned + this.scaleDownOldForRollingUpdate([...sorted, newRS], sorted) > 0;
  }

  private scaleDownOldForRollingUpdate(allRSs: ReplicaSet[], oldRSs: ReplicaSet[]): number {
    const minAvailable = desiredReplicas(this.d) - maxUnavailable(this.d);
    const availableCount = availableReplicaCount(allRSs);
    if (availableCount <= minAvailable) return 0;
    const total = availableCount - minAvailable;
    let scaled = 0;
    for (const rs of oldRSs) {
      if (scaled >= total) break;
      if (specReplicas(rs) === 0) continue;
      const count = Math.min(specReplicas(rs), total - scaled);
      this.scaleReplicaSet(rs, specReplicas(rs) - count);
      scaled += count;
    }
    return scaled;
  }

  private rolloutRecreate(): void {
    let { newRS, oldRSs } = this.replicaSets(false);
    const snapshot = (): ReplicaSet[] =>
      [...oldRSs, ...(newRS ? [newRS] : [])].map((rs) => structuredClone(rs));
    const before = snapshot();
    const beforeNew = newRS ? before[before.length - 1] : undefined;
    let scaledDown = false;
    for (const rs of active(oldRSs)) {
      if (this.scaleReplicaSet(rs, 0)) scaledDown = true;
    }
    if (scaledDown) return this.syncRolloutStatus(before, beforeNew);
    const oldUids = new Set(oldRSs.map((rs) => rs.metadata.uid));
    const oldPodsRunning = this.input.pods.some(
      (pod) => oldUids.has(controllerOf(pod)?.uid) && isPodActive(pod),
    );
    if (oldPodsRunning) return this.syncRolloutStatus(before, beforeNew);
    if (!newRS) ({ newRS, oldRSs } = this.replicaSets(true));
    if (!newRS) return;
    const all = snapshot();
    this.scaleReplicaSet(newRS, desiredReplicas(this.d));
    if (deploymentComplete(this.d, this.d.status)) this.cleanupDeployment(oldRSs);
    this.syncRolloutStatus(all, all[all.length - 1]);
  }

  /** `sync`: a paused Deployment or a scaling event only scales and reports status. */
  private syncScaleOnly(): void {
    const { newRS, oldRSs } = this.replicaSets(false);
    const before = [...oldRSs, ...(newRS ? [newRS] : [])].map((rs) => structuredClone(rs));
    this.scale(newRS, oldRSs);
    if (this.d.spec.paused && deploymentComplete(this.d, this.d.status)) {
      this.cleanupDeployment(oldRSs);
    }
    const status = calculateStatus(
      this.d,
      before,
      newRS ? before[before.length - 1] : undefined,
      this.now,
    );
    if (statusChanged(this.d.status, status)) this.writeStatus(status);
  }

  /** `scale`, with proportions simplified to the ReplicaSets' current sizes. */
  private scale(newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): void {
    const desired = desiredReplicas(this.d);
    const activeRSs = active([...oldRSs, ...(newRS ? [newRS] : [])]);
    if (activeRSs.length <= 1) {
      const target = activeRSs[0] ?? newRS ?? [...oldRSs].sort(byCreation).at(-1);
      if (target) this.scaleReplicaSet(target, desired);
      return;
    }
    if (
      newRS &&
      specReplicas(newRS) === desired &&
      (newRS.status?.availableReplicas ?? 0) === desired
    ) {
      for (const rs of active(oldRSs)) this.scaleReplicaSet(rs, 0);
      return;
    }
    if (!isRollingUpdate(this.d)) return;
    const current = replicaCount(activeRSs);
    const allowed = desired > 0 ? desired + maxSurge(this.d) : 0;
    const toAdd = allowed - current;
    const sorted = [...activeRSs].sort(
      (a, b) => specReplicas(b) - specReplicas(a) || byCreation(b, a),
    );
    let added = 0;
    const sizes = sorted.map((rs) => {
      const share = current > 0 ? Math.trunc((toAdd * specReplicas(rs)) / current) : 0;
      added += share;
      return specReplicas(rs) + share;
    });
    sizes[0] = Math.max(0, (sizes[0] ?? 0) + toAdd - added);
    sorted.forEach((rs, i) => this.scaleReplicaSet(rs, sizes[i] ?? 0));
  }

  private cleanupDeployment(oldRSs: ReplicaSet[]): void {
    const limit = this.d.spec.revisionHistoryLimit ?? 10;
    const cleanable = oldRSs.filter((rs) => !rs.metadata.deletionTimestamp);
    const excess = cleanable.length - limit;
    if (excess <= 0) return;
    const byRevision = [...cleanable].sort(
      (a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b),
    );
    for (const rs of byRevision.slice(0, excess)) {
      if ((rs.status?.replicas ?? 0) !== 0 || specReplicas(rs) !== 0) continue;
      if ((rs.metadata.generation ?? 1) > (rs.status?.observedGeneration ?? 0)) continue;
      this.steps.push({ type: 'deleteReplicaSet', name: rs.metadata.name ?? '' });
    }
  }

  /** `syncRolloutStatus`. */
  private syncRolloutStatus(allRSs: ReplicaSet[], newRS: ReplicaSet | undefined): void {
    const status = planProgress(this.d, allRSs, newRS, this.now);
    if (!statusChanged(this.d.status, status)) {
      this.requeueAfterMs = requeueStuckDeployment(this.d, status, this.now);
      return;
    }
    this.writeStatus(status);
  }
}
