'use strict';
// Test helper for the Azure/Flux half: start a lab in a temp dir (always stopped by the
// test's after hook), talk to its admin API, run the SDK check script, the az stand-in,
// kubectl, and build SOPS files encrypted with the lab's Key Vault key.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const https = require('node:https');
const { execFileSync, spawnSync } = require('node:child_process');
const { parseEnv } = require('../../lib/envfile');
const sops = require('../../lib/sops');
const YAML = require('yaml');

const LAB = path.resolve(__dirname, '../..');

function request(url, { method = 'GET', headers = {}, body, ca, cert, key } = {}) {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, headers, ca, cert, key, timeout: 30000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json = null;
        try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout calling ' + url)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

async function startLab(t, { scenario } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'azlab-'));
  const args = [dir, '--ttl', '15'];
  if (scenario) {
    const f = path.join(dir, 'scenario.yaml');
    fs.writeFileSync(f, scenario);
    args.push('--scenario', f);
  }
  const lab = { dir };
  lab.stop = () => {
    if (lab.stopped) return;
    lab.stopped = true;
    spawnSync(path.join(LAB, 'stop'), [dir], { stdio: 'ignore' });
    fs.rmSync(dir, { recursive: true, force: true });
  };
  if (t) t.after(lab.stop);
  process.once('exit', lab.stop);
  try {
    execFileSync(path.join(LAB, 'start'), args, { stdio: 'pipe' });
  } catch (e) {
    const log = fs.existsSync(path.join(dir, 'lab.log')) ? fs.readFileSync(path.join(dir, 'lab.log'), 'utf8') : '';
    lab.stop();
    throw new Error('lab start failed: ' + (e.stderr || '') + log.slice(-2000));
  }
  lab.env = parseEnv(fs.readFileSync(path.join(dir, 'env'), 'utf8'));
  lab.ca = fs.readFileSync(path.join(dir, 'ca.crt'), 'utf8');
  lab.adminToken = fs.readFileSync(path.join(dir, 'admin-token'), 'utf8').trim();
  lab.childEnv = (extra = {}) => Object.assign({}, process.env, lab.env, { NODE_EXTRA_CA_CERTS: path.join(dir, 'ca.crt') }, extra);
  lab.admin = async (method, p, body) => {
    const headers = { Authorization: 'Bearer ' + lab.adminToken };
    let payload;
    if (body !== undefined) { payload = JSON.stringify(body); headers['Content-Type'] = 'application/json'; }
    const r = await request(lab.env.LAB_ADMIN_URL + p, { method, headers, body: payload, ca: lab.ca });
    if (r.status >= 400) throw new Error('admin ' + method + ' ' + p + ': ' + r.status + ' ' + r.text);
    return r.json;
  };
  lab.verb = (name, ...a) => lab.admin('POST', '/verb/' + name, { args: a });
  lab.counters = () => lab.admin('GET', '/counters');
  lab.resetCounters = () => lab.admin('POST', '/counters/reset');
  lab.sdk = (kind, action = 'token', extra = {}) => {
    const r = spawnSync(process.execPath, [path.join(__dirname, '../sdk/azure-sdk-check.js'), kind, action], {
      env: lab.childEnv(extra), encoding: 'utf8', timeout: 120000, cwd: LAB,
    });
    const line = (r.stdout || '').trim().split('\n').pop();
    try { return JSON.parse(line); } catch (e) { throw new Error('sdk check printed no JSON: ' + r.stdout + r.stderr); }
  };
  // Several SDK checks in one child process: [{kind, action, env}] -> [result]
  lab.sdkBatch = (checks) => {
    const r = spawnSync(process.execPath, [path.join(__dirname, '../sdk/azure-sdk-check.js'), JSON.stringify(checks)], {
      env: lab.childEnv(), encoding: 'utf8', timeout: 180000, cwd: LAB,
    });
    const line = (r.stdout || '').trim().split('\n').pop();
    let out;
    try { out = JSON.parse(line); } catch (e) { throw new Error('sdk check printed no JSON: ' + r.stdout + r.stderr); }
    if (!Array.isArray(out)) throw new Error('sdk batch failed: ' + line);
    return out;
  };
  lab.run = (cmd, args, extra = {}) => spawnSync(cmd, args, { env: lab.childEnv(extra), encoding: 'utf8', timeout: 60000 });
  // The API server as lab-admin (client certificate from the kubeconfig), without kubectl.
  const kc = YAML.parse(fs.readFileSync(path.join(dir, 'kubeconfig'), 'utf8'));
  const admin = kc.users.find((u) => u.name === 'lab-admin').user;
  const server = kc.clusters[0].cluster.server;
  lab.api = async (method, p, body, type = 'application/json') => {
    const payload = body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body));
    const headers = { Accept: 'application/json' };
    if (payload !== undefined) { headers['Content-Type'] = type; headers['Content-Length'] = Buffer.byteLength(payload); }
    const r = await request(server + p, {
      method, headers, body: payload, ca: lab.ca,
      cert: Buffer.from(admin['client-certificate-data'], 'base64'), key: Buffer.from(admin['client-key-data'], 'base64'),
    });
    return r;
  };
  lab.get = async (p) => {
    const r = await lab.api('GET', p);
    return r.status === 200 ? r.json : null;
  };
  // TokenRequest for a ServiceAccount (what the kubelet projects into a pod).
  lab.saToken = async (ns, sa, audience = 'api://AzureADTokenExchange') => {
    const r = await lab.api('POST', '/api/v1/namespaces/' + ns + '/serviceaccounts/' + sa + '/token',
      { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [audience], expirationSeconds: 3600 } });
    if (r.status !== 201 && r.status !== 200) throw new Error('TokenRequest: ' + r.status + ' ' + r.text);
    return r.json.status.token;
  };
  lab.kubectl = (...a) => {
    const r = lab.run('kubectl', a);
    if (r.status !== 0) throw new Error('kubectl ' + a.join(' ') + ': ' + r.stderr);
    return r.stdout;
  };
  lab.az = (...a) => lab.run(path.join(LAB, 'bin/az'), a);
  lab.repo = (...p) => path.join(lab.env.LAB_REPO_DIR || path.join(dir, 'repo'), ...p);
  return lab;
}

