import { parseArgs } from 'node:util';
import { startKubeEmulator } from './index.js';

/**
 * `npm run kube-emulator -- --port 16443 --kubeconfig /tmp/kubeconfig [--never-ready TEXT]
 * [--crashing TEXT] [--crash-after-seconds N] [--time-scale N]`
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '16443' },
      kubeconfig: { type: 'string' },
      'never-ready': { type: 'string', multiple: true },
      crashing: { type: 'string', multiple: true },
      'crash-after-seconds': { type: 'string', default: '2' },
      'time-scale': { type: 'string', default: '1' },
      'pod-ready-seconds': { type: 'string', default: '1' },
      nodes: { type: 'string', default: 'node-1' },
    },
  });
  const emulator = await startKubeEmulator({
    port: Number(values.port),
    ...(values.kubeconfig ? { kubeconfigPath: values.kubeconfig } : {}),
    neverReady: values['never-ready'] ?? [],
    crashing: values.crashing ?? [],
    crashAfterSeconds: Number(values['crash-after-seconds']),
    timeScale: Number(values['time-scale']),
    podReadySeconds: Number(values['pod-ready-seconds']),
    nodes: values.nodes.split(',').filter((n) => n !== ''),
  });
  console.log(`kube-emulator listening on ${emulator.url}`);
  console.log(`kubeconfig: ${emulator.kubeconfigPath}`);
  const shutdown = (): void => {
    emulator.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
