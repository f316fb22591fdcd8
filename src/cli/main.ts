#!/usr/bin/env node
// Composition root of the `cvm` command.
import { runCli } from './program.js';

const exitCode = await runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
});
process.exitCode = exitCode;
