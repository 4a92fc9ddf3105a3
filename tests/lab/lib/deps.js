'use strict';
// Installs the lab's npm packages when a fresh clone lacks them (used by
// tests/lab/start and by `npm test` as its pretest step). Only node: modules here.
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const LAB = path.resolve(__dirname, '..');

// The lab needs its npm packages (`yaml` at run time; the SDKs for its tests).
// A fresh clone has none: install them from the lockfile once, under a lock so
// parallel starts do not race.
function ensureDependencies() {
  const installed = () => ['yaml', '@kubernetes/client-node', '@azure/identity']
    .every((m) => fs.existsSync(path.join(LAB, 'node_modules', m, 'package.json')));
  if (installed()) return;
  const lock = path.join(LAB, '.npm-ci.lock');
  for (let i = 0; i < 600; i++) {
    try { fs.mkdirSync(lock); break; } catch {
      if (installed()) return;
      if (Date.now() - fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs > 300000) fs.rmSync(lock, { recursive: true, force: true });
      spawnSync('sleep', ['0.5']);
    }
  }
  try {
    if (installed()) return;
    process.stderr.write('lab: installing the lab\'s npm packages (npm ci)\n');
    const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: LAB, stdio: ['ignore', 2, 2] });
    if (r.status !== 0) { process.stderr.write('lab: npm ci failed\n'); process.exit(1); }
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

module.exports = { ensureDependencies };

if (require.main === module) ensureDependencies();
