'use strict';
// LAB-AZURE module: Entra ID, Key Vault, managed identity endpoints, ARM; default fresh-lab
// objects, scenario handling, admin verbs (fault, policy, fic, key, azure).
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const M = require('./model');
const entra = require('./entra');
const keyvault = require('./keyvault');
const imds = require('./imds');
const arm = require('./arm');
const rbac = require('./rbac');

const WI_SUBJECT = 'system:serviceaccount:flux-system:kustomize-controller';

function issuerOf(ctx) {
  const k = ctx.state.k8s || {};
  return k.issuer || ctx.urls.issuer || (ctx.urls.apiserver ? ctx.urls.apiserver + '/' : '');
}

function template(ctx, s) {
  if (typeof s !== 'string') return s;
  const st = ctx.state.azure;
  return s.replace(/\{\{issuer\}\}/g, issuerOf(ctx)).replace(/\{\{issuerNoSlash\}\}/g, issuerOf(ctx).replace(/\/$/, ''))
    .replace(/\{\{tenantId\}\}/g, st.tenantId);
}

function defaults(ctx) {
  const st = ctx.state.azure;
  const mi = M.addIdentity(st, { name: 'fluxwi-kustomize' });
  mi.federatedCredentials = [M.fic({ name: 'kustomize-controller', issuer: issuerOf(ctx), subject: WI_SUBJECT })];
  const kubelet = M.addIdentity(st, { name: 'fluxwi-lab-agentpool', resourceGroup: 'MC_fluxwi-lab-rg_fluxwi-lab_westeurope' });
  st.hostIdentities.imds = [kubelet.name];
  st.hostIdentities.appService = [mi.name];
  st.mainIdentity = mi.name;
  const cert = ctx.ca.issue({ cn: 'fluxwi-lab-sp', usage: 'client', keyType: 'rsa', days: 7 });
  const sp = {
    name: 'fluxwi-lab-sp', appId: M.uuid(), objectId: M.uuid(),
    secrets: [crypto.randomBytes(24).toString('base64url')],
    certificates: [cert.certificate],
    certPem: cert.certPem, keyPem: cert.keyPem,
  };
  st.apps.set(sp.appId, sp);
  st.mainApp = sp.appId;
  const dev = { name: 'developer', upn: 'developer@' + st.tenantDomain, oid: M.uuid(), refreshToken: crypto.randomBytes(32).toString('base64url') };
  st.users.set(dev.oid, dev);
  st.developer = dev.oid;
  M.addKey(st, { name: 'sops-key', size: 2048 });
  st.mainKey = 'sops-key';
  M.setPolicy(st, mi.principalId, ['get', 'decrypt']);
  M.setPolicy(st, dev.oid, M.ALL_CRYPTO);
  M.setPolicy(st, sp.objectId, M.ALL_CRYPTO);
}

function applyAzure(ctx, section) {
  if (!section) return 'no azure section';
  const st = ctx.state.azure;
  for (const spec of section.identities || []) {
    const id = M.addIdentity(st, Object.assign({}, spec, { federatedCredentials: undefined }));
    if (Array.isArray(spec.federatedCredentials)) {
      id.federatedCredentials = spec.federatedCredentials.map((f) => M.fic({
        name: f.name, issuer: template(ctx, f.issuer), subject: template(ctx, f.subject),
        audiences: f.audiences || (f.audience ? [f.audience] : undefined),
      }));
    }
  }
  for (const k of section.keys || []) M.addKey(st, k);
  for (const p of section.accessPolicies || []) {
    M.setPolicy(st, p.objectId || p.principal || p.identity, p.keys || p.permissions || []);
  }
  if (section.hostIdentities) {
    if (section.hostIdentities.imds) st.hostIdentities.imds = section.hostIdentities.imds;
    if (section.hostIdentities.appService) st.hostIdentities.appService = section.hostIdentities.appService;
  }
  if (section.cluster) Object.assign(st.cluster, section.cluster);
  if (section.vault && section.vault.authorization) st.rbac = section.vault.authorization === 'rbac';
  if (section.vault && section.vault.networkAcls) st.network = Object.assign({}, st.network, section.vault.networkAcls);
  if (section.vault && section.vault.publicNetworkAccess) st.network = Object.assign({}, st.network, { publicNetworkAccess: section.vault.publicNetworkAccess });
  for (const a of section.roleAssignments || []) {
    rbac.assign(st, M.resolvePrincipal(st, a.principal || a.objectId || a.identity), a.role, a.scope ? template(ctx, a.scope) : undefined);
  }
  if (section.clearFaults) st.faults = [];
  for (const f of section.faults || []) M.addFault(st, f);
  return 'applied';
}

