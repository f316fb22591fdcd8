// The blue-green act of `npm run demo`. Two Deployments of one app, web-blue (live, 2 replicas)
// and web-green (idle, 0), a Service `web` that selects blue, a `web-preview` Service, and a
// ContainerVersion with strategy BlueGreen and a PrePromotion verify check. One push; the act tells
// each step in the order the API server commits it (the emulator's store is the API server's, so
// subscribing to it is a watch that misses nothing), then shows where the traffic ended up.
import { stringify } from 'yaml';
import type { KubeObject, ObjectMeta, StoreEvent } from '../test/kube-emulator/contract.js';
import { kubectl } from '../test/kube-emulator/controllers/kubectl.js';
import type { KubeEmulator } from '../test/kube-emulator/index.js';
import { skopeoPush, writeOciImage } from '../test/support/oci-layout.js';
import { DemoFailure } from './demo-failure.js';
import type { CvmLogLine, CvmServe } from './demo-parts.js';
import { DemoSteps } from './demo-steps.js';

const NS = 'storefront';
const NAME = 'web';
const COLOR = 'cvm.dev/color';
const VERSION = 'sha-9c0ffee';
const VERSION_PATTERN = '^sha-[0-9a-f]{7}$';
const PLACEHOLDER_IMAGE = 'example.com/storefront/web:bootstrap';
const SCALE_DOWN_DELAY_SECONDS = 2;
const DEPLOYMENTS = 'deployments.apps';
const CVS = 'containerversions.cvm.dev';

/** How the demo tells its story; the act prints through it only. */
export interface Story {
  /** A line with the time since the demo started. */
  say(text: string): void;
  /** A continuation line. */
  also(text: string): void;
  /** Shows `kubectl <args>` (or `shown`) as typed, then its output. */
  kubectl(args: string[], shown?: string): Promise<void>;
}

export interface BlueGreenActOptions {
  story: Story;
  emulator: KubeEmulator;
  cvm: CvmServe;
  /** host:port of the demo's docker-registry. */
  registryHost: string;
  /** Longest wait for any one step, in milliseconds: the act fails naming the step after it. */
  stepTimeoutMs: number;
  /** `custom-columns=…` of the demo's `kubectl get cv` summary. */
  cvColumns: string;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const short = (digest: string) => `${digest.slice(0, 'sha256:'.length + 12)}…`;

// What the act reads of the objects it watches.
interface ContainerView {
  name: string;
  image?: string;
  command?: string[];
  env?: { name: string; value?: string }[];
}
interface PodTemplateView {
  template?: { spec?: { containers?: ContainerView[] } };
}
interface DeploymentView {
  metadata: ObjectMeta;
  spec?: PodTemplateView & { replicas?: number };
  status?: { updatedReplicas?: number; readyReplicas?: number };
}
interface ServiceView {
  metadata: ObjectMeta;
  spec?: { selector?: Record<string, string> };
}
interface EndpointsView {
  metadata: ObjectMeta;
  subsets?: { addresses?: { targetRef?: { name?: string } }[] }[];
}
interface JobView {
  metadata: ObjectMeta;
  spec?: PodTemplateView;
  status?: { succeeded?: number; failed?: number };
}
interface CvView {
  metadata: ObjectMeta;
  status?: {
    observedGeneration?: number;
    rollout?: { step: number; steps: number; phase: string; message: string };
    lastRollout?: { digest: string; result: string; message: string };
    conditions?: { type: string; status: string; reason: string }[];
  };
}
interface HistoryEntryView {
  version: string;
  result: string;
  trigger: string;
  image: string;
  previousImage?: string;
  startedAt: string;
  finishedAt: string;
  message: string;
}
/** A stored object as the view of it the act reads. */
const viewOf = <T>(o: KubeObject | undefined) => o as unknown as T | undefined;

const imageOf = (d: DeploymentView) =>
  d.spec?.template?.spec?.containers?.find((c) => c.name === NAME)?.image;
const colourOf = (service: ServiceView) => service.spec?.selector?.[COLOR];
/** The names of the Pods an Endpoints lists as ready. */
const endpointPods = (endpoints: EndpointsView | undefined): string[] =>
  (endpoints?.subsets ?? []).flatMap((s) =>
    (s.addresses ?? []).map((a) => a.targetRef?.name ?? '?'),
  );

/**
 * Runs the act: sets up the two colours, the Services and the CV, pushes one version and tells
 * each step of its BlueGreen rollout as it happens. Throws a DemoFailure when a step does not come
 * within `stepTimeoutMs` or the rollout does not succeed.
 */
export async function blueGreenAct(options: BlueGreenActOptions): Promise<void> {
  const repo = `${options.registryHost}/${NS}/${NAME}`;
  await createColours(options);
  await createContainerVersion(options, repo);
  await pushAndTell(options, repo);
  await showOutcome(options);
}

/** The namespace, web-blue (live) and web-green (idle), and the Services on blue. */
async function createColours(options: BlueGreenActOptions): Promise<void> {
  const { story, emulator } = options;
  const created = await kubectl(emulator.kubeconfigPath, ['apply', '--validate=false', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: manifests() }),
  });
  if (created.code !== 0) throw new DemoFailure(`kubectl apply failed: ${created.stderr}`);
  story.say(`namespace ${NS}: two Deployments of one app, told apart by the label ${COLOR}:`);
  story.also(`web-blue   live, 2 replicas of ${PLACEHOLDER_IMAGE}`);
  story.also('web-green  idle, 0 replicas');
  story.also(`Services web (the traffic) and web-preview both select ${COLOR}=blue`);
  await story.kubectl(['rollout', 'status', 'deployment/web-blue', '-n', NS, '--timeout=30s']);
  await untilCommitted(
    options,
    'the Endpoints of web to list the 2 web-blue Pods',
    () =>
      endpointPods(viewOf<EndpointsView>(emulator.store.get('endpoints', NS, NAME))).filter((p) =>
        p.startsWith('web-blue-'),
      ).length === 2,
  );
  story.say('before the push, web sends the traffic to the web-blue Pods:');
  await showTraffic(story);
}

