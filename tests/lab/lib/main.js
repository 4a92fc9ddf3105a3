'use strict';
// The lab process: one Node process runs every stand-in.
//   node lib/main.js --dir DIR [--scenario FILE] [--ttl MINUTES]
// Started (detached) by tests/lab/start; stopped by tests/lab/stop.
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { createCA } = require('./ca');
const { createCounters } = require('./counters');
const { createAdmin, startAdmin } = require('./admin');
const { loadScenario, registerScenarioRoutes } = require('./scenario');
const { writeEnvFile } = require('./envfile');

const LAB_ROOT = path.resolve(__dirname, '..');
const MODULES = [
  { name: 'k8s', file: './k8s/index.js' },
  { name: 'azure', file: './azure/index.js' },
  { name: 'flux', file: './flux/index.js' },
];

function parseArgs(argv) {
  const opts = { ttl: 45 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--dir') opts.dir = argv[++i];
    else if (a === '--scenario') opts.scenario = argv[++i];
    else if (a === '--ttl') opts.ttl = Number(argv[++i]);
    else throw new Error(`unknown argument: ${a}`);
  }
  if (!opts.dir) throw new Error('--dir DIR is required');
  if (!(opts.ttl > 0)) throw new Error('--ttl must be a positive number of minutes');
  opts.dir = path.resolve(opts.dir);
  return opts;
}

function makeLogger() {
  return (...parts) => {
    const line = parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(' ');
    process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  };
}

function makeContext(opts) {
  const config = loadScenario(opts.scenario);
  const azure = config.azure || {};
  return {
    dir: opts.dir,
    labRoot: LAB_ROOT,
    ca: createCA(),
    state: {},
    admin: createAdmin(),
    counters: createCounters(),
    log: makeLogger(),
    config,
    urls: {},
    env: {},
    ids: {
      tenantId: azure.tenantId || crypto.randomUUID(),
      subscriptionId: azure.subscriptionId || crypto.randomUUID(),
    },
    hosts: [],
    servers: [],
    modules: [],
    file: (name) => path.join(opts.dir, name),
    writeFile: (name, data, mode = 0o600) => fs.writeFileSync(path.join(opts.dir, name), data, { mode }),
  };
}

async function startModules(ctx) {
  for (const m of MODULES) {
    const file = path.join(__dirname, m.file);
    if (!fs.existsSync(file)) { ctx.log(`module ${m.name}: not present, skipped`); continue; }
    const exports = require(file);
    ctx.modules.push({ name: m.name, exports });
    await exports.start(ctx);
    ctx.log(`module ${m.name}: started`);
  }
  for (const m of ctx.modules) {
    if (typeof m.exports.afterStart === 'function') await m.exports.afterStart(ctx);
  }
}

function baseEnv(ctx, admin) {
  ctx.env.SSL_CERT_FILE = ctx.file('ca.crt');
  ctx.env.LAB_DIR = ctx.dir;
  ctx.env.LAB_ADMIN_URL = admin.url;
  ctx.env.LAB_TENANT_ID = ctx.ids.tenantId;
  ctx.env.PATH = `${path.join(LAB_ROOT, 'bin')}:${process.env.PATH || '/usr/bin:/bin'}`;
}

async function shutdown(ctx, code) {
  for (const m of [...ctx.modules].reverse()) {
    try { if (typeof m.exports.stop === 'function') await m.exports.stop(ctx); } catch (e) { ctx.log(`stop ${m.name}: ${e.message}`); }
  }
  for (const s of ctx.servers) { s.closeAllConnections?.(); s.close(); }
  ctx.log(`lab stopped (${code === 0 ? 'normal' : 'code ' + code})`);
  process.exit(code);
}

function dirIdentity(dir) {
  try { const st = fs.statSync(dir); return `${st.dev}:${st.ino}`; } catch { return null; }
}

// Why this lab should stop: its directory was removed or replaced, or another
// lab was started in it (DIR/pid names another process).
function orphaned(ctx, identity) {
  const now = dirIdentity(ctx.dir);
  if (!now) return 'lab directory removed';
  if (identity && now !== identity) return 'lab directory replaced';
  try {
    const pid = Number(fs.readFileSync(ctx.file('pid'), 'utf8').trim());
    if (pid && pid !== process.pid) return `another lab (pid ${pid}) owns the directory`;
  } catch { /* pid file not written yet or removed by stop */ }
  return null;
}

function installSafetyNets(ctx, ttlMinutes) {
  const onSignal = (sig) => { ctx.log(`received ${sig}`); shutdown(ctx, 0); };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  setTimeout(() => { ctx.log('ttl reached'); shutdown(ctx, 0); }, ttlMinutes * 60 * 1000).unref();
  const identity = dirIdentity(ctx.dir);
  setInterval(() => {
    const reason = orphaned(ctx, identity);
    if (reason) { ctx.log(reason); shutdown(ctx, 0); }
  }, 2000).unref();
  process.on('uncaughtException', (e) => ctx.log(`uncaught: ${e.stack || e}`));
  process.on('unhandledRejection', (e) => ctx.log(`unhandled rejection: ${e && e.stack ? e.stack : e}`));
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const ctx = makeContext(opts);
  fs.mkdirSync(opts.dir, { recursive: true });
  installSafetyNets(ctx, opts.ttl);
  ctx.writeFile('ca.crt', ctx.ca.certPem, 0o644);
  const admin = await startAdmin(ctx);
  ctx.writeFile('admin-token', admin.token);
  registerScenarioRoutes(ctx);
  baseEnv(ctx, admin);
  await startModules(ctx);
  ctx.env.FLUXWI_TRUSTED_HOSTS = ctx.hosts.join(',');
  writeEnvFile(ctx.file('env'), ctx.env);
  ctx.writeFile('urls.json', JSON.stringify(ctx.urls, null, 2) + '\n', 0o644);
  ctx.writeFile('ready', `${process.pid}\n`, 0o644);
  ctx.log(`lab ready: ${JSON.stringify(ctx.urls)}`);
  setInterval(() => {}, 1 << 30);
}

main().catch((e) => {
  process.stderr.write(`lab failed to start: ${e.stack || e}\n`);
  process.exit(1);
});
