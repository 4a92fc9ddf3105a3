'use strict';
// The Azure side's state: tenant, identities (managed identities, app registrations, users),
// federated credentials, the vault's keys and access policies, and injected faults.
const crypto = require('node:crypto');

const CLI_APP_ID = '04b07795-8ddb-461a-bbee-02f9e1bf7b46';
const KEYVAULT_APP_ID = 'cfa8b339-82a2-471a-a3c9-0fc0be7a4093';
const WI_AUDIENCE = 'api://AzureADTokenExchange';
const KEY_PERMS = ['get', 'list', 'update', 'create', 'import', 'delete', 'recover', 'backup', 'restore',
  'decrypt', 'encrypt', 'unwrapKey', 'wrapKey', 'verify', 'sign', 'purge', 'release', 'rotate',
  'getrotationpolicy', 'setrotationpolicy'];
const ALL_CRYPTO = ['get', 'list', 'encrypt', 'decrypt', 'wrapKey', 'unwrapKey'];

const uuid = () => crypto.randomUUID();
const hex32 = () => crypto.randomBytes(16).toString('hex');
const now = () => Math.floor(Date.now() / 1000);

// RSA key pairs made ahead, in parallel on the thread pool (start-up would otherwise
// generate them one after the other on the main thread).
const pool = new Map();

function prepareKeys(sizes) {
  return Promise.all(sizes.map((size) => new Promise((resolve, reject) => {
    crypto.generateKeyPair('rsa', { modulusLength: size }, (err, publicKey, privateKey) => {
      if (err) { reject(err); return; }
      if (!pool.has(size)) pool.set(size, []);
      pool.get(size).push({ publicKey, privateKey });
      resolve();
    });
  })));
}

function rsaPair(size) {
  const ready = pool.get(size);
  if (ready && ready.length) return ready.shift();
  return crypto.generateKeyPairSync('rsa', { modulusLength: size });
}

function newKeyVersion(size, opts = {}) {
  const { privateKey, publicKey } = rsaPair(size);
  const t = now();
  return {
    version: opts.version || hex32(),
    privateKey, publicKey, size,
    keyOps: opts.keyOps || ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey', 'sign', 'verify'],
    enabled: opts.enabled !== false,
    created: t, updated: t,
    nbf: opts.nbf, exp: opts.exp,
  };
}

function createState(ctx) {
  const cfg = (ctx.config && ctx.config.azure) || {};
  const signing = rsaPair(2048);
  const kid = crypto.createHash('sha1').update(signing.publicKey.export({ format: 'der', type: 'spki' })).digest('base64url');
  const st = {
    tenantId: ctx.ids.tenantId,
    subscriptionId: ctx.ids.subscriptionId,
    tenantDomain: 'fluxwilab.onmicrosoft.com',
    location: cfg.location || 'westeurope',
    resourceGroup: cfg.resourceGroup || 'fluxwi-lab-rg',
    vaultName: cfg.vaultName || 'fluxwi-lab-kv',
    signing: { privateKey: signing.privateKey, publicKey: signing.publicKey, kid },
    identities: new Map(), // managed identities by name
    apps: new Map(), // app registrations / service principals by appId
    users: new Map(), // by oid
    keys: new Map(), // name -> {name, versions: [...]} (last = current)
    policies: new Map(), // objectId -> Set(perms)
    faults: [],
    cluster: { name: cfg.clusterName || 'fluxwi-lab', oidcIssuerEnabled: true, workloadIdentityEnabled: true },
    rbac: false, // vault uses access policies unless enableRbacAuthorization
    roleAssignments: [],
    hostIdentities: { imds: [], appService: [] },
    identityHeader: crypto.randomBytes(16).toString('hex'),
    issuerCache: new Map(),
  };
  return st;
}

function addIdentity(st, spec) {
  const name = spec.name;
  const prev = st.identities.get(name);
  const id = {
    name,
    resourceGroup: spec.resourceGroup || (prev && prev.resourceGroup) || st.resourceGroup,
    clientId: spec.clientId || (prev && prev.clientId) || uuid(),
    principalId: spec.principalId || (prev && prev.principalId) || uuid(),
    location: st.location,
    federatedCredentials: prev ? prev.federatedCredentials : [],
  };
  if (Array.isArray(spec.federatedCredentials)) {
    id.federatedCredentials = spec.federatedCredentials.map((f) => fic(f));
  }
  st.identities.set(name, id);
  return id;
}

function fic(f) {
  const audiences = f.audiences || (f.audience ? [f.audience] : [WI_AUDIENCE]);
  return { name: f.name, issuer: f.issuer, subject: f.subject, audiences: [].concat(audiences) };
}