// args: positional words, key=value, --key value, --flag
function parseArgs(args) {
  const pos = [];
  const kv = {};
  for (let i = 0; i < args.length; i++) {
    const a = String(args[i]);
    if (a.startsWith('--')) {
      const [k, v] = a.slice(2).split(/=(.*)/s);
      if (v !== undefined) kv[k] = v;
      else if (i + 1 < args.length && !String(args[i + 1]).startsWith('--')) kv[k] = String(args[++i]);
      else kv[k] = 'true';
    } else if (/^[A-Za-z][A-Za-z0-9_]*=/.test(a)) {
      const [k, v] = a.split(/=(.*)/s);
      kv[k] = v;
    } else {
      pos.push(a);
    }
  }
  return { pos, kv };
}

function faultVerb(ctx, args) {
  const st = ctx.state.azure;
  const { pos, kv } = parseArgs(args);
  let sub = pos[0] || 'list';
  let rest = pos.slice(1);
  if (['429', '5xx', 'slow', 'drop', 'reset'].includes(sub)) { rest = pos; sub = 'add'; }
  if (sub === 'list') return { faults: st.faults };
  if (sub === 'clear') { const n = st.faults.length; st.faults = []; return { cleared: n }; }
  if (sub !== 'add') throw new Error('usage: fault [add] 429|5xx|slow|drop|reset [COUNT] [op=get|encrypt|decrypt|wrapkey|unwrapkey] [status=503] [retryAfter=S] [delayMs=MS] | list | clear');
  const f = M.addFault(st, {
    kind: rest[0], count: kv.count || rest[1], op: kv.op, status: kv.status, retryAfter: kv.retryAfter || kv['retry-after'],
    delayMs: kv.delayMs || kv.delay, target: kv.target,
  });
  return { added: f, faults: st.faults };
}

function policyVerb(ctx, args) {
  const st = ctx.state.azure;
  const { pos } = parseArgs(args);
  const sub = pos[0] || 'list';
  if (sub === 'set') {
    const perms = String(pos[2] || '').split(',').filter(Boolean);
    return { objectId: M.setPolicy(st, pos[1], perms), keys: perms };
  }
  if (sub === 'delete') return { objectId: M.setPolicy(st, pos[1], []), keys: [] };
  if (sub === 'list') return Object.fromEntries([...st.policies.entries()].map(([k, v]) => [k, [...v]]));
  throw new Error('usage: policy set PRINCIPAL perm,perm | delete PRINCIPAL | list');
}

function ficVerb(ctx, args) {
  const st = ctx.state.azure;
  const { pos, kv } = parseArgs(args);
  const sub = pos[0] || 'list';
  const id = st.identities.get(pos[1] || st.mainIdentity);
  if (!id) throw new Error('unknown identity ' + pos[1]);
  if (sub === 'list') return id.federatedCredentials;
  if (sub === 'delete') {
    id.federatedCredentials = id.federatedCredentials.filter((f) => f.name !== pos[2]);
    return id.federatedCredentials;
  }
  if (sub === 'set') {
    const prev = id.federatedCredentials.find((f) => f.name === pos[2]) || {};
    const f = M.fic({
      name: pos[2],
      issuer: kv.issuer !== undefined ? template(ctx, kv.issuer) : prev.issuer,
      subject: kv.subject !== undefined ? kv.subject : prev.subject,
      audiences: kv.audience !== undefined ? [kv.audience] : prev.audiences,
    });
    if (!f.name || !f.issuer || !f.subject) throw new Error('fic set needs NAME, issuer= and subject=');
    id.federatedCredentials = id.federatedCredentials.filter((x) => x.name !== f.name).concat([f]);
    return id.federatedCredentials;
  }
  throw new Error('usage: fic list [IDENTITY] | set IDENTITY NAME issuer=.. subject=.. [audience=..] | delete IDENTITY NAME');
}

