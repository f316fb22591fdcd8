/**
 * Strategic merge patch for built-in kinds: JSON merge patch plus merge keys for the lists Kubernetes
 * marks `patchStrategy: merge`, and the directives `$patch` (replace | delete | merge),
 * `$deleteFromPrimitiveList/<field>`, `$retainKeys`, and `$setElementOrder/<field>` (accepted; the
 * emulator keeps the existing order). Merge keys are chosen by field name and parent path, which
 * covers the pod template, Services, conditions and owner references. Pure: returns a new value.
 */

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const podContainerLists = new Set(['containers', 'initContainers', 'ephemeralContainers']);

const mergeKeys: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  conditions: 'type',
  ownerReferences: 'uid',
  hostAliases: 'ip',
  secrets: 'name',
  topologySpreadConstraints: 'topologyKey',
  resourceClaims: 'name',
  addresses: 'type',
};

/** Lists of scalars whose patch strategy is merge (set union). */
const primitiveMergeLists = new Set(['finalizers']);

/** The merge key of the list at `path` (field names from the root), or undefined to replace it. */
export function mergeKeyFor(path: readonly string[]): string | undefined {
  const field = path[path.length - 1];
  if (field === undefined) return undefined;
  if (field === 'ports') {
    return path.some((p) => podContainerLists.has(p)) ? 'containerPort' : 'port';
  }
  return mergeKeys[field];
}

/** Removes directive keys from a value that is inserted as is. */
function stripDirectives(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value
      .filter((v) => !(isObject(v) && v.$patch !== undefined && Object.keys(v).length === 1))
      .map(stripDirectives);
  }
  if (!isObject(value)) return value;
  const out: Json = {};
  for (const [key, v] of Object.entries(value)) {
    if (key.startsWith('$')) continue;
    if (v === null) continue;
    out[key] = stripDirectives(v);
  }
  return out;
}

function mergeList(original: unknown, patch: unknown[], path: string[]): unknown[] {
  const field = path[path.length - 1] ?? '';
  const key = mergeKeyFor(path);
  if (!key) {
    if (primitiveMergeLists.has(field) && Array.isArray(original)) {
      const existing: unknown[] = original;
      return [...existing, ...patch.filter((v) => !existing.includes(v))];
    }
    return stripDirectives(patch) as unknown[];
  }
  if (patch.some((el) => isObject(el) && el.$patch === 'replace')) {
    return stripDirectives(
      patch.filter((el) => !(isObject(el) && el.$patch === 'replace')),
    ) as unknown[];
  }
  const result: unknown[] = Array.isArray(original) ? structuredClone(original) : [];
  for (const element of patch) {
    if (!isObject(element)) {
      result.push(element);
      continue;
    }
    const id = element[key];
    const index = result.findIndex((r) => isObject(r) && r[key] === id);
    if (element.$patch === 'delete') {
      if (index >= 0) result.splice(index, 1);
    } else if (index >= 0) {
      result[index] = mergeObject(result[index], element, path);
    } else {
      result.push(stripDirectives(element));
    }
  }
  return result;
}

function mergeObject(original: unknown, patch: Json, path: string[]): unknown {
  if (patch.$patch === 'replace') return stripDirectives(patch);
  const result: Json = isObject(original) ? structuredClone(original) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys' || key.startsWith('$setElementOrder/')) continue;
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice('$deleteFromPrimitiveList/'.length);
      const current = result[field];
      if (Array.isArray(current) && Array.isArray(value)) {
        result[field] = current.filter((v) => !value.includes(v));
      }
      continue;
    }
    if (value === null || (isObject(value) && value.$patch === 'delete')) {
      delete result[key];
    } else if (Array.isArray(value)) {
      result[key] = mergeList(result[key], value, [...path, key]);
    } else if (isObject(value)) {
      result[key] = mergeObject(result[key], value, [...path, key]);
    } else {
      result[key] = value;
    }
  }
  const retain = patch.$retainKeys;
  if (Array.isArray(retain)) {
    for (const key of Object.keys(result)) if (!retain.includes(key)) delete result[key];
  }
  return result;
}

/** Applies a strategic merge patch (an object) to a built-in object. */
export function applyStrategicMergePatch(original: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  return mergeObject(original, patch, []);
}
