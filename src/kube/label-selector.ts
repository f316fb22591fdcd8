/**
 * Label selectors as query text. Pure.
 *
 * The selector syntax has no escaping, so "escaping" means refusing what cannot be written:
 * keys must be qualified names (`[prefix/]name`) and values label values; anything else
 * (commas, `=`, `!`, spaces, parentheses) would change the meaning of the selector and throws.
 */

const NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;
const PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Thrown for a selector that cannot be expressed; permanent (the spec must change). */
export class InvalidLabelSelectorError extends Error {
  override readonly name = 'InvalidLabelSelectorError';
}

/**
 * `{ app: 'api', tier: 'web' }` → `app=api,tier=web` (keys sorted, so equal maps give equal text).
 * An empty map throws: it would select every object, which cvm never wants.
 */
export function formatLabelSelector(labels: Record<string, string>): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) {
    throw new InvalidLabelSelectorError('an empty selector would match every workload');
  }
  return keys
    .map((key) => {
      const value = labels[key] ?? '';
      if (!isLabelKey(key)) throw new InvalidLabelSelectorError(`invalid label key "${key}"`);
      if (value.length > 63 || !VALUE.test(value)) {
        throw new InvalidLabelSelectorError(`invalid value "${value}" for label key "${key}"`);
      }
      return `${key}=${value}`;
    })
    .join(',');
}

function isLabelKey(key: string): boolean {
  const slash = key.indexOf('/');
  const name = slash === -1 ? key : key.slice(slash + 1);
  const prefix = slash === -1 ? undefined : key.slice(0, slash);
  if (
    prefix !== undefined &&
    (prefix.length === 0 || prefix.length > 253 || !PREFIX.test(prefix))
  ) {
    return false;
  }
  return name.length <= 63 && NAME.test(name);
}