function rbacVerb(ctx, args) {
  const st = ctx.state.azure;
  const { pos, kv } = parseArgs(args);
  const sub = pos[0] || 'list';
  if (sub === 'on' || sub === 'off') { st.rbac = sub === 'on'; return { enableRbacAuthorization: st.rbac }; }
  if (sub === 'assign') return rbac.assign(st, M.resolvePrincipal(st, pos[1]), pos.slice(2).join(' ') || kv.role, kv.scope);
  if (sub === 'remove') {
    const oid = M.resolvePrincipal(st, pos[1]);
    const role = pos.slice(2).join(' ');
    st.roleAssignments = st.roleAssignments.filter((a) => !(a.principalId === oid && (!role || a.role === rbac.roleByName(role))));
    return { roleAssignments: st.roleAssignments };
  }
  if (sub === 'list') return { enableRbacAuthorization: st.rbac, roleAssignments: st.roleAssignments, roles: Object.keys(rbac.ROLES) };
  throw new Error('usage: rbac on|off | assign PRINCIPAL ROLE NAME [scope=…] | remove PRINCIPAL [ROLE] | list');
}

async function keyVerb(ctx, args) {
  const st = ctx.state.azure;
  const { pos, kv } = parseArgs(args);
  const [sub, name, version] = pos;
  // Generate new RSA keys off the main thread so the lab keeps answering meanwhile.
  if (sub === 'create') await M.prepareKeys([Number(kv.size || version || 2048)]);
  if (sub === 'rotate' && st.keys.get(name || st.mainKey)) {
    const k = st.keys.get(name || st.mainKey);
    await M.prepareKeys([k.versions[k.versions.length - 1].size]);
  }
  if (sub === 'create') return keySummary(ctx, M.addKey(st, { name, size: kv.size || version || 2048 }));
  const key = st.keys.get(name || st.mainKey);
  if (!key) throw new Error('unknown key ' + name);
  const v = version ? key.versions.find((x) => x.version === version) : key.versions[key.versions.length - 1];
  if (!v && sub !== 'rotate') throw new Error('unknown key version ' + version);
  if (sub === 'disable' || sub === 'enable') { v.enabled = sub === 'enable'; v.updated = M.now(); }
  else if (sub === 'rotate') key.versions.push(M.newKeyVersion(key.versions[key.versions.length - 1].size));
  else if (sub === 'ops') v.keyOps = String(pos[3] || kv.ops || '').split(',').filter(Boolean);
  else if (sub !== 'show') throw new Error('usage: key show|enable|disable|rotate|ops|create NAME [VERSION]');
  return keySummary(ctx, key);
}

function keySummary(ctx, key) {
  return {
    name: key.name,
    versions: key.versions.map((v) => ({ kid: ctx.urls.vault + '/keys/' + key.name + '/' + v.version, size: v.size, enabled: v.enabled, keyOps: v.keyOps })),
  };
}

function summary(ctx) {
  const st = ctx.state.azure;
  return {
    tenantId: st.tenantId,
    subscriptionId: st.subscriptionId,
    identities: [...st.identities.values()].map((i) => ({ name: i.name, resourceGroup: i.resourceGroup, clientId: i.clientId, principalId: i.principalId, federatedCredentials: i.federatedCredentials })),
    apps: [...st.apps.values()].map((a) => ({ name: a.name, appId: a.appId, objectId: a.objectId })),
    users: [...st.users.values()].map((u) => ({ upn: u.upn, oid: u.oid })),
    keys: [...st.keys.values()].map((k) => keySummary(ctx, k)),
    policies: Object.fromEntries([...st.policies.entries()].map(([k, v]) => [k, [...v]])),
    hostIdentities: st.hostIdentities,
    rbac: st.rbac,
    roleAssignments: st.roleAssignments,
    faults: st.faults,
  };
}

