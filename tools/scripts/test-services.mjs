#!/usr/bin/env node
// PostgreSQL and Redis instances for the tests: dedicated to crossauth (own
// data directory, own loopback ports), tuned for speed over durability
// (fsync off), never touching a system-wide server. Idempotent.
//
//   node tools/scripts/test-services.mjs start            start both if installed; print their URLs as env lines
//   node tools/scripts/test-services.mjs stop|start postgres|redis
//                                                        one service (the multi-instance e2e restarts them)
//   node tools/scripts/test-services.mjs down             stop both
//
// Installing the servers is .ci/run's job (Debian's postgresql and redis-server).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync, chownSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BASE = join(tmpdir(), 'crossauth-test-services');
const PG_PORT = 55432;
const REDIS_PORT = 56379;
const PG_DATA = join(BASE, 'pg');
const PG_LOG = join(BASE, 'pg.log');
const REDIS_PID = join(BASE, 'redis.pid');
export const TEST_DATABASE_URL = `postgres://crossauth:crossauth@127.0.0.1:${PG_PORT}/crossauth_test`;
export const TEST_REDIS_URL = `redis://127.0.0.1:${REDIS_PORT}`;

const isRoot = process.getuid?.() === 0;

function pgBin(name) {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', name)))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin', name) : undefined;
}

const redisBin = () => ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));

// PostgreSQL refuses to run as root: as root, run its tools as the postgres user.
function asPostgres(command, args, options = {}) {
  const run = isRoot
    ? spawnSync('su', ['postgres', '-s', '/bin/sh', '-c', [command, ...args].map(shellQuote).join(' ')], options)
    : spawnSync(command, args, options);
  return run;
}
const shellQuote = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

function pgReady() {
  const isready = pgBin('pg_isready');
  return Boolean(isready) && spawnSync(isready, ['-h', '127.0.0.1', '-p', String(PG_PORT), '-q']).status === 0;
}

export function startPostgres() {
  const initdb = pgBin('initdb');
  const pgCtl = pgBin('pg_ctl');
  if (!initdb || !pgCtl) return undefined;
  if (pgReady()) return TEST_DATABASE_URL;
  mkdirSync(BASE, { recursive: true, mode: 0o755 });
  if (!existsSync(join(PG_DATA, 'PG_VERSION'))) {
    mkdirSync(PG_DATA, { recursive: true, mode: 0o700 });
    if (isRoot) {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
      chownSync(PG_DATA, uid, gid);
      writeFileSync(PG_LOG, '');
      chownSync(PG_LOG, uid, gid);
    }
    const init = asPostgres(initdb, ['-D', PG_DATA, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8'], { stdio: 'ignore' });
    if (init.status !== 0) throw new Error('initdb failed');
  }
  const opts = `-c listen_addresses=127.0.0.1 -p ${PG_PORT} -k ${PG_DATA} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
  const started = asPostgres(pgCtl, ['-D', PG_DATA, '-l', PG_LOG, '-o', opts, '-w', '-t', '30', 'start'], { stdio: 'ignore' });
  if (started.status !== 0 && !pgReady()) throw new Error(`PostgreSQL did not start; see ${PG_LOG}`);
  const psql = pgBin('psql');
  const sql = (statement) =>
    spawnSync(psql, ['-h', '127.0.0.1', '-p', String(PG_PORT), '-U', 'postgres', '-d', 'postgres', '-qAtc', statement], { encoding: 'utf8' });
  if (sql(`SELECT 1 FROM pg_roles WHERE rolname = 'crossauth'`).stdout.trim() !== '1') sql(`CREATE ROLE crossauth LOGIN PASSWORD 'crossauth'`);
  if (sql(`SELECT 1 FROM pg_database WHERE datname = 'crossauth_test'`).stdout.trim() !== '1') sql(`CREATE DATABASE crossauth_test OWNER crossauth`);
  return TEST_DATABASE_URL;
}

export function stopPostgres() {
  const pgCtl = pgBin('pg_ctl');
  if (!pgCtl || !existsSync(join(PG_DATA, 'postmaster.pid'))) return;
  asPostgres(pgCtl, ['-D', PG_DATA, '-m', 'fast', '-w', 'stop'], { stdio: 'ignore' });
}

function redisReady() {
  const cli = ['/usr/bin/redis-cli', '/usr/local/bin/redis-cli'].find((p) => existsSync(p));
  return Boolean(cli) && spawnSync(cli, ['-p', String(REDIS_PORT), 'ping'], { encoding: 'utf8' }).stdout?.trim() === 'PONG';
}

export function startRedis() {
  const server = redisBin();
  if (!server) return undefined;
  if (redisReady()) return TEST_REDIS_URL;
  mkdirSync(BASE, { recursive: true });
  const run = spawnSync(
    server,
    [
      '--port',
      String(REDIS_PORT),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'yes',
      '--pidfile',
      REDIS_PID,
      '--dir',
      BASE,
      '--logfile',
      join(BASE, 'redis.log'),
    ],
    { stdio: 'ignore' },
  );
  if (run.status !== 0) throw new Error('redis-server did not start');
  for (let i = 0; i < 50 && !redisReady(); i++) spawnSync('sleep', ['0.1']);
  if (!redisReady()) throw new Error('redis-server did not answer');
  return TEST_REDIS_URL;
}

export function stopRedis() {
  const cli = ['/usr/bin/redis-cli', '/usr/local/bin/redis-cli'].find((p) => existsSync(p));
  if (cli && redisReady()) spawnSync(cli, ['-p', String(REDIS_PORT), 'shutdown', 'nosave'], { stdio: 'ignore' });
}

const isMain = process.argv[1] && import.meta.filename === process.argv[1];
if (isMain) {
  const [command = 'start', which] = process.argv.slice(2);
  const services = { postgres: [startPostgres, stopPostgres], redis: [startRedis, stopRedis] };
  if (command === 'down') {
    stopPostgres();
    stopRedis();
  } else if (which) {
    const pair = services[which];
    if (!pair) throw new Error(`unknown service ${which}`);
    (command === 'stop' ? pair[1] : pair[0])();
  } else {
    const db = startPostgres();
    const redis = startRedis();
    if (db) process.stdout.write(`CROSSAUTH_TEST_DATABASE_URL=${db}\n`);
    if (redis) process.stdout.write(`CROSSAUTH_TEST_REDIS_URL=${redis}\n`);
  }
}