async function createContainerVersion(options: BlueGreenActOptions, repo: string): Promise<void> {
  const { story, emulator } = options;
  // Until its first sync has failed (prod does not exist yet) and waits to retry, a push would
  // join that running attempt and wait for its retry backoff; once it waits, a push runs it at once.
  const firstSyncFailed = options.cvm.nextLog(
    (l) =>
      l.msg === 'job failed' &&
      (l.err as { message?: string } | undefined)?.message === `tag prod not found in ${repo}`,
  );
  const yaml = stringify(containerVersion(repo));
  story.also('$ kubectl apply -f - <<EOF');
  for (const text of yaml.trimEnd().split('\n')) story.also(`  ${text}`);
  story.also('EOF');
  const applied = await kubectl(emulator.kubeconfigPath, ['apply', '-f', '-'], { input: yaml });
  if (applied.code !== 0)
    throw new DemoFailure(`kubectl apply of the CV failed: ${applied.stderr}`);
  for (const text of applied.stdout.trimEnd().split('\n')) story.also(text);
  story.say('"roll out a new version on the idle colour, point web-preview at it, run the smoke');
  story.also(
    `check, switch web to it, scale the old colour down ${SCALE_DOWN_DELAY_SECONDS} s later"`,
  );
  await bounded(options, firstSyncFailed, `cvm's first sync of ${NS}/${NAME} to find no prod`);
  const ready = viewOf<CvView>(emulator.store.get(CVS, NS, NAME))?.status?.conditions?.find(
    (c) => c.type === 'Ready',
  );
  story.say(
    `cvm saw it: Ready=${ready?.status ?? '?'} (${ready?.reason ?? '?'}); like api, it waits for the first push`,
  );
}

/** Where things ended: the Deployments, the CV and its history entry. */
async function showOutcome(options: BlueGreenActOptions): Promise<void> {
  const { story, emulator } = options;
  await story.kubectl(
    ['get', 'deployments', '-n', NS, `-o=${DEPLOYMENT_COLUMNS}`],
    `kubectl get deployments -n ${NS} -o custom-columns=NAME:…,REPLICAS:…,IMAGE:…`,
  );
  await story.kubectl(
    ['get', 'cv', NAME, '-n', NS, `-o=${options.cvColumns}`],
    `kubectl get cv ${NAME} -n ${NS} -o custom-columns=NAME:…,TAG:…,VERSION:…,READY:…,LAST ROLLOUT:…`,
  );
  showHistoryEntry(story, emulator.store.get('configmaps', NS, `${NAME}-history`));
}

