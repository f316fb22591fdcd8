import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../contract.js';
import type { Deployment } from './deployment-types.js';
import { fromCapture, simulate } from './simulation.js';

interface CoreEvent extends KubeObject {
  involvedObject: { kind: string; name: string; apiVersion: string };
  reason: string;
  message: string;
  type: string;
  count?: number;
  source: { component?: string };
}

const captured = (
  JSON.parse(readFileSync(new URL('./fixtures/events-core-v1.json', import.meta.url), 'utf8')) as {
    items: CoreEvent[];
  }
).items;

function revisions(file: string | KubeObject[]): Map<string, string> {
  const items =
    typeof file === 'string'
      ? (
          JSON.parse(readFileSync(new URL(`./fixtures/${file}`, import.meta.url), 'utf8')) as {
            items: KubeObject[];
          }
        ).items
      : file;
  return new Map(
    items.map((rs) => [
      rs.metadata.name ?? '',
      rs.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? '?',
    ]),
  );
}

/** kind, reason, message and source, with generated names replaced by the ReplicaSet revision. */
function shape(events: CoreEvent[], app: string, revisionOf: Map<string, string>): string[] {
  const rename = (text: string) =>
    text.replace(
      new RegExp(`(${app}-[a-z0-9]{8,10})(-[a-z0-9]{5})?`, 'g'),
      (_m, rs: string, pod?: string) =>
        pod
          ? `<pod of revision ${revisionOf.get(rs) ?? '?'}>`
          : `<revision ${revisionOf.get(rs) ?? '?'}>`,
    );
  return events
    .filter((e) => e.involvedObject.name.startsWith(app) && e.involvedObject.kind !== 'Pod')
    .map(
      (e) =>
        `${e.involvedObject.kind} ${rename(e.involvedObject.name)} ${e.type} ${e.reason} ${rename(e.message)} ${e.source.component ?? ''}`,
    )
    .sort();
}

describe('Events of a Deployment rollout against events-core-v1.json', () => {
  it('records the captured reasons, messages and sources for the Deployment and its ReplicaSets', () => {
    const sim = simulate({ podReadySeconds: 1 });
    const { object } = fromCapture('deployment-rollout.json');
    sim.store.create('deployments.apps', object);
    sim.clock.runFor(12_000);
    const d = structuredClone(sim.store.get('deployments.apps', 'ref', 'web')) as Deployment;
    const container = d.spec.template?.spec?.containers?.[0];
    if (container) container.image = 'nginx:1.26';
    sim.store.update('deployments.apps', d);
    sim.clock.runFor(30_000);
    const ours = sim.store.list('events', { namespace: 'ref' }) as CoreEvent[];
    const ourRevisions = revisions(sim.store.list('replicasets.apps', { namespace: 'ref' }));
    sim.controllers.stop();
    const expected = shape(captured, 'web', revisions('deployment-replicasets.json'));
    expect(expected).toContain(
      'Deployment web Normal ScalingReplicaSet Scaled down replica set <revision 1> to 0 from 1 deployment-controller',
    );
    expect(shape(ours, 'web', ourRevisions)).toEqual(expected);
    const scheduled = ours.filter((e) => e.reason === 'Scheduled');
    expect(scheduled).toHaveLength(6);
    expect(scheduled[0]).toMatchObject({ source: {}, reportingComponent: 'default-scheduler' });
  });
});