function armId(st, identity) {
  return '/subscriptions/' + st.subscriptionId + '/resourcegroups/' + identity.resourceGroup +
    '/providers/Microsoft.ManagedIdentity/userAssignedIdentities/' + identity.name;
}

function identityByClientId(st, clientId) {
  for (const id of st.identities.values()) if (id.clientId === clientId) return id;
  return null;
}

function identityByPrincipal(st, oid) {
  for (const id of st.identities.values()) if (id.principalId === oid) return id;
  return null;
}

// Resolve a principal reference: an object id, or identity:NAME / app:NAME / user:NAME / a bare name.
function resolvePrincipal(st, ref) {
  const s = String(ref);
  const [kind, name] = s.includes(':') ? s.split(/:(.*)/s) : ['', s];
  if (kind === 'identity' || kind === '') {
    const id = st.identities.get(name);
    if (id) return id.principalId;
  }
  if (kind === 'app' || kind === '') {
    for (const a of st.apps.values()) if (a.name === name || a.appId === name) return a.objectId;
  }
  if (kind === 'user' || kind === '') {
    for (const u of st.users.values()) if (u.name === name || u.upn === name) return u.oid;
  }
  if (/^[0-9a-f-]{36}$/i.test(s)) return s;
  throw new Error('unknown principal ' + s);
}

function setPolicy(st, ref, perms) {
  const oid = resolvePrincipal(st, ref);
  const bad = perms.filter((p) => !KEY_PERMS.some((k) => k.toLowerCase() === String(p).toLowerCase()));
  if (bad.length) throw new Error('unknown key permission(s): ' + bad.join(', '));
  if (perms.length === 0) st.policies.delete(oid);
  else st.policies.set(oid, new Set(perms.map((p) => KEY_PERMS.find((k) => k.toLowerCase() === String(p).toLowerCase()))));
  return oid;
}

function addKey(st, spec) {
  const size = Number(spec.size || 2048);
  if (![2048, 3072, 4096].includes(size)) throw new Error('RSA key size must be 2048, 3072 or 4096');
  let key = st.keys.get(spec.name);
  if (!key) {
    key = { name: spec.name, versions: [] };
    st.keys.set(spec.name, key);
  }
  const n = Math.max(1, Number(spec.versions || 1));
  if (key.versions.length === 0 || spec.rotate) {
    for (let i = 0; i < n; i++) key.versions.push(newKeyVersion(size, spec));
  }
  if (spec.enabled === false) key.versions[key.versions.length - 1].enabled = false;
  if (spec.enabled === true) key.versions[key.versions.length - 1].enabled = true;
  if (spec.keyOps) key.versions[key.versions.length - 1].keyOps = spec.keyOps;
  return key;
}

function findKeyVersion(st, name, version) {
  const key = st.keys.get(name);
  if (!key) return null;
  if (!version) return key.versions[key.versions.length - 1];
  return key.versions.find((v) => v.version === version) || null;
}

// Faults: {target, kind: 429|5xx|slow|drop|reset, count, op, status, retryAfter, delayMs}
function addFault(st, spec) {
  const kind = String(spec.kind);
  if (!['429', '5xx', 'slow', 'drop', 'reset'].includes(kind)) {
    throw new Error('fault kind must be one of 429, 5xx, slow, drop, reset');
  }
  const f = {
    target: spec.target || 'keyvault',
    kind,
    count: spec.count === undefined ? 1 : Number(spec.count),
    op: spec.op || null,
    status: Number(spec.status || (kind === '429' ? 429 : 503)),
    retryAfter: spec.retryAfter === undefined ? 1 : Number(spec.retryAfter),
    delayMs: Number(spec.delayMs || 2000),
  };
  if (!(f.count > 0)) throw new Error('fault count must be positive');
  st.faults.push(f);
  return f;
}

// Take the first fault matching target/op (consumes one count).
function takeFault(st, target, op) {
  for (let i = 0; i < st.faults.length; i++) {
    const f = st.faults[i];
    if (f.target !== target || (f.op && f.op !== op)) continue;
    f.count -= 1;
    if (f.count <= 0) st.faults.splice(i, 1);
    return f;
  }
  return null;
}

module.exports = {
  CLI_APP_ID, KEYVAULT_APP_ID, WI_AUDIENCE, ALL_CRYPTO, KEY_PERMS,
  createState, addIdentity, fic, armId, identityByClientId, identityByPrincipal, resolvePrincipal,
  setPolicy, addKey, findKeyVersion, newKeyVersion, addFault, takeFault, uuid, now, prepareKeys,
};
