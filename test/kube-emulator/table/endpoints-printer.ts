import type { KubeObject } from '../contract.js';
import { ageSince } from './human-duration.js';
import { ageColumn, column, nameColumn, type TablePrinter } from './table-printer.js';

interface Subset {
  addresses?: { ip: string }[];
  ports?: { port: number }[];
}

/** How many addresses the ENDPOINTS cell lists before `+ N more...`. */
const shown = 3;

/**
 * `formatEndpoints`: the ready addresses as `ip:port` (just `ip` in a subset without ports), at
 * most three then `+ N more...`; `<none>` without subsets. Not-ready addresses are not listed.
 */
export function formatEndpoints(endpoints: KubeObject): string {
  const subsets = (endpoints.subsets ?? []) as Subset[];
  if (subsets.length === 0) return '<none>';
  const list: string[] = [];
  let total = 0;
  const add = (text: string) => {
    total++;
    if (list.length < shown) list.push(text);
  };
  for (const subset of subsets) {
    const addresses = subset.addresses ?? [];
    if (!subset.ports?.length) {
      for (const a of addresses) add(a.ip);
      continue;
    }
    for (const port of subset.ports) {
      for (const a of addresses) add(`${a.ip.includes(':') ? `[${a.ip}]` : a.ip}:${port.port}`);
    }
  }
  const text = list.join(',');
  return total > shown ? `${text} + ${total - shown} more...` : text;
}

export const endpointsPrinter: TablePrinter = {
  columns: [
    nameColumn,
    column(
      'Endpoints',
      'The set of all endpoints is the union of all subsets. Addresses are placed into subsets according to the IPs they share. A single address with multiple ports, some of which are ready and some of which are not (because they come from different containers) will result in the address being displayed in different subsets for the different ports. No address will appear in both Addresses and NotReadyAddresses in the same subset. Sets of addresses and ports that comprise a service.',
    ),
    ageColumn,
  ],
  cells: (endpoints, nowMs) => [
    endpoints.metadata.name ?? '',
    formatEndpoints(endpoints),
    ageSince(endpoints.metadata.creationTimestamp, nowMs),
  ],
};
