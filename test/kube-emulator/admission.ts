import type { KubeObject } from './contract.js';
import { requirementsFromObject, matchesRequirements } from './label-selector.js';
import { applyBuiltinDefaults } from './resources/defaults.js';
import { resourceName, type FieldError, type ResourceType } from './resources/resource-type.js';
import { badRequest, invalid } from './status-errors.js';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const microTime = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$/;

function nameErrors(name: string | undefined): FieldError[] {
  if (name === undefined || (subdomain.test(name) && name.length <= 253)) return [];
  return [
    {
      reason: 'FieldValueInvalid',
      field: 'metadata.name',
      message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
    },
  ];
}

function goMap(labels: Json): string {
  return `map[string]string{${Object.entries(labels)
    .map(([k, v]) => `"${k}":"${String(v)}"`)
    .join(', ')}}`;
}

/** selector/template checks shared by Deployment, ReplicaSet, StatefulSet and DaemonSet. */
function workloadErrors(object: KubeObject, needsSelector: boolean): FieldError[] {
  const spec: unknown = object.spec;
  if (!isObject(spec))
    return [{ reason: 'FieldValueRequired', field: 'spec', message: 'Required value' }];
  const errors: FieldError[] = [];
  const template = isObject(spec.template) ? spec.template : {};
  const labels =
    isObject(template.metadata) && isObject(template.metadata.labels)
      ? template.metadata.labels
      : {};
  if (needsSelector) {
    if (!isObject(spec.selector)) {
      errors.push({
        reason: 'FieldValueRequired',
        field: 'spec.selector',
        message: 'Required value',
      });
    } else {
      const requirements = requirementsFromObject(spec.selector);
      if (requirements.length === 0) {
        errors.push({
          reason: 'FieldValueInvalid',
          field: 'spec.selector',
          message: 'Invalid value: "null": empty selector is invalid for deployment',
        });
      } else if (!matchesRequirements(requirements, labels as Record<string, string>)) {
        errors.push({
          reason: 'FieldValueInvalid',
          field: 'spec.template.metadata.labels',
          message: `Invalid value: ${goMap(labels)}: \`selector\` does not match template \`labels\``,
        });
      }
    }
  }
  const podSpec = isObject(template.spec) ? template.spec : {};
  errors.push(...containerErrors(podSpec, 'spec.template.spec'));
  return errors;
}

function containerErrors(podSpec: Json, path: string): FieldError[] {
  const containers = podSpec.containers;
  if (!Array.isArray(containers) || containers.length === 0) {
    return [
      { reason: 'FieldValueRequired', field: `${path}.containers`, message: 'Required value' },
    ];
  }
  return containers.flatMap((c: unknown, i): FieldError[] => {
    const container = isObject(c) ? c : {};
    const errors: FieldError[] = [];
    if (typeof container.name !== 'string' || container.name === '') {
      errors.push({
        reason: 'FieldValueRequired',
        field: `${path}.containers[${i}].name`,
        message: 'Required value',
      });
    }
    if (typeof container.image !== 'string' || container.image === '') {
      errors.push({
        reason: 'FieldValueRequired',
        field: `${path}.containers[${i}].image`,
        message: 'Required value',
      });
    }
    return errors;
  });
}

const validators: Record<string, (object: KubeObject) => FieldError[]> = {
  'deployments.apps': (o) => workloadErrors(o, true),
  'replicasets.apps': (o) => workloadErrors(o, true),
  'statefulsets.apps': (o) => workloadErrors(o, true),
  'daemonsets.apps': (o) => workloadErrors(o, true),
  'jobs.batch': (o) => workloadErrors(o, false),
  pods: (o) => containerErrors(isObject(o.spec) ? o.spec : {}, 'spec'),
};

/** MicroTime fields decode strictly: `.123Z` is a 400 like lease.json shows. */
function checkMicroTimes(type: ResourceType, object: KubeObject): void {
  const fields =
    resourceName(type) === 'leases.coordination.k8s.io'
      ? [
          (object.spec as Json | undefined)?.acquireTime,
          (object.spec as Json | undefined)?.renewTime,
        ]
      : resourceName(type) === 'events.k8s.io'
        ? [object.eventTime]
        : [];
  for (const value of fields) {
    if (
      value === undefined ||
      value === null ||
      (typeof value === 'string' && microTime.test(value))
    )
      continue;
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    const fraction = /(\.\d*)?(Z|[+-]\d\d:\d\d)$/.exec(text)?.[0] ?? text;
    throw badRequest(
      `${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: parsing time "${text}" as "2006-01-02T15:04:05.000000Z07:00": cannot parse "${fraction}" as ".000000"`,
    );
  }
}

/**
 * What kube-apiserver does to a create or update body before storage: decode checks, defaults
 * (built-in, or from a CRD schema with pruning), and validation answering 422 Invalid. With
 * `strict` (`fieldValidation=Strict`), fields a CRD schema would prune answer 400 instead.
 */
export function admit(type: ResourceType, object: KubeObject, strict = false): KubeObject {
  checkMicroTimes(type, object);
  applyBuiltinDefaults(resourceName(type), object);
  const pruned = type.defaults?.(object) ?? [];
  const [unknown] = pruned;
  if (strict && unknown !== undefined) {
    throw badRequest(
      `${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: strict decoding error: ${pruned.map((p) => `unknown field "${p}"`).join(', ')}`,
    );
  }
  const errors = [
    ...nameErrors(object.metadata.name),
    ...(validators[resourceName(type)]?.(object) ?? []),
    ...(type.validate?.(object) ?? []),
  ];
  if (errors.length > 0) throw invalid(type, object.metadata.name ?? '', errors);
  return object;
}

/** Status a newly created object starts with, when the resource has a status subresource. */
export function initialStatus(type: ResourceType, object: KubeObject): unknown {
  switch (resourceName(type)) {
    case 'pods':
      return { phase: 'Pending', qosClass: 'BestEffort' };
    case 'namespaces':
      return { phase: 'Active' };
    case 'services':
      return { loadBalancer: {} };
    case 'nodes':
      return object.status as unknown;
    default:
      return type.custom ? undefined : {};
  }
}