const DEPLOYMENT_COLUMNS =
  'custom-columns=NAME:.metadata.name,REPLICAS:.spec.replicas,IMAGE:.spec.template.spec.containers[0].image';

/** The Service web's selector and the Pods its Endpoints list. */
async function showTraffic(story: Story): Promise<void> {
  await story.kubectl(['get', 'service', NAME, '-n', NS, '-o', 'wide']);
  await story.kubectl(
    [
      'get',
      'endpoints',
      NAME,
      '-n',
      NS,
      '-o=custom-columns=NAME:.metadata.name,ENDPOINTS:.subsets[*].addresses[*].ip,' +
        'PODS:.subsets[*].addresses[*].targetRef.name',
    ],
    `kubectl get endpoints ${NAME} -n ${NS} -o custom-columns=NAME:…,ENDPOINTS:…,PODS:…`,
  );
}

/** What the narration of one rollout needs: where to tell, what was pushed, when things happened. */
interface Telling {
  story: Story;
  steps: DemoSteps;
  digest: string;
  /** repo:version@digest, as cvm writes it to the new colour. */
  expected: string;
  pushedAt: number;
  /** When the API server committed the switch of the active Service. */
  switchedAt: number;
}

/** Pushes the version, then tells each step of the rollout in the order it was committed. */
async function pushAndTell(options: BlueGreenActOptions, repo: string): Promise<void> {
  const { story, emulator } = options;
  const image = writeOciImage(VERSION, {
    files: { 'app/version.txt': `${VERSION}\n` },
    created: new Date().toISOString(),
  });
  const digest = image.manifestDigest;
  const t: Telling = {
    story,
    steps: new DemoSteps(),
    digest,
    expected: `${repo}:${VERSION}@${digest}`,
    pushedAt: 0,
    switchedAt: 0,
  };
  const offLog = options.cvm.onLog((l: CvmLogLine) => {
    if (l.msg === 'push event routed' && String(l.image).endsWith(`/${NS}/${NAME}:prod`))
      t.steps.add('routed', () =>
        story.say(
          `registry → cvm: push of ${NS}/${NAME}:prod received, routed to ContainerVersion ${NS}/${NAME}`,
        ),
      );
  });
  const offStore = emulator.store.subscribe((event: StoreEvent) => {
    if (event.object.metadata.namespace !== NS || event.type === 'DELETED') return;
    const tell = WATCHED[event.resource];
    tell?.(t, event.object, event);
  });
  try {
    for (const tag of [VERSION, 'prod']) {
      story.also(`$ skopeo copy oci:… docker://${repo}:${tag}`);
      skopeoPush(image, `${repo}:${tag}`);
    }
    t.pushedAt = Date.now();
    story.say(`pushed ${short(digest)} as ${VERSION} and prod`);
    await t.steps.tellAll(options.stepTimeoutMs, () => describeCv(emulator));
  } finally {
    offStore();
    offLog();
  }
}

/** For each resource the act watches: the steps a committed change of it may be. */
const WATCHED: Record<string, (t: Telling, o: KubeObject, event: StoreEvent) => void> = {
  [DEPLOYMENTS]: (t, o) => {
    const d = viewOf<DeploymentView>(o)!;
    if (d.metadata.name === 'web-green') onGreen(t, d);
    else onBlue(t, d);
  },
  services: (t, o) => onService(t, viewOf<ServiceView>(o)!),
  endpoints: (t, o) => onEndpoints(t, viewOf<EndpointsView>(o)!),
  'jobs.batch': (t, o, event) => onJob(t, viewOf<JobView>(o)!, event.type),
  [CVS]: (t, o) => onContainerVersion(t, viewOf<CvView>(o)!),
};

function onGreen(t: Telling, green: DeploymentView): void {
  if (imageOf(green) !== t.expected) return;
  const replicas = green.spec?.replicas ?? 0;
  t.steps.add('green patched', () => {
    t.story.say(`patched Deployment web-green: container ${NAME} =`);
    t.story.also(t.expected);
    t.story.also(`and replicas 0 → ${replicas} (as many as web-blue runs); web still selects blue`);
  });
  const s = green.status ?? {};
  if (replicas > 0 && s.updatedReplicas === replicas && s.readyReplicas === replicas)
    t.steps.add('green ready', () =>
      t.story.say(
        `web-green: ${replicas}/${replicas} replicas updated and ready; still no traffic`,
      ),
    );
}

