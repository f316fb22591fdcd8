/** One authentication challenge of a `WWW-Authenticate` header. */
export interface AuthChallenge {
  /** Lower-cased: `bearer`, `basic`, … */
  scheme: string;
  /** Parameter names lower-cased; values unquoted. */
  params: Record<string, string>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;

/**
 * Parses the first challenge of a `WWW-Authenticate` header, as registries send it:
 * `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull,push"`
 * or `Basic realm="…"`. Quoted values may hold commas and escaped quotes. `null` when the header
 * is missing or has no scheme.
 */
export function parseChallenge(header: string | null | undefined): AuthChallenge | null {
  let rest = header?.trim() ?? '';
  const scheme = TOKEN.exec(rest)?.[0];
  if (!scheme) return null;
  rest = rest.slice(scheme.length);
  const params: Record<string, string> = {};
  for (let guard = 0; guard < 64; guard++) {
    rest = rest.replace(/^[\s,]+/, '');
    const name = TOKEN.exec(rest)?.[0];
    if (!name) break;
    const afterName = rest.slice(name.length).replace(/^\s*/, '');
    // A token not followed by `=` starts the next challenge (or is token68): stop at this challenge.
    if (!afterName.startsWith('=')) break;
    rest = afterName.slice(1).replace(/^\s*/, '');
    const { value, remainder } = readValue(rest);
    params[name.toLowerCase()] = value;
    rest = remainder;
  }
  return { scheme: scheme.toLowerCase(), params };
}

function readValue(text: string): { value: string; remainder: string } {
  if (!text.startsWith('"')) {
    const value = /^[^,\s]*/.exec(text)?.[0] ?? '';
    return { value, remainder: text.slice(value.length) };
  }
  let value = '';
  for (let i = 1; i < text.length; i++) {
    const char = text[i];
    if (char === '\\' && i + 1 < text.length) value += text[++i];
    else if (char === '"') return { value, remainder: text.slice(i + 1) };
    else value += char;
  }
  return { value, remainder: '' };
}
