import type { KubeObject } from '../contract.js';
import { ageSince, humanDuration } from './human-duration.js';
import { formatLabels, formatLabelSelector, selectorString } from './label-format.js';
import {
  ageColumn,
  column,
  containerCells,
  containersColumn,
  imagesColumn,
  int,
  nameColumn,
  type TablePrinter,
} from './table-printer.js';

const selectorColumn = column(
  'Selector',
  'Label query over pods that should match the replica count.',
  {
    wide: true,
  },
);

function podSpec(object: KubeObject): unknown {
  return (object.spec as { template?: { spec?: unknown } } | undefined)?.template?.spec;
}

function age(object: KubeObject, nowMs: number): string {
  return ageSince(object.metadata.creationTimestamp, nowMs);
}

export const deploymentPrinter: TablePrinter = {
  columns: [
    nameColumn,
    column('Ready', 'Number of the pod with ready state'),
    column(
      'Up-to-date',
      'Total number of non-terminated pods targeted by this deployment that have the desired template spec.',
    ),
    column(
      'Available',
      'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.',
    ),
    ageColumn,
    containersColumn,
    imagesColumn,
    selectorColumn,
  ],
  cells: (d, nowMs) => [
    d.metadata.name ?? '',
    `${int(d.status?.readyReplicas)}/${int(d.spec?.replicas)}`,
    int(d.status?.updatedReplicas),
    int(d.status?.availableReplicas),
    age(d, nowMs),
    ...containerCells(podSpec(d)),
    selectorString(d.spec?.selector),
  ],
};

export const replicaSetPrinter: TablePrinter = {
  columns: [
    nameColumn,
    column('Desired', 'Replicas is the number of desired replicas.', { type: 'integer' }),
    column('Current', 'Replicas is the most recently observed number of replicas.', {
      type: 'integer',
    }),
    column('Ready', 'The number of ready replicas for this replica set.', { type: 'integer' }),
    ageColumn,
    containersColumn,
    imagesColumn,
    selectorColumn,
  ],
  cells: (rs, nowMs) => [
    rs.metadata.name ?? '',
    int(rs.spec?.replicas),
    int(rs.status?.replicas),
    int(rs.status?.readyReplicas),
    age(rs, nowMs),
    ...containerCells(podSpec(rs)),
    formatLabelSelector(rs.spec?.selector),
  ],
};

export const statefulSetPrinter: TablePrinter = {
  columns: [
    nameColumn,
    column('Ready', 'Number of the pod with ready state'),
    ageColumn,
    containersColumn,
    imagesColumn,
  ],
  cells: (sts, nowMs) => [
    sts.metadata.name ?? '',
    `${int(sts.status?.readyReplicas)}/${int(sts.spec?.replicas)}`,
    age(sts, nowMs),
    ...containerCells(podSpec(sts)),
  ],
};

export const daemonSetPrinter: TablePrinter = {
  columns: [
    nameColumn,
    column('Desired', 'The total number of nodes that should be running the daemon pod.', {
      type: 'integer',
    }),
    column(
      'Current',
      'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.',
      { type: 'integer' },
    ),
    column(
      'Ready',
      'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.',
      { type: 'integer' },
    ),
    column('Up-to-date', 'The total number of nodes that are running updated daemon pod.', {
      type: 'integer',
    }),
    column(
      'Available',
      'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.',
      { type: 'integer' },
    ),
    column(
      'Node Selector',
      'NodeSelector is a selector which must be true for the pod to fit on a node.',
    ),
    ageColumn,
    containersColumn,
    imagesColumn,
    selectorColumn,
  ],
  cells: (ds, nowMs) => [
    ds.metadata.name ?? '',
    int(ds.status?.desiredNumberScheduled),
    int(ds.status?.currentNumberScheduled),
    int(ds.status?.numberReady),
    int(ds.status?.updatedNumberScheduled),
    int(ds.status?.numberAvailable),
    formatLabels(
      (podSpec(ds) as { nodeSelector?: Record<string, string> } | undefined)?.nodeSelector,
    ),
    age(ds, nowMs),
    ...containerCells(podSpec(ds)),
    formatLabelSelector(ds.spec?.selector),
  ],
};

interface JobCondition {
  type: string;
  status: string;
}

function hasCondition(job: KubeObject, type: string): boolean {
  const found = ((job.status?.conditions ?? []) as JobCondition[]).find((c) => c.type === type);
  return found?.status === 'True';
}

function jobStatus(job: KubeObject): string {
  if (hasCondition(job, 'Complete')) return 'Complete';
  if (hasCondition(job, 'Failed')) return 'Failed';
  if (job.metadata.deletionTimestamp) return 'Terminating';
  if (hasCondition(job, 'Suspended')) return 'Suspended';
  if (hasCondition(job, 'FailureTarget')) return 'FailureTarget';
  return 'Running';
}

function jobCompletions(job: KubeObject): string {
  const succeeded = int(job.status?.succeeded);
  if (typeof job.spec?.completions === 'number') return `${succeeded}/${job.spec.completions}`;
  const parallelism = int(job.spec?.parallelism);
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

function jobDuration(job: KubeObject, nowMs: number): string {
  const start = Date.parse(String(job.status?.startTime ?? ''));
  if (Number.isNaN(start)) return '';
  const end = Date.parse(String(job.status?.completionTime ?? ''));
  return humanDuration((Number.isNaN(end) ? nowMs : end) - start);
}

export const jobPrinter: TablePrinter = {
  columns: [
    nameColumn,
    column('Status', 'Status of the job.'),
    column('Completions', 'The number of pods which reached phase Succeeded.'),
    column('Duration', 'Time required to complete the job.'),
    ageColumn,
    containersColumn,
    imagesColumn,
    selectorColumn,
  ],
  cells: (job, nowMs) => [
    job.metadata.name ?? '',
    jobStatus(job),
    jobCompletions(job),
    jobDuration(job, nowMs),
    age(job, nowMs),
    ...containerCells(podSpec(job)),
    formatLabelSelector(job.spec?.selector),
  ],
};

function boolText(value: unknown): string {
  if (typeof value !== 'boolean') return '<unset>';
  return value ? 'True' : 'False';
}

export const cronJobPrinter: TablePrinter = {
  columns: [
    nameColumn,
    column('Schedule', 'The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.'),
    column('Timezone', 'The time zone name for the given schedule.'),
    column('Suspend', 'This flag tells the controller to suspend subsequent executions.', {
      type: 'boolean',
    }),
    column('Active', 'A list of pointers to currently running jobs.', { type: 'integer' }),
    column(
      'Last Schedule',
      'Information when was the last time the job was successfully scheduled.',
    ),
    ageColumn,
    containersColumn,
    imagesColumn,
    selectorColumn,
  ],
  cells: (cj, nowMs) => {
    const jobSpec = (
      cj.spec?.jobTemplate as
        { spec?: { selector?: unknown; template?: { spec?: unknown } } } | undefined
    )?.spec;
    const last = cj.status?.lastScheduleTime as string | undefined;
    return [
      cj.metadata.name ?? '',
      String(cj.spec?.schedule ?? ''),
      typeof cj.spec?.timeZone === 'string' ? cj.spec.timeZone : '<none>',
      boolText(cj.spec?.suspend),
      ((cj.status?.active ?? []) as unknown[]).length,
      last ? ageSince(last, nowMs) : '<none>',
      age(cj, nowMs),
      ...containerCells(jobSpec?.template?.spec),
      formatLabelSelector(jobSpec?.selector as Parameters<typeof formatLabelSelector>[0]),
    ];
  },
};
