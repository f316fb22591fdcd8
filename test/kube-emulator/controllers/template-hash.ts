const safeAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

/** A JSON text with object keys sorted, so equal values hash equally whatever their key order. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function fnv32a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/**
 * `controller.ComputeHash`: FNV-32a of the template (plus the collision count when set), encoded
 * like `rand.SafeEncodeString` of its decimal digits, so the names look like `web-67cb5948d5`.
 * The value differs from a real cluster's (which hashes Go's printing of the struct).
 */
export function computeHash(template: unknown, collisionCount?: number): string {
  const text = stableStringify(template) + (collisionCount ? String(collisionCount) : '');
  return [...String(fnv32a(text))]
    .map((c) => safeAlphabet[c.charCodeAt(0) % safeAlphabet.length] ?? 'b')
    .join('');
}
