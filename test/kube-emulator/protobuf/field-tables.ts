import { table, type MessageTable } from './decode-message.js';

// Field numbers from k8s.io/api and k8s.io/apimachinery generated.proto (v1.32). Only what
// `kubectl create namespace|deployment|configmap|secret|job|cronjob|service|serviceaccount`
// and client libraries commonly send; other fields are skipped.

const ownerReference = table({
  1: ['kind', 'string'],
  3: ['name', 'string'],
  4: ['uid', 'string'],
  5: ['apiVersion', 'string'],
  6: ['controller', 'bool', 'pointer'],
  7: ['blockOwnerDeletion', 'bool', 'pointer'],
});

export const objectMeta = table({
  1: ['name', 'string'],
  2: ['generateName', 'string'],
  3: ['namespace', 'string'],
  5: ['uid', 'string'],
  6: ['resourceVersion', 'string'],
  7: ['generation', 'int'],
  8: ['creationTimestamp', 'time'],
  11: ['labels', { map: 'string' }],
  12: ['annotations', { map: 'string' }],
  13: ['ownerReferences', ownerReference, 'repeated'],
  14: ['finalizers', 'string', 'repeated'],
});

const labelSelector = table({
  1: ['matchLabels', { map: 'string' }],
  2: [
    'matchExpressions',
    table({ 1: ['key', 'string'], 2: ['operator', 'string'], 3: ['values', 'string', 'repeated'] }),
    'repeated',
  ],
});

const containerPort = table({
  1: ['name', 'string'],
  2: ['hostPort', 'int'],
  3: ['containerPort', 'int'],
  4: ['protocol', 'string'],
  5: ['hostIP', 'string'],
});

const envVar = table({ 1: ['name', 'string'], 2: ['value', 'string'] });

const resources = table({
  1: ['limits', { map: 'quantity' }],
  2: ['requests', { map: 'quantity' }],
});

const container = table({
  1: ['name', 'string'],
  2: ['image', 'string'],
  3: ['command', 'string', 'repeated'],
  4: ['args', 'string', 'repeated'],
  5: ['workingDir', 'string'],
  6: ['ports', containerPort, 'repeated'],
  7: ['env', envVar, 'repeated'],
  8: ['resources', resources],
  13: ['terminationMessagePath', 'string'],
  14: ['imagePullPolicy', 'string'],
  16: ['stdin', 'bool'],
  17: ['stdinOnce', 'bool'],
  18: ['tty', 'bool'],
  20: ['terminationMessagePolicy', 'string'],
  24: ['restartPolicy', 'string', 'pointer'],
});

const podSpec = table({
  2: ['containers', container, 'repeated'],
  3: ['restartPolicy', 'string'],
  4: ['terminationGracePeriodSeconds', 'int', 'pointer'],
  5: ['activeDeadlineSeconds', 'int', 'pointer'],
  6: ['dnsPolicy', 'string'],
  7: ['nodeSelector', { map: 'string' }],
  8: ['serviceAccountName', 'string'],
  10: ['nodeName', 'string'],
  11: ['hostNetwork', 'bool'],
  16: ['hostname', 'string'],
  17: ['subdomain', 'string'],
  19: ['schedulerName', 'string'],
  20: ['initContainers', container, 'repeated'],
  21: ['automountServiceAccountToken', 'bool', 'pointer'],
  24: ['priorityClassName', 'string'],
});

const podTemplateSpec = table({ 1: ['metadata', objectMeta], 2: ['spec', podSpec] });

const deploymentSpec = table({
  1: ['replicas', 'int', 'pointer'],
  2: ['selector', labelSelector],
  3: ['template', podTemplateSpec],
  4: [
    'strategy',
    table({
      1: ['type', 'string'],
      2: [
        'rollingUpdate',
        table({
          1: ['maxUnavailable', 'intOrString', 'pointer'],
          2: ['maxSurge', 'intOrString', 'pointer'],
        }),
      ],
    }),
  ],
  5: ['minReadySeconds', 'int'],
  6: ['revisionHistoryLimit', 'int', 'pointer'],
  7: ['paused', 'bool'],
  9: ['progressDeadlineSeconds', 'int', 'pointer'],
});

const jobSpec = table({
  1: ['parallelism', 'int', 'pointer'],
  2: ['completions', 'int', 'pointer'],
  3: ['activeDeadlineSeconds', 'int', 'pointer'],
  4: ['selector', labelSelector],
  5: ['manualSelector', 'bool', 'pointer'],
  6: ['template', podTemplateSpec],
  7: ['backoffLimit', 'int', 'pointer'],
  8: ['ttlSecondsAfterFinished', 'int', 'pointer'],
  9: ['completionMode', 'string', 'pointer'],
  10: ['suspend', 'bool', 'pointer'],
});

const cronJobSpec = table({
  1: ['schedule', 'string'],
  2: ['startingDeadlineSeconds', 'int', 'pointer'],
  3: ['concurrencyPolicy', 'string'],
  4: ['suspend', 'bool', 'pointer'],
  5: ['jobTemplate', table({ 1: ['metadata', objectMeta], 2: ['spec', jobSpec] })],
  6: ['successfulJobsHistoryLimit', 'int', 'pointer'],
  7: ['failedJobsHistoryLimit', 'int', 'pointer'],
  8: ['timeZone', 'string', 'pointer'],
});

const servicePort = table({
  1: ['name', 'string'],
  2: ['protocol', 'string'],
  3: ['port', 'int'],
  4: ['targetPort', 'intOrString'],
  5: ['nodePort', 'int'],
  6: ['appProtocol', 'string', 'pointer'],
});

const serviceSpec = table({
  1: ['ports', servicePort, 'repeated'],
  2: ['selector', { map: 'string' }],
  3: ['clusterIP', 'string'],
  4: ['type', 'string'],
  5: ['externalIPs', 'string', 'repeated'],
  7: ['sessionAffinity', 'string'],
  10: ['externalName', 'string'],
});

const localObjectReference = table({ 1: ['name', 'string'] });

/** Top-level messages by `apiVersion/kind`; status is not decoded (a create ignores it). */
export const topLevelTables: Record<string, MessageTable> = {
  'v1/Namespace': table({
    1: ['metadata', objectMeta],
    2: ['spec', table({ 1: ['finalizers', 'string', 'repeated'] })],
  }),
  'v1/ConfigMap': table({
    1: ['metadata', objectMeta],
    2: ['data', { map: 'string' }],
    3: ['binaryData', { map: 'bytes' }],
    4: ['immutable', 'bool', 'pointer'],
  }),
  'v1/Secret': table({
    1: ['metadata', objectMeta],
    2: ['data', { map: 'bytes' }],
    3: ['type', 'string'],
    4: ['immutable', 'bool', 'pointer'],
    5: ['stringData', { map: 'string' }],
  }),
  'v1/Service': table({ 1: ['metadata', objectMeta], 2: ['spec', serviceSpec] }),
  'v1/ServiceAccount': table({
    1: ['metadata', objectMeta],
    3: ['automountServiceAccountToken', 'bool', 'pointer'],
    4: ['imagePullSecrets', localObjectReference, 'repeated'],
  }),
  'apps/v1/Deployment': table({ 1: ['metadata', objectMeta], 2: ['spec', deploymentSpec] }),
  'batch/v1/Job': table({ 1: ['metadata', objectMeta], 2: ['spec', jobSpec] }),
  'batch/v1/CronJob': table({ 1: ['metadata', objectMeta], 2: ['spec', cronJobSpec] }),
};