function claims(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

async function entraToken(lab, params) {
  const body = new URLSearchParams(params).toString();
  const tenant = params.tenant || lab.env.LAB_TENANT_ID;
  delete params.tenant;
  return request(lab.env.AZURE_AUTHORITY_HOST + tenant + '/oauth2/v2.0/token', {
    method: 'POST', body, ca: lab.ca,
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(body) },
  });
}

async function spToken(lab, scope = 'https://vault.azure.net/.default') {
  const r = await entraToken(lab, { grant_type: 'client_credentials', client_id: lab.env.LAB_SP_CLIENT_ID, client_secret: lab.env.LAB_SP_CLIENT_SECRET, scope });
  if (r.status !== 200) throw new Error('sp token: ' + r.text);
  return r.json.access_token;
}

// The developer's token through bin/az (cached per lab and resource: each az run is a process).
function devToken(lab, resource = 'https://vault.azure.net') {
  lab.tokens = lab.tokens || new Map();
  if (lab.tokens.has(resource)) return lab.tokens.get(resource);
  const r = lab.az('account', 'get-access-token', '--resource', resource, '-o', 'json');
  if (r.status !== 0) throw new Error('az: ' + r.stderr);
  const tok = JSON.parse(r.stdout).accessToken;
  lab.tokens.set(resource, tok);
  return tok;
}

async function kv(lab, method, p, token, body) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = 'Bearer ' + token;
  let payload;
  if (body !== undefined) { payload = JSON.stringify(body); headers['Content-Type'] = 'application/json'; headers['Content-Length'] = Buffer.byteLength(payload); }
  const sep = p.includes('?') ? '&' : '?';
  const url = lab.env.LAB_VAULT_URL + p + (/api-version=/.test(p) ? '' : sep + 'api-version=7.4');
  return request(url, { method, headers, body: payload, ca: lab.ca });
}

// Encrypt a Kubernetes object with the lab key (as `sops --azure-kv` would), via Key Vault encrypt.
async function encryptWithLabKey(lab, obj, token) {
  const tok = token || devToken(lab);
  const keyUrl = new URL(lab.env.LAB_KEY_URL);
  const [, , name, version] = keyUrl.pathname.split('/');
  return sops.encryptObject(obj, {
    encrypted_regex: '^(data|stringData)$',
    wrap: async (dk) => {
      const r = await kv(lab, 'POST', '/keys/' + name + '/' + version + '/encrypt', tok, { alg: 'RSA-OAEP-256', value: dk.toString('base64url') });
      if (r.status !== 200) throw new Error('encrypt: ' + r.text);
      return { azure_kv: [{ vault_url: lab.env.LAB_VAULT_URL, name, version, created_at: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), enc: r.json.value }] };
    },
  });
}

module.exports = { startLab, request, claims, entraToken, spToken, devToken, kv, encryptWithLabKey, LAB };
