'use strict';
// DIR/env: one `export NAME='value'` line per variable, sorted by name.
const fs = require('node:fs');

const quote = (v) => `'${String(v).replace(/'/g, `'\\''`)}'`;

function formatEnv(env) {
  return Object.keys(env).sort()
    .filter((k) => env[k] !== undefined && env[k] !== null)
    .map((k) => `export ${k}=${quote(env[k])}\n`).join('');
}

// Reads a file written by formatEnv back into an object (for tests and labctl).
function parseEnv(text) {
  const env = {};
  for (const line of text.split('\n')) {
    const m = line.match(/^export ([A-Za-z_][A-Za-z0-9_]*)='(.*)'$/);
    if (m) env[m[1]] = m[2].replace(/'\\''/g, "'");
  }
  return env;
}

function writeEnvFile(file, env) {
  fs.writeFileSync(file, formatEnv(env), { mode: 0o600 });
}

module.exports = { formatEnv, parseEnv, writeEnvFile };
