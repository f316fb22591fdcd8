/** OCI labels that name a version, in order of preference. */
export const VERSION_LABELS = [
  'org.opencontainers.image.version',
  'org.opencontainers.image.revision',
] as const;

export interface VersionInputs {
  digest: string;
  /** Tags known to point at the digest that match `versionPattern` (already filtered). */
  matchingTags: readonly string[];
  labels: Readonly<Record<string, string>>;
}

/** Length of the short digest used when nothing else names the version (like a git short sha). */
const SHORT_DIGEST_HEX = 12;

/**
 * The version people see for a digest (DESIGN §4 step 2): another tag of the digest matching
 * `versionPattern` (the longest, so a full git sha beats its short form; then alphabetically last),
 * else the OCI `version`/`revision` label, else the short digest. Pure.
 */
export function nameVersion({ digest, matchingTags, labels }: VersionInputs): string {
  const tag = versionTag(matchingTags);
  if (tag) return tag;
  for (const label of VERSION_LABELS) {
    const value = labels[label]?.trim();
    if (value && /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(value)) return value;
  }
  return digest.slice(digest.indexOf(':') + 1, digest.indexOf(':') + 1 + SHORT_DIGEST_HEX);
}

/**
 * The tag among `matchingTags` that names the version (the longest, so a full git sha beats its
 * short form; then alphabetically last); undefined when there is none. Pure.
 */
export function versionTag(matchingTags: readonly string[]): string | undefined {
  return [...matchingTags].sort((a, b) => b.length - a.length || b.localeCompare(a))[0];
}
