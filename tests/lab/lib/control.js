'use strict';
// Shared by start, stop and labctl: find a lab's process and talk to its admin API.
const fs = require('node:fs');
const path = require('node:path');
const https = require('node:https');

function readPid(dir) {
  try { return Number(fs.readFileSync(path.join(dir, 'pid'), 'utf8').trim()) || null; } catch { return null; }
}

// True when pid is alive and is the lab process serving dir.
function isLabProcess(pid, dir) {
  if (!pid) return false;
  try {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.some((a) => a.endsWith('lib/main.js')) && argv.includes(path.resolve(dir));
  } catch { return false; }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// request(url, {method, headers, body, ca}) -> {status, headers, body: string}
function request(url, { method = 'GET', headers = {}, body, ca, timeout = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, headers, ca, timeout }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout calling ${url}`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function adminClient(dir) {
  const read = (n) => fs.readFileSync(path.join(dir, n), 'utf8');
  const urls = JSON.parse(read('urls.json'));
  const token = read('admin-token').trim();
  const ca = read('ca.crt');
  return async (method, urlPath, body) => {
    const headers = { Authorization: `Bearer ${token}` };
    let payload;
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      headers['Content-Type'] = typeof body === 'string' ? 'application/yaml' : 'application/json';
    }
    return request(urls.admin + urlPath, { method, headers, body: payload, ca });
  };
}

module.exports = { readPid, isLabProcess, sleep, request, adminClient };
