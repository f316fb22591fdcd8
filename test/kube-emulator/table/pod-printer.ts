import type { KubeObject } from '../contract.js';
import { ageSince, humanDuration } from './human-duration.js';
import {
  ageColumn,
  column,
  int,
  nameColumn,
  type Cell,
  type TablePrinter,
} from './table-printer.js';

interface ContainerState {
  waiting?: { reason?: string };
  running?: object;
  terminated?: { reason?: string; exitCode?: number; signal?: number; finishedAt?: string };
}

interface ContainerStatus {
  name: string;
  ready?: boolean;
  started?: boolean;
  restartCount?: number;
  state?: ContainerState;
  lastState?: ContainerState;
}

interface Condition {
  type: string;
  status: string;
  reason?: string;
}

interface PodParts {
  containers: { name: string; restartPolicy?: string }[];
  initContainers: { name: string; restartPolicy?: string }[];
  initStatuses: ContainerStatus[];
  statuses: ContainerStatus[];
  conditions: Condition[];
}

function parts(pod: KubeObject): PodParts {
  return {
    containers: pod.spec?.containers ?? [],
    initContainers: pod.spec?.initContainers ?? [],
    initStatuses: pod.status?.initContainerStatuses ?? [],
    statuses: pod.status?.containerStatuses ?? [],
    conditions: pod.status?.conditions ?? [],
  };
}

function terminatedReason(t: NonNullable<ContainerState['terminated']>, prefix: string): string {
  if (t.reason) return `${prefix}${t.reason}`;
  return t.signal ? `${prefix}Signal:${t.signal}` : `${prefix}ExitCode:${int(t.exitCode)}`;
}

/** The init-container part of printPod: a reason while initializing, undefined when done. */
function initReason(p: PodParts): string | undefined {
  for (const [i, s] of p.initStatuses.entries()) {
    const sidecar = p.initContainers.find((c) => c.name === s.name)?.restartPolicy === 'Always';
    if (s.state?.terminated && int(s.state.terminated.exitCode) === 0) continue;
    if (sidecar && s.started) continue;
    if (s.state?.terminated) return terminatedReason(s.state.terminated, 'Init:');
    const waiting = s.state?.waiting?.reason;
    if (waiting && waiting !== 'PodInitializing') return `Init:${waiting}`;
    return `Init:${i}/${p.initContainers.length}`;
  }
  return undefined;
}

/** The latest `lastState.terminated.finishedAt` of `statuses`, in ms (0 when none). */
function lastRestartMs(statuses: ContainerStatus[]): number {
  const times = statuses.map((s) => Date.parse(s.lastState?.terminated?.finishedAt ?? ''));
  return Math.max(0, ...times.filter((t) => !Number.isNaN(t)));
}

/** READY, STATUS and RESTARTS (`3 (25s ago)`: the age of the last restart) as printPod has them. */
function podState(
  pod: KubeObject,
  nowMs: number,
): [ready: string, status: string, restarts: string] {
  const p = parts(pod);
  const sidecars = p.initContainers.filter((c) => c.restartPolicy === 'Always');
  const total = p.containers.length + sidecars.length;
  let reason: string = pod.status?.reason || pod.status?.phase || 'Pending';
  if (p.conditions.some((c) => c.type === 'PodScheduled' && c.reason === 'SchedulingGated')) {
    reason = 'SchedulingGated';
  }
  let ready = p.initStatuses.filter(
    (s) => sidecars.some((c) => c.name === s.name) && s.started && s.ready,
  ).length;
  let restarts = p.initStatuses.reduce((n, s) => n + int(s.restartCount), 0);
  let lastRestart = lastRestartMs(p.initStatuses);
  const initializing = initReason(p);
  const initialized = p.conditions.some((c) => c.type === 'Initialized' && c.status === 'True');
  if (initializing !== undefined) reason = initializing;
  if (initializing === undefined || initialized) {
    const sidecarStatuses = p.initStatuses.filter((s) => sidecars.some((c) => c.name === s.name));
    restarts = sidecarStatuses.reduce((n, s) => n + int(s.restartCount), 0);
    lastRestart = lastRestartMs([...sidecarStatuses, ...p.statuses]);
    let hasRunning = false;
    for (const s of [...p.statuses].reverse()) {
      restarts += int(s.restartCount);
      if (s.state?.waiting?.reason) reason = s.state.waiting.reason;
      else if (s.state?.terminated) reason = terminatedReason(s.state.terminated, '');
      else if (s.ready && s.state?.running) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      const podReady = p.conditions.some((c) => c.type === 'Ready' && c.status === 'True');
      reason = podReady ? 'Running' : 'NotReady';
    }
  }
  const phase = pod.status?.phase as string | undefined;
  if (pod.metadata.deletionTimestamp && pod.status?.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed') {
    reason = 'Terminating';
  }
  const restartsCell =
    restarts !== 0 && lastRestart > 0
      ? `${restarts} (${humanDuration(nowMs - lastRestart)} ago)`
      : String(restarts);
  return [`${ready}/${total}`, reason, restartsCell];
}

function readinessGates(pod: KubeObject): string {
  const gates = (pod.spec?.readinessGates ?? []) as { conditionType: string }[];
  if (gates.length === 0) return '<none>';
  const conditions = parts(pod).conditions;
  const met = gates.filter((g) =>
    conditions.some((c) => c.type === g.conditionType && c.status === 'True'),
  ).length;
  return `${met}/${gates.length}`;
}

export const podPrinter: TablePrinter = {
  columns: [
    nameColumn,
    column('Ready', 'The aggregate readiness state of this pod for accepting traffic.'),
    column('Status', 'The aggregate status of the containers in this pod.'),
    column(
      'Restarts',
      'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
    ),
    ageColumn,
    column('IP', 'podIP address allocated to the pod.', { wide: true }),
    column('Node', 'NodeName indicates in which node this pod is scheduled.', { wide: true }),
    column('Nominated Node', 'nominatedNodeName is set when this pod preempts other pods.', {
      wide: true,
    }),
    column(
      'Readiness Gates',
      'If specified, all readiness gates will be evaluated for pod readiness.',
      {
        wide: true,
      },
    ),
  ],
  cells: (pod, nowMs): Cell[] => [
    pod.metadata.name ?? '',
    ...podState(pod, nowMs),
    ageSince(pod.metadata.creationTimestamp, nowMs),
    (pod.status?.podIPs as { ip?: string }[] | undefined)?.[0]?.ip || '<none>',
    pod.spec?.nodeName || '<none>',
    pod.status?.nominatedNodeName || '<none>',
    readinessGates(pod),
  ],
  conditions: (pod) => {
    if (pod.status?.phase === 'Succeeded') {
      return [
        {
          type: 'Completed',
          status: 'True',
          reason: 'Succeeded',
          message: 'The pod has completed successfully.',
        },
      ];
    }
    if (pod.status?.phase === 'Failed') {
      return [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }];
    }
    return undefined;
  },
};
