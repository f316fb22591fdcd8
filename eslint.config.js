// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Module boundaries of STYLE.md: each client library may be imported only by the module that owns
 * that concern. `test/` and `bench/` may import anything.
 */
const boundaries = [
  { name: '@kubernetes/client-node', owners: ['kube'], why: 'only src/kube talks to Kubernetes' },
  { name: 'bullmq', owners: ['queue'], why: 'only src/queue imports bullmq' },
  { name: 'ioredis', owners: ['queue'], why: 'only src/queue imports ioredis' },
  {
    name: 'express',
    owners: ['http', 'receiver'],
    why: 'only src/http and src/receiver serve HTTP',
  },
  {
    name: '@aws-sdk/client-ecr',
    owners: ['registry'],
    why: 'only src/registry talks to registries',
  },
];
const owners = [...new Set(boundaries.flatMap((b) => b.owners))];

/** @param {string | undefined} dir the src/ module the files belong to; undefined for every other module */
const boundaryRule = (dir) => ({
  files: dir ? [`src/${dir}/**/*.ts`] : ['src/**/*.ts'],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        paths: boundaries
          .filter((b) => !dir || !b.owners.includes(dir))
          .map((b) => ({ name: b.name, message: `${b.why} (STYLE.md)` })),
      },
    ],
  },
});

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', 'node_modules/', '.ci/out/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['bin/*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  // Later blocks win: every src file gets all restrictions, then each owner gets all but its own.
  boundaryRule(undefined),
  ...owners.map(boundaryRule),
  {
    // Tests read untyped JSON, YAML and HTTP bodies; the unsafe-* rules there cost more than they catch.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['eslint.config.js', 'bin/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    // The dashboard's browser script (served as is, no build step).
    files: ['web/**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      sourceType: 'script',
      globals: Object.fromEntries(
        [
          'window',
          'document',
          'location',
          'fetch',
          'EventSource',
          'URLSearchParams',
          'Node',
          'setTimeout',
          'setInterval',
          'clearTimeout',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
);
