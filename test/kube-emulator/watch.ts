import type { ServerResponse } from 'node:http';
import type { KubeObject, StoreEvent } from './contract.js';
import { matchesFields, type FieldRequirement } from './field-selector.js';
import { matchesRequirements, type Requirement } from './label-selector.js';
import type { MemoryStore } from './store.js';
import { resourceName, groupVersion, type ResourceType } from './resources/resource-type.js';
import { expired, statusBody } from './status-errors.js';

export interface WatchRequest {
  type: ResourceType;
  namespace?: string;
  labels: Requirement[];
  fields: FieldRequirement[];
  resourceVersion?: string;
  allowWatchBookmarks: boolean;
  timeoutSeconds?: number;
  bookmarkIntervalMs: number;
  /** Turns a stored object into what the client sees (apiVersion/kind filled). */
  present: (object: KubeObject) => KubeObject;
}

function keyOf(object: KubeObject): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name ?? ''}`;
}

/**
 * Streams watch events for one resource as kube-apiserver does: one JSON object per line, initial
 * ADDED events when no resourceVersion (or "0") is given, replay from history otherwise, an ERROR
 * event with a 410 Expired Status when that resourceVersion was compacted, DELETED/ADDED when an
 * object leaves or enters the selectors, BOOKMARKs when asked for. Returns a stop function.
 */
export function serveWatch(
  store: MemoryStore,
  request: WatchRequest,
  res: ServerResponse,
): () => void {
  const resource = resourceName(request.type);
  const matching = new Set<string>();
  const matches = (o: KubeObject): boolean =>
    (request.namespace === undefined || o.metadata.namespace === request.namespace) &&
    matchesRequirements(request.labels, o.metadata.labels) &&
    matchesFields(request.fields, o);
  const send = (type: string, object: unknown): void => {
    res.write(`${JSON.stringify({ type, object })}\n`);
  };
  const deliver = (event: StoreEvent): void => {
    if (event.resource !== resource) return;
    const key = keyOf(event.object);
    const now = matches(event.object);
    if (event.type === 'DELETED') {
      if (now || matching.delete(key)) send('DELETED', request.present(event.object));
      matching.delete(key);
    } else if (now) {
      const type =
        event.type === 'MODIFIED' && !matching.has(key) && request.resourceVersion === undefined
          ? 'ADDED'
          : event.type;
      matching.add(key);
      send(type, request.present(event.object));
    } else if (matching.delete(key)) {
      send('DELETED', request.present(event.object));
    }
  };

  res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();
  const rv = request.resourceVersion;
  if (rv === undefined || rv === '' || rv === '0') {
    for (const object of store.list(resource, { namespace: request.namespace })) {
      if (!matches(object)) continue;
      matching.add(keyOf(object));
      send('ADDED', request.present(object));
    }
  } else {
    const history = store.eventsSince(Number(rv));
    if (history === undefined) {
      send(
        'ERROR',
        statusBody(expired(`too old resource version: ${rv} (${store.resourceVersion()})`)),
      );
      res.end();
      return () => undefined;
    }
    history.forEach(deliver);
  }
  // deliver only reads the event (present() copies what it changes): no copy per watch.
  const unsubscribe = store.subscribe(deliver, { shared: true });
  const timers: NodeJS.Timeout[] = [];
  if (request.allowWatchBookmarks) {
    timers.push(
      setInterval(() => {
        send('BOOKMARK', {
          kind: request.type.kind,
          apiVersion: groupVersion(request.type),
          metadata: { resourceVersion: store.resourceVersion() },
        });
      }, request.bookmarkIntervalMs),
    );
  }
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    unsubscribe();
    timers.forEach((t) => clearTimeout(t));
    res.end();
  };
  if (request.timeoutSeconds !== undefined && request.timeoutSeconds > 0) {
    timers.push(setTimeout(stop, request.timeoutSeconds * 1000));
  }
  res.on('close', stop);
  return stop;
}
