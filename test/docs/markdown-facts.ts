import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** A Markdown file of the project, read once. */
export interface MarkdownFile {
  /** Relative to the repository root, `/`-separated. */
  path: string;
  text: string;
}

/** README.md and every Markdown file under docs/. */
export function projectMarkdown(root: string): MarkdownFile[] {
  const files = ['README.md'];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.md')) files.push(path);
    }
  };
  walk('docs');
  return files.map((path) => ({
    path: relative(root, join(root, path)),
    text: readFileSync(join(root, path), 'utf8'),
  }));
}

/** Text outside fenced code blocks (where `[x](y)` is not a link). */
export function prose(text: string): string {
  return text.replace(/^```[\s\S]*?^```/gm, '');
}

/** The targets of inline links that point into the repository (not http:, mailto:, …). */
export function relativeLinks(text: string): string[] {
  return [...prose(text).matchAll(/\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map((m) => m[1] ?? '')
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
export function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors of a Markdown text's headings. */
export function anchorsOf(text: string): Set<string> {
  return new Set(
    [...prose(text).matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => headingAnchor(m[1] ?? '')),
  );
}

/** Repository paths named in backticks (`src/…`, `test/…`, `docs/…`, …); `<x>` placeholders cut off. */
export function namedPaths(text: string): string[] {
  return [...text.matchAll(/`((?:src|test|infra|docs|scripts|bin|\.ci)\/[^`\s]*)`/g)].map((m) =>
    (m[1] ?? '').replace(/<.*$/, ''),
  );
}

/** `npm run <script>` and `npm test` as the text names them. */
export function npmScripts(text: string): string[] {
  const scripts = [...text.matchAll(/\bnpm run (?:--silent )?([a-z][\w:-]*)/g)].map(
    (m) => m[1] ?? '',
  );
  return /\bnpm test\b/.test(text) ? [...scripts, 'test'] : scripts;
}

/** `cvm <command> [<subcommand>]` as `npx cvm …` lines and backticked `cvm …` name them. */
export function cvmCommands(text: string): string[][] {
  const fromNpx = [...text.matchAll(/^npx cvm ([a-z]+)(?: ([a-z]+))?/gm)];
  const fromTicks = [...text.matchAll(/`cvm ([a-z]+)(?: ([a-z]+))?(?: \[[^\]`]*\])?`/g)];
  return [...fromNpx, ...fromTicks].map((m) => [m[1] ?? '', ...(m[2] ? [m[2]] : [])]);
}

/** `CVM_…` environment variable names in the prose (code blocks may use their own shell variables). */
export function cvmVariables(text: string): string[] {
  return [...new Set([...prose(text).matchAll(/\bCVM_[A-Z0-9][A-Z0-9_]*/g)].map((m) => m[0]))];
}