function onBlue(t: Telling, blue: DeploymentView): void {
  if (blue.metadata.name !== 'web-blue' || blue.spec?.replicas !== 0) return;
  const after = Date.now() - t.switchedAt;
  t.steps.add('blue scaled down', () => {
    t.story.say(`scaled Deployment web-blue to 0 replicas, ${seconds(after)} after the switch`);
    t.story.also(
      `(scaleDownDelaySeconds: ${SCALE_DOWN_DELAY_SECONDS}, counted from the switch time cvm records, to the second)`,
    );
  });
}

function onService(t: Telling, service: ServiceView): void {
  if (colourOf(service) !== 'green') return;
  if (service.metadata.name === `${NAME}-preview`)
    t.steps.add('preview', () =>
      t.story.say(
        `Service web-preview now selects ${COLOR}=green: the new version, before it gets traffic`,
      ),
    );
  if (service.metadata.name === NAME && !t.steps.has('switched')) {
    t.switchedAt = Date.now();
    t.steps.add('switched', () =>
      t.story.say(
        `Service web switched to ${COLOR}=green: the traffic moves, in one selector change`,
      ),
    );
  }
}

function onEndpoints(t: Telling, endpoints: EndpointsView): void {
  if (endpoints.metadata.name !== NAME || !t.steps.has('switched')) return;
  const pods = endpointPods(endpoints);
  if (pods.length > 0 && pods.every((p) => p.startsWith('web-green-')))
    t.steps.add('endpoints', async () => {
      t.story.say(
        "web's Endpoints now list the web-green Pods (web-blue keeps running meanwhile):",
      );
      await showTraffic(t.story);
    });
}

/** The verify Job: created with the preview URL, then finished. */
function onJob(t: Telling, job: JobView, type: StoreEvent['type']): void {
  const name = job.metadata.name ?? '?';
  const container = job.spec?.template?.spec?.containers?.[0];
  if (type === 'ADDED') {
    const url = container?.env?.find((e) => e.name === 'CVM_PREVIEW_URL')?.value ?? '?';
    t.steps.add(`job ${name} created`, () => {
      t.story.say(
        `verify Job ${name} created (PrePromotion): ${(container?.command ?? []).join(' ')}`,
      );
      t.story.also(`with CVM_PREVIEW_URL=${url}`);
      t.story.also(
        "(the emulator runs no containers: the Job's Pod succeeds a second after it starts)",
      );
    });
  }
  if ((job.status?.succeeded ?? 0) > 0)
    t.steps.add(`job ${name} done`, () =>
      t.story.say(`verify Job ${name} succeeded: the check passed`),
    );
  if ((job.status?.failed ?? 0) > 0)
    t.steps.add(`job ${name} done`, () =>
      t.story.say(`verify Job ${name} failed: the traffic stays on blue`),
    );
}

/** The CV's status.rollout as it moves from step to step, then its lastRollout. */
function onContainerVersion(t: Telling, cv: CvView): void {
  if (cv.metadata.name !== NAME) return;
  const rollout = cv.status?.rollout;
  // Recording says what lastRollout says next.
  if (rollout && rollout.phase !== 'Recording')
    t.steps.add(`step ${rollout.step} ${rollout.phase}`, () =>
      t.story.say(
        `CV status: step ${rollout.step}/${rollout.steps} ${rollout.phase}: ${rollout.message}`,
      ),
    );
  const last = cv.status?.lastRollout;
  if (last?.digest !== t.digest || last.result === 'Progressing') return;
  const doneAt = Date.now();
  t.steps.add('finished', () => {
    t.steps.finish();
    if (last.result !== 'Succeeded')
      throw new DemoFailure(
        `the BlueGreen rollout of ${VERSION} ended ${last.result}: ${last.message}`,
      );
    t.story.say(
      `rolled out: ${last.message}; push to switch: ${seconds(t.switchedAt - t.pushedAt)}, ` +
        `push to done: ${seconds(doneAt - t.pushedAt)}`,
    );
  });
}

