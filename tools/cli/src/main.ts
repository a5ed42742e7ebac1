#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { runCli } from './cli';

// Same convention as the apps: a git-ignored .env in the working directory.
if (existsSync('.env')) process.loadEnvFile('.env');
void runCli(process.argv.slice(2), process.env, {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
}).then((code) => {
  process.exitCode = code;
});