function writeAzFiles(ctx) {
  const st = ctx.state.azure;
  const dev = st.users.get(st.developer);
  const login = {
    authority: ctx.urls.entra,
    tenantId: st.tenantId,
    tenantDomain: st.tenantDomain,
    subscriptionId: st.subscriptionId,
    subscriptionName: 'fluxwi-lab',
    user: dev.upn,
    refreshToken: dev.refreshToken,
    arm: ctx.urls.arm,
    vaults: { [st.vaultName]: ctx.urls.vault },
    caFile: ctx.file('ca.crt'),
  };
  // The lab's record of the developer's account (what `az login` would obtain).
  ctx.writeFile('az-login.json', JSON.stringify(login, null, 2) + '\n');
  const cfg = ctx.file('azure');
  fs.mkdirSync(cfg, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(cfg, 'lab-login.json'), JSON.stringify(login, null, 2) + '\n', { mode: 0o600 });
}

function setEnv(ctx) {
  const st = ctx.state.azure;
  const mi = st.identities.get(st.mainIdentity);
  const sp = st.apps.get(st.mainApp);
  const key = st.keys.get(st.mainKey);
  const v = key.versions[key.versions.length - 1];
  ctx.writeFile('sp.pem', sp.certPem + sp.keyPem);
  Object.assign(ctx.env, {
    AZURE_AUTHORITY_HOST: ctx.urls.entra + '/',
    AZURE_CONFIG_DIR: ctx.file('azure'),
    LAB_VAULT_URL: ctx.urls.vault,
    LAB_VAULT_NAME: st.vaultName,
    LAB_CLUSTER_NAME: st.cluster.name,
    LAB_KEY_NAME: key.name,
    LAB_KEY_URL: ctx.urls.vault + '/keys/' + key.name + '/' + v.version,
    LAB_CLIENT_ID: mi.clientId,
    LAB_PRINCIPAL_ID: mi.principalId,
    LAB_IDENTITY_NAME: mi.name,
    LAB_IDENTITY_ID: M.armId(st, mi),
    LAB_RESOURCE_GROUP: mi.resourceGroup,
    LAB_SUBSCRIPTION_ID: st.subscriptionId,
    LAB_SP_CLIENT_ID: sp.appId,
    LAB_SP_OBJECT_ID: sp.objectId,
    LAB_SP_CLIENT_SECRET: sp.secrets[0],
    LAB_SP_CERT_PATH: ctx.file('sp.pem'),
    LAB_DEVELOPER_OID: st.developer,
    LAB_IMDS_ENDPOINT: ctx.urls.imds + '/metadata/identity/oauth2/token',
    LAB_IDENTITY_ENDPOINT: ctx.urls.imds + '/msi/token',
    LAB_IDENTITY_HEADER: st.identityHeader,
    FLUXWI_ARM_ENDPOINT: ctx.urls.arm,
  });
}

async function start(ctx) {
  await M.prepareKeys([2048, 2048]);
  ctx.state.azure = M.createState(ctx);
  await entra.start(ctx);
  await keyvault.start(ctx);
  await imds.start(ctx);
  await arm.start(ctx);
  defaults(ctx);
  applyAzure(ctx, ctx.config && ctx.config.azure);
  const st = ctx.state.azure;
  const mi = st.identities.get(st.mainIdentity);
  st.clientId = mi.clientId;
  st.principalId = mi.principalId;
  setEnv(ctx);
  writeAzFiles(ctx);
  ctx.admin.verb('fault', (args) => faultVerb(ctx, args));
  ctx.admin.verb('policy', (args) => policyVerb(ctx, args));
  ctx.admin.verb('fic', (args) => ficVerb(ctx, args));
  ctx.admin.verb('key', (args) => keyVerb(ctx, args));
  ctx.admin.verb('rbac', (args) => rbacVerb(ctx, args));
  ctx.admin.verb('azure', () => summary(ctx));
  ctx.admin.route('GET', '/azure', () => summary(ctx));
}

async function afterStart(ctx) {
  // The issuer may only be known once the API server has started everything.
  const st = ctx.state.azure;
  const mi = st.identities.get(st.mainIdentity);
  for (const f of mi.federatedCredentials) if (!f.issuer) f.issuer = issuerOf(ctx);
}

async function applyScenario(doc, ctx) {
  const keys = (doc && doc.azure && doc.azure.keys) || [];
  await M.prepareKeys(keys.filter((k) => !ctx.state.azure.keys.has(k.name) || k.rotate).map((k) => Number(k.size || 2048)));
  return applyAzure(ctx, doc && doc.azure);
}

module.exports = { start, afterStart, applyScenario, parseArgs, WI_SUBJECT };