/** `promise`, or a DemoFailure naming `what` after `stepTimeoutMs`. */
async function bounded<T>(
  { stepTimeoutMs }: BlueGreenActOptions,
  promise: Promise<T>,
  what: string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new DemoFailure(`timed out after ${seconds(stepTimeoutMs)} waiting for ${what}`)),
      stepTimeoutMs,
    );
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves with `probe()` once it is truthy, checked now and after each change in the namespace. */
function untilCommitted<T>(
  { emulator, stepTimeoutMs }: BlueGreenActOptions,
  what: string,
  probe: () => T | undefined | false,
): Promise<T> {
  return new Promise((resolve, reject) => {
    let off = () => {};
    const timer = setTimeout(() => {
      off();
      reject(new DemoFailure(`timed out after ${seconds(stepTimeoutMs)} waiting for ${what}`));
    }, stepTimeoutMs);
    const check = () => {
      const value = probe();
      if (value === undefined || value === false) return;
      off();
      clearTimeout(timer);
      resolve(value);
    };
    off = emulator.store.subscribe((event) => {
      if (event.object.metadata.namespace === NS) check();
    });
    check();
  });
}

/** The CV's status in one line, for a failure message. */
function describeCv(emulator: KubeEmulator): string {
  const status = viewOf<CvView>(emulator.store.get(CVS, NS, NAME))?.status ?? {};
  const rollout = status.rollout;
  const conditions = (status.conditions ?? [])
    .map((c) => `${c.type}=${c.status} (${c.reason})`)
    .join(', ');
  return `the ContainerVersion ${NS}/${NAME}: ${rollout ? `rollout ${rollout.phase}: ${rollout.message}; ` : ''}${conditions}`;
}

function showHistoryEntry(story: Story, configMap: KubeObject | undefined): void {
  const data = viewOf<{ data?: Record<string, string> }>(configMap)?.data;
  const entries = JSON.parse(data?.['history.json'] ?? '[]') as HistoryEntryView[];
  const entry = entries[0];
  if (!entry) throw new DemoFailure(`the ConfigMap ${NS}/${NAME}-history has no entry`);
  story.say(`history (ConfigMap ${NS}/${NAME}-history), its newest entry:`);
  story.also(
    `${entry.version}  ${entry.result}  trigger ${entry.trigger}  took ` +
      seconds(Date.parse(entry.finishedAt) - Date.parse(entry.startedAt)),
  );
  story.also(`image     ${entry.image}`);
  story.also(`before    ${entry.previousImage ?? '?'} (what blue ran: a rollback's target)`);
  story.also(`message   ${entry.message}`);
}

function manifests(): object[] {
  const deployment = (colour: string, replicas: number) => {
    const labels = { app: NAME, [COLOR]: colour };
    return {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: `${NAME}-${colour}`, namespace: NS, labels },
      spec: {
        replicas,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            containers: [
              { name: NAME, image: PLACEHOLDER_IMAGE, ports: [{ containerPort: 8080 }] },
            ],
          },
        },
      },
    };
  };
  const service = (name: string) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: NS },
    spec: { selector: { app: NAME, [COLOR]: 'blue' }, ports: [{ port: 80, targetPort: 8080 }] },
  });
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
    deployment('blue', 2),
    deployment('green', 0),
    service(NAME),
    service(`${NAME}-preview`),
  ];
}

function containerVersion(repo: string): object {
  return {
    apiVersion: 'cvm.dev/v1',
    kind: 'ContainerVersion',
    metadata: { name: NAME, namespace: NS },
    spec: {
      imageRepo: repo,
      tag: 'prod',
      versionPattern: VERSION_PATTERN,
      selector: { app: NAME },
      container: NAME,
      pollIntervalSeconds: 0,
      strategy: {
        type: 'BlueGreen',
        blueGreen: {
          activeService: NAME,
          previewService: `${NAME}-preview`,
          scaleDownDelaySeconds: SCALE_DOWN_DELAY_SECONDS,
        },
      },
      verify: [
        {
          name: 'smoke',
          command: ['sh', '-c', 'wget -q -O- "$CVM_PREVIEW_URL"'],
          timeoutSeconds: 30,
          when: 'PrePromotion',
        },
      ],
    },
  };
}
