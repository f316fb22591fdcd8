import type { TestProject } from 'vitest/node';
import { describeMissing, missingPrerequisites, type Prerequisite } from './prerequisites.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** What the machine lacks, found once before any test file runs. */
    missingPrerequisites: Prerequisite[];
  }
}

/**
 * Vitest globalSetup: looks once for the machine's parts the tests use (Chromium, docker-registry,
 * skopeo, prometheus, kubectl, moto_server, cfn-lint, Redis), says up front what is missing and how to get
 * it, and hands the list to the tests (`inject('missingPrerequisites')`).
 */
export default async function setup(project: TestProject): Promise<void> {
  const missing = await missingPrerequisites();
  if (missing.length > 0) console.warn(`\n${describeMissing(missing)}\n`);
  project.provide('missingPrerequisites', missing);
}
