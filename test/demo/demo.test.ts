import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait-for.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/**
 * Runs the demo as a new user would (its own process group, as a terminal gives it), killing the
 * whole group if it outlives `timeoutMs`. `interrupt` may send it a Ctrl-C once its output matches.
 */
function runDemo(
  command: string[],
  options: {
    timeoutMs: number;
    interruptWhen?: RegExp;
    /** Sends `signal` to the started process alone (not its group) once the output matches. */
    signalLeader?: { when: RegExp; signal: NodeJS.Signals };
  },
): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(command[0]!, command.slice(1), {
      cwd: ROOT,
      env: { ...process.env, FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    let interrupted = false;
    const take = (chunk: Buffer) => {
      output += chunk.toString();
      if (options.interruptWhen && !interrupted && options.interruptWhen.test(output)) {
        interrupted = true;
        // Ctrl-C in a terminal: SIGINT to the foreground process group.
        process.kill(-child.pid!, 'SIGINT');
      }
      if (options.signalLeader && !interrupted && options.signalLeader.when.test(output)) {
        interrupted = true;
        process.kill(child.pid!, options.signalLeader.signal);
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    const timer = setTimeout(() => {
      output += `\n[test] killed after ${options.timeoutMs} ms`;
      process.kill(-child.pid!, 'SIGKILL');
    }, options.timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Everything the demo said it started is gone: its HTTP ports, cvm's pid, temp files, Redis keys. */
async function expectNothingLeft(output: string): Promise<void> {
  const ports = [
    ...new Set([...output.matchAll(/http:\/\/127\.0\.0\.1:(\d+)/g)].map((m) => m[1]!)),
  ];
  // emulator, webhook, ops, registry
  expect(ports.length).toBeGreaterThanOrEqual(3);
  // The stopped processes' ports may take a moment to be released by the kernel.
  for (const port of ports) {
    await waitFor(async () => !(await portOpen(Number(port))), `port ${port} to be closed`, {
      timeoutMs: 5_000,
      intervalMs: 100,
    });
  }
  const pid = /cvm serve +starting \(pid (\d+)/.exec(output)?.[1];
  expect(pid).toBeDefined();
  expect(alive(Number(pid))).toBe(false);
  const tempDir = /removed its temp files \(([^)]+)\)/.exec(output)?.[1];
  expect(tempDir).toBeDefined();
  expect(existsSync(tempDir!)).toBe(false);
  const prefix = /keys start with (demo-[0-9a-f]+):/.exec(output)?.[1];
  if (prefix) {
    const redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true });
    await redis.connect();
    try {
      expect(await redis.keys(`${prefix}:*`)).toEqual([]);
    } finally {
      redis.disconnect();
    }
  }
}

/** One `npm run demo` to the end, shared by the tests that read what it said. */
let fullRun: Promise<Run> | undefined;
const runToTheEnd = () =>
  (fullRun ??= runDemo(['npm', 'run', '--silent', 'demo'], { timeoutMs: 110_000 }));

describe('npm run demo', () => {
  it('shows both versions pushed, patched by digest and rolled out, then exits 0 leaving nothing running', async () => {
    const run = await runToTheEnd();
    expect(run.output).not.toContain('[test] killed');
    expect(run.code, run.output).toBe(0);
    const out = run.output;
    for (const version of ['sha-1a2b3c4', 'sha-5d6e7f8']) {
      expect(out).toContain(`push of shop/api:${version} received`);
      expect(out).toMatch(new RegExp(`/shop/api:${version}@sha256:[0-9a-f]{64}`));
      expect(out).toMatch(new RegExp(`api +prod +${version} +True +Succeeded`));
    }
    expect(out).toContain('routed to ContainerVersion shop/api');
    expect(out.match(/deployment "api" successfully rolled out/g)?.length).toBeGreaterThanOrEqual(
      3,
    );
    expect(out.match(/rolled out: 2\/2 replicas updated and ready/g)).toHaveLength(2);
    expect(out).toMatch(/sha-5d6e7f8 +Succeeded +push[\s\S]*sha-1a2b3c4 +Succeeded/);
    expect(out).toMatch(/NAMESPACE +NAME +REPO +TAG +VERSION +READY +AGE/);
    expect(out).toMatch(/shop +api +127\.0\.0\.1:\d+\/shop\/api +prod +sha-5d6e7f8 +True +\d+s/);
    expect(out).toMatch(/LAST SEEN +TYPE +REASON +OBJECT +MESSAGE/);
    expect(out).toMatch(/Normal +RolloutSucceeded +containerversion\/api +/);
    expect(out).toContain('Done: nothing is left running.');
    await expectNothingLeft(out);
  }, 120_000);

  it('the blue-green act tells each step in order and ends with web on green, running the pushed digest, and blue at 0', async () => {
    const run = await runToTheEnd();
    expect(run.output).not.toContain('[test] killed');
    expect(run.code, run.output).toBe(0);
    const act = run.output.slice(
      run.output.indexOf('Blue-green:'),
      run.output.indexOf('Where to look'),
    );
    const image =
      /patched Deployment web-green: container web =\s+(\S+:sha-9c0ffee@sha256:[0-9a-f]{64})/.exec(
        act,
      )?.[1];
    expect(image, act).toBeDefined();
    // Before the push: web selects blue, its Endpoints are blue's Pods.
    expect(act).toMatch(
      /before the push[^\n]*\n.*\$ kubectl get service web[^\n]*\n.*SELECTOR\n +web +ClusterIP .*app=web,cvm\.dev\/color=blue\n.*\n.*PODS\n +web +10\.\S+,10\.\S+ +web-blue-\S+,web-blue-\S+\n/,
    );
    // The steps, in the order the API server committed them.
    expect(act).toContain(
      'push of storefront/web:prod received, routed to ContainerVersion storefront/web',
    );
    const steps = [
      'CV status: step 1/5',
      'patched Deployment web-green',
      'and replicas 0 → 2',
      'web-green: 2/2 replicas updated and ready',
      'Service web-preview now selects cvm.dev/color=green',
      'CV status: step 3/5 Verifying',
      'created (PrePromotion)',
      'CVM_PREVIEW_URL=http://web-preview.storefront.svc.cluster.local',
      'succeeded: the check passed',
      'Service web switched to cvm.dev/color=green',
      "web's Endpoints now list the web-green Pods",
      'scaled Deployment web-blue to 0 replicas',
      'rolled out: sha-9c0ffee is live on green (deployment/web-green)',
    ];
    const at = steps.map((step) => act.indexOf(step));
    expect(at, act).not.toContain(-1);
    expect(at).toEqual([...at].sort((a, b) => a - b));
    const scalingDown = act.indexOf('CV status: step 5/5 ScalingDown');
    expect(scalingDown).toBeGreaterThan(act.indexOf('Service web switched'));
    expect(scalingDown).toBeLessThan(act.indexOf('scaled Deployment web-blue'));
    expect(act).toMatch(/verify Job web-verify-smoke-[0-9a-f]{8} created/);
    // After the switch: web selects green, its Endpoints are green's Pods.
    expect(act).toMatch(
      /Endpoints now list[^\n]*\n.*\$ kubectl get service web[^\n]*\n.*SELECTOR\n +web +ClusterIP .*app=web,cvm\.dev\/color=green\n.*\n.*PODS\n +web +10\.\S+,10\.\S+ +web-green-\S+,web-green-\S+\n/,
    );
    // The final state: green runs the pushed digest with blue's replicas, blue is at 0.
    const escaped = image!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    expect(act).toMatch(/web-blue +0 +example\.com\/storefront\/web:bootstrap\n/);
    expect(act).toMatch(new RegExp(`web-green +2 +${escaped}\\n`));
    expect(act).toMatch(/web +prod +sha-9c0ffee +True +Succeeded/);
    expect(act).toMatch(/sha-9c0ffee +Succeeded +trigger (push|sync)/);
    expect(act).toMatch(new RegExp(`image +${escaped}\\n`));
    expect(act).toMatch(/before +example\.com\/storefront\/web:bootstrap/);
    expect(run.output).toMatch(
      /storefront +web +127\.0\.0\.1:\d+\/storefront\/web +prod +sha-9c0ffee +True/,
    );
  }, 120_000);

  it('Ctrl-C in the middle stops everything it started and exits 130', async () => {
    const run = await runDemo(['node', '--import', 'tsx', 'scripts/demo.ts'], {
      timeoutMs: 110_000,
      interruptWhen: /routed to ContainerVersion shop\/api/,
    });
    expect(run.output).not.toContain('[test] killed');
    expect(run.code, run.output).toBe(130);
    expect(run.output).toContain('Ctrl-C: stopping everything the demo started');
    expect(run.output).toContain('Nothing is left running.');
    expect(run.output).not.toContain('Second Ctrl-C');
    await expectNothingLeft(run.output);
  }, 120_000);

  it.each([
    ['SIGINT', 0],
    ['SIGTERM', 143],
  ] as const)(
    'npm run demo -- --keep stops cleanly on %s sent to the npm process alone',
    async (signal, code) => {
      const run = await runDemo(['npm', 'run', '--silent', 'demo', '--', '--keep'], {
        timeoutMs: 110_000,
        signalLeader: { when: /--keep: everything keeps running/, signal },
      });
      expect(run.output).not.toContain('[test] killed');
      expect(run.code, run.output).toBe(code);
      expect(run.output).toContain('Stopping everything the demo started');
      expect(run.output).toMatch(/(Done: nothing|Nothing) is left running\./);
      await expectNothingLeft(run.output);
    },
    120_000,
  );

  it('--keep stops cleanly when its parent dies without passing a signal on', async () => {
    // `; true` keeps sh from exec-ing node: sh is the parent, and SIGKILL gives it no say.
    const run = await runDemo(['sh', '-c', 'node --import tsx scripts/demo.ts --keep; true'], {
      timeoutMs: 110_000,
      signalLeader: { when: /--keep: everything keeps running/, signal: 'SIGKILL' },
    });
    expect(run.output).not.toContain('[test] killed');
    expect(run.signal).toBe('SIGKILL');
    expect(run.output).toContain('Stopping everything the demo started');
    expect(run.output).toContain('Nothing is left running.');
    await expectNothingLeft(run.output);
  }, 120_000);
});
