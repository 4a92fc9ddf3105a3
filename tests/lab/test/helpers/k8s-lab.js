'use strict';
// Test helper: start a lab in a fresh temporary directory, run kubectl against
// it, and always stop it (after hook, process exit, and the lab's own
// "directory removed" safety net). LAB_KEEP_DIRS=1 keeps the directories
// (kubeconfig, lab.log) of stopped labs for debugging.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { parseEnv } = require('../../lib/envfile');

const LAB = path.resolve(__dirname, '..', '..');
const running = new Set();

process.on('exit', () => {
  for (const lab of running) {
    try { process.kill(lab.pid, 'SIGKILL'); } catch { /* already gone */ }
    fs.rmSync(lab.dir, { recursive: true, force: true });
  }
});

function run(cmd, args, { env, input, timeout = 60000 } = {}) {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { env, timeout, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin.end(input);
  });
}

async function startLab({ scenario } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-lab-test-'));
  const args = [dir];
  if (scenario) {
    const file = path.join(dir, 'scenario.yaml');
    fs.writeFileSync(file, scenario);
    args.push('--scenario', file);
  }
  const started = await run(path.join(LAB, 'start'), args);
  if (started.code !== 0) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`lab start failed: ${started.stderr}`);
  }
  const pid = Number(fs.readFileSync(path.join(dir, 'pid'), 'utf8'));
  const env = parseEnv(fs.readFileSync(path.join(dir, 'env'), 'utf8'));
  const lab = { dir, pid, env, urls: JSON.parse(fs.readFileSync(path.join(dir, 'urls.json'), 'utf8')) };
  running.add(lab);
  lab.processEnv = { ...process.env, ...env };
  delete lab.processEnv.AZURE_CLIENT_ID;
  lab.kubectl = (argv, opts = {}) => run('kubectl', argv, { env: lab.processEnv, ...opts });
  lab.labctl = (argv) => run(path.join(LAB, 'labctl'), [dir, ...argv]);
  lab.stop = async () => {
    if (!running.has(lab)) return;
    await run(path.join(LAB, 'stop'), [dir]);
    running.delete(lab);
    if (process.env.LAB_KEEP_DIRS) process.stderr.write(`# lab directory kept: ${dir}\n`);
    else fs.rmSync(dir, { recursive: true, force: true });
  };
  return lab;
}

// kubectl that must succeed; returns stdout (parsed when -o json).
async function ok(lab, argv, opts) {
  const r = await lab.kubectl(argv, opts);
  if (r.code !== 0) throw new Error(`kubectl ${argv.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout ? `\nstdout: ${r.stdout}` : ''}`);
  const o = argv.indexOf('-o');
  return o >= 0 && argv[o + 1] === 'json' ? JSON.parse(r.stdout) : r.stdout;
}

async function eventually(fn, { timeout = 15000, interval = 200 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    try { return await fn(); } catch (e) { last = e; }
    await new Promise((r) => setTimeout(r, interval));
  }
  throw last;
}

// Alive and not a zombie (a detached lab's parent may not reap it at once).
function isAlive(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch { return false; }
}

module.exports = { startLab, ok, eventually, run, isAlive, LAB };
