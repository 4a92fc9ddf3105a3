'use strict';
// kustomize-controller's reconcile, on request: source revision, kustomize build, SOPS
// decryption with the controller pod's injected identity, server-side apply (with the
// kubectl-manager cleanup), prune, and the Kustomization's status.
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { createClient } = require('./kube');
const kustomize = require('./kustomize');
const az = require('./azure');
const { decryptResource, isSopsObject } = require('../sops/kube');
const age = require('../sops/age');
const sops = require('../sops');

// Flux API versions as the API server prefers them (v1; v1beta2 on Flux < 2.0 scenarios).
async function fluxApis(client) {
  const pref = async (group) => {
    try {
      const g = await client.request('GET', '/apis/' + group);
      return g.preferredVersion.groupVersion;
    } catch (e) {
      throw new Error('Flux is not installed: the API server does not serve ' + group + ' (' + e.message + ')');
    }
  };
  return { ks: [await pref('kustomize.toolkit.fluxcd.io'), 'Kustomization'], gr: [await pref('source.toolkit.fluxcd.io'), 'GitRepository'] };
}
const MANAGER = 'kustomize-controller';
const WI_AUDIENCE = 'api://AzureADTokenExchange';
const DISALLOWED = [{ prefix: 'kubectl', op: 'Apply' }, { prefix: 'kubectl', op: 'Update' },
  { prefix: 'before-first-apply', op: 'Update' }, { prefix: 'kustomize-controller', op: 'Update' }];

class ReconcileError extends Error {
  constructor(reason, message, stalled) {
    super(message);
    this.reason = reason;
    this.stalled = !!stalled;
  }
}

// --- source -------------------------------------------------------------------------

function filesBelow(dir, base = dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.name === '.git') continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...filesBelow(p, base));
    else if (e.isFile()) out.push(path.relative(base, p));
  }
  return out;
}

// sha1 over the tree's paths and contents (stands in for the commit id).
function treeDigest(dir) {
  const h = crypto.createHash('sha1');
  for (const f of filesBelow(dir)) {
    h.update(f + '\0');
    h.update(fs.readFileSync(path.join(dir, f)));
    h.update('\0');
  }
  return h.digest('hex');
}

function repoFor(ctx, gr) {
  const flux = ctx.state.flux;
  const key = gr.metadata.namespace + '/' + gr.metadata.name;
  return (flux.repos && flux.repos[key]) || flux.repo;
}

// --- identity for decryption -------------------------------------------------------

function containerEnv(container) {
  const env = {};
  for (const e of container.env || []) if (typeof e.value === 'string') env[e.name] = e.value;
  return env;
}

async function controllerPod(client) {
  const sel = 'labelSelector=' + encodeURIComponent('app=kustomize-controller');
  const list = await client.list('v1', 'Pod', 'flux-system', sel);
  let pods = (list.items || []).filter((p) => !p.metadata.deletionTimestamp);
  if (!pods.length) throw new Error('no running kustomize-controller pod in flux-system');
  // The pods of the newest ReplicaSet are the ones doing the work after a rollout.
  try {
    const rsList = await client.list('apps/v1', 'ReplicaSet', 'flux-system', sel);
    const rev = (rs) => Number(((rs.metadata.annotations || {})['deployment.kubernetes.io/revision']) || 0);
    const newest = (rsList.items || []).sort((a, b) => rev(b) - rev(a))[0];
    const hash = newest && (newest.metadata.labels || {})['pod-template-hash'];
    const current = pods.filter((p) => hash && (p.metadata.labels || {})['pod-template-hash'] === hash);
    if (current.length) pods = current;
  } catch (e) {
    // no ReplicaSets served: fall back to the newest pod
  }
  pods.sort((a, b) => String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp)));
  const pod = pods[0];
  const c = (pod.spec.containers || []).find((x) => x.name === 'manager') || pod.spec.containers[0];
  return { pod, container: c };
}

// The projected token the kubelet would have written at AZURE_FEDERATED_TOKEN_FILE.
function tokenFileReader(ctx, pod, container, file) {
  return async () => {
    const mount = (container.volumeMounts || []).find((m) => file.startsWith(m.mountPath.replace(/\/$/, '') + '/'));
    const rel = mount ? file.slice(mount.mountPath.replace(/\/$/, '').length + 1) : null;
    const vol = mount && (pod.spec.volumes || []).find((v) => v.name === mount.name);
    const src = vol && vol.projected && (vol.projected.sources || []).find((s) => s.serviceAccountToken && s.serviceAccountToken.path === rel);
    if (!src) throw new Error('open ' + file + ': no such file or directory');
    const sat = src.serviceAccountToken;
    return ctx.state.k8s.podToken(pod, { audience: sat.audience, expirationSeconds: sat.expirationSeconds || 3600 });
  };
}

function credOpts(ctx) {
  return { ca: ctx.ca.certPem, imdsUrl: ctx.urls.imds, labAuthority: ctx.urls.entra + '/' };
}

function featureGate(container, gate) {
  const args = (container.args || []).concat(container.command || []);
  return args.some((a) => /^--feature-gates=/.test(a) && a.split('=').slice(1).join('=').split(',').includes(gate + '=true'));
}

async function objectLevelCredential(ctx, client, ks, container) {
  const saName = ks.spec.decryption.serviceAccountName;
  if (!featureGate(container, 'ObjectLevelWorkloadIdentity')) {
    throw new ReconcileError('FeatureGateDisabled', 'to use spec.decryption.serviceAccountName for decryption authentication please enable the ObjectLevelWorkloadIdentity feature gate in the controller', true);
  }
  const ns = ks.metadata.namespace;
  const sa = await client.getOrNull('v1', 'ServiceAccount', ns, saName);
  if (!sa) throw new Error('failed to get service account \'' + ns + '/' + saName + '\': serviceaccounts "' + saName + '" not found');
  const ann = sa.metadata.annotations || {};
  const tenant = ann['azure.workload.identity/tenant-id'];
  const clientId = ann['azure.workload.identity/client-id'];
  if (!tenant) throw new Error('azure tenant ID is not set in the service account annotation azure.workload.identity/tenant-id');
  if (!clientId) throw new Error('azure client ID is not set in the service account annotation azure.workload.identity/client-id');
  const read = async () => {
    try {
      const tr = await client.tokenRequest(ns, saName, [WI_AUDIENCE], 3600);
      return tr.status.token;
    } catch (e) {
      throw new Error('failed to create kubernetes token for service account \'' + ns + '/' + saName + '\': ' + e.message);
    }
  };
  return az.workloadIdentity(tenant, clientId, ctx.urls.entra + '/', read, credOpts(ctx));
}

async function decryptionOptions(ctx, client, ks, podInfo) {
  const dec = ks.spec.decryption;
  const opts = {};
  let cred = null;
  if (dec.secretRef && dec.secretRef.name) {
    const s = await client.getOrNull('v1', 'Secret', ks.metadata.namespace, dec.secretRef.name);
    if (!s) throw new ReconcileError('BuildFailed', 'secrets "' + dec.secretRef.name + '" not found');
    const data = s.data || {};
    const ids = [];
    for (const [k, v] of Object.entries(data)) {
      const text = Buffer.from(v, 'base64').toString('utf8');
      if (k.endsWith('.agekey')) {
        try {
          ids.push(...age.parseIdentities(text));
        } catch (e) {
          throw new ReconcileError('BuildFailed', 'failed to import \'' + k + '\' data from sops decryption Secret \'' + ks.metadata.namespace + '/' + dec.secretRef.name + '\': ' + e.message);
        }
      }
      if (k === 'sops.azure-kv') cred = az.fromSecretValue(text, credOpts(ctx));
    }
    opts.ageIdentities = ids;
  }
  if (!cred) {
    if (dec.serviceAccountName) {
      cred = await objectLevelCredential(ctx, client, ks, podInfo().container);
    } else {
      const lazy = { cred: null };
      const get = () => {
        if (!lazy.cred) {
          const { pod, container } = podInfo();
          const env = containerEnv(container);
          const file = env.AZURE_FEDERATED_TOKEN_FILE;
          lazy.cred = az.fromEnvironment(env, Object.assign(credOpts(ctx), { readTokenFile: file ? tokenFileReader(ctx, pod, container, file) : null }));
        }
        return lazy.cred;
      };
      cred = { getToken: (scope) => get().getToken(scope) };
    }
  }
  opts.azureDecrypt = az.keyVaultDecrypter(cred, credOpts(ctx));
  return opts;
}

// --- apply ---------------------------------------------------------------------------

function fmt(o) {
  return o.kind + '/' + (o.metadata.namespace ? o.metadata.namespace + '/' : '') + o.metadata.name;
}

function inventoryId(o) {
  const g = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
  return (o.metadata.namespace || '') + '_' + o.metadata.name.replace(/:/g, '__') + '_' + g + '_' + o.kind;
}

function parseInventoryId(id) {
  const first = id.indexOf('_');
  const last = id.lastIndexOf('_');
  const prev = id.lastIndexOf('_', last - 1);
  return { namespace: id.slice(0, first), name: id.slice(first + 1, prev).replace(/__/g, ':'), group: id.slice(prev + 1, last), kind: id.slice(last + 1) };
}

function mergeFieldSets(a, b) {
  const out = structuredClone(a || {});
  for (const [k, v] of Object.entries(b || {})) {
    out[k] = k in out && v && typeof v === 'object' ? mergeFieldSets(out[k], v) : structuredClone(v);
  }
  return out;
}

// Take over fields of kubectl* (and other disallowed) managers, as fluxcd/pkg ssa does.
async function cleanupManagers(client, live) {
  const mf = live.metadata.managedFields || [];
  const ann = live.metadata.annotations || {};
  const lastApplied = 'kubectl.kubernetes.io/last-applied-configuration';
  const bad = (e) => !e.subresource && DISALLOWED.some((d) => e.manager.startsWith(d.prefix) && e.operation === d.op);
  if (!mf.some(bad) && !(lastApplied in ann)) return false;
  if ((ann['kustomize.toolkit.fluxcd.io/ssa'] || '').toLowerCase() === 'merge') return false;
  const out = [];
  let mine = null;
  for (const e of mf) {
    const isMine = e.manager === MANAGER && e.operation === 'Apply' && !e.subresource;
    if (bad(e) || isMine) {
      if (!mine) {
        mine = { manager: MANAGER, operation: 'Apply', apiVersion: e.apiVersion, time: e.time, fieldsType: 'FieldsV1', fieldsV1: {} };
        out.push(mine);
      }
      mine.fieldsV1 = mergeFieldSets(mine.fieldsV1, e.fieldsV1);
    } else {
      out.push(e);
    }
  }
  const ops = [{ op: 'replace', path: '/metadata/managedFields', value: out }];
  if (lastApplied in ann) ops.push({ op: 'remove', path: '/metadata/annotations/' + lastApplied.replace(/~/g, '~0').replace(/\//g, '~1') });
  await client.patch(live.apiVersion, live.kind, live.metadata.namespace, live.metadata.name, 'application/json-patch+json', JSON.stringify(ops), { manager: MANAGER });
  return true;
}

function stage(o) {
  if (o.kind === 'Namespace' || o.kind === 'CustomResourceDefinition') return 0;
  if (/^(ClusterRole|ClusterRoleBinding|ServiceAccount|Role|RoleBinding)$/.test(o.kind)) return 1;
  return 2;
}

async function applyAll(client, objects) {
  const sorted = objects.map((o, i) => ({ o, i })).sort((a, b) => stage(a.o) - stage(b.o) || a.i - b.i).map((x) => x.o);
  const changes = [];
  for (const o of sorted) {
    const skip = ((o.metadata.annotations || {})['kustomize.toolkit.fluxcd.io/ssa'] || '').toLowerCase();
    let live;
    try {
      live = await client.getOrNull(o.apiVersion, o.kind, o.metadata.namespace, o.metadata.name);
      if (live && (skip === 'ignore' || skip === 'ifnotpresent')) { changes.push({ id: fmt(o), action: 'skipped' }); continue; }
      if (live) await cleanupManagers(client, live);
      const after = await client.apply(o, { manager: MANAGER, force: true });
      const action = !live ? 'created' : (live.metadata.resourceVersion === after.metadata.resourceVersion ? 'unchanged' : 'configured');
      changes.push({ id: fmt(o), action });
    } catch (e) {
      const reason = e.body && e.body.reason ? ' (' + e.body.reason + ')' : '';
      throw new ReconcileError('ReconciliationFailed', fmt(o) + ' dry-run failed' + reason + ': ' + e.message);
    }
  }
  return changes;
}

async function prune(client, oldEntries, newIds) {
  const deleted = [];
  for (const e of oldEntries || []) {
    if (newIds.has(e.id)) continue;
    const p = parseInventoryId(e.id);
    const apiVersion = p.group ? p.group + '/' + e.v : e.v;
    try {
      const live = await client.getOrNull(apiVersion, p.kind, p.namespace, p.name);
      if (!live) continue;
      if ((live.metadata.annotations || {})['kustomize.toolkit.fluxcd.io/prune'] === 'disabled') continue;
      await client.remove(apiVersion, p.kind, p.namespace, p.name);
      deleted.push(p.kind + '/' + (p.namespace ? p.namespace + '/' : '') + p.name);
    } catch (e2) {
      throw new ReconcileError('PruneFailed', 'failed to delete ' + p.kind + '/' + p.name + ': ' + e2.message);
    }
  }
  return deleted;
}

// --- status --------------------------------------------------------------------------

function condition(prev, type, status, reason, message, generation) {
  const old = (prev || []).find((c) => c.type === type);
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    type, status, reason, message: String(message).slice(0, 20000), observedGeneration: generation,
    lastTransitionTime: old && old.status === status ? old.lastTransitionTime : now,
  };
}

async function writeStatus(client, ks, patch) {
  await client.patch(ks.apiVersion, ks.kind, ks.metadata.namespace, ks.metadata.name, 'application/merge-patch+json',
    JSON.stringify({ status: patch }), { manager: MANAGER, subresource: 'status' });
}

async function writeSourceStatus(client, gr, revision, requestedAt) {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const st = gr.status || {};
  if (st.artifact && st.artifact.revision === revision && (!requestedAt || st.lastHandledReconcileAt === requestedAt)) return;
  const digest = 'sha256:' + crypto.createHash('sha256').update(revision).digest('hex');
  await client.patch(gr.apiVersion, gr.kind, gr.metadata.namespace, gr.metadata.name, 'application/merge-patch+json', JSON.stringify({
    status: {
      observedGeneration: gr.metadata.generation || 1,
      ...(requestedAt ? { lastHandledReconcileAt: requestedAt } : {}),
      artifact: { revision, digest, lastUpdateTime: now, path: 'gitrepository/' + gr.metadata.namespace + '/' + gr.metadata.name + '/' + revision.split(':')[1] + '.tar.gz', url: 'http://source-controller.flux-system.svc.cluster.local./gitrepository/' + gr.metadata.namespace + '/' + gr.metadata.name + '/latest.tar.gz' },
      conditions: [
        condition(st.conditions, 'Ready', 'True', 'Succeeded', 'stored artifact for revision \'' + revision + '\'', gr.metadata.generation || 1),
        condition(st.conditions, 'ArtifactInStorage', 'True', 'Succeeded', 'stored artifact for revision \'' + revision + '\'', gr.metadata.generation || 1),
      ],
    },
  }), { manager: 'source-controller', subresource: 'status' });
}

// --- reconcile -----------------------------------------------------------------------

function controllerClient(ctx) {
  return createClient({
    server: ctx.urls.apiserver,
    token: ctx.state.k8s.serviceAccountToken('flux-system', 'kustomize-controller'),
    ca: ctx.ca.certPem,
  });
}

async function resolveSource(ctx, client, ks) {
  const ref = ks.spec.sourceRef || {};
  if (ref.kind && ref.kind !== 'GitRepository') throw new ReconcileError('ArtifactFailed', 'Source \'' + ref.kind + '/' + ref.name + '\' is not supported by the lab');
  const ns = ref.namespace || ks.metadata.namespace;
  const gr = await client.getOrNull(...(await fluxApis(client)).gr, ns, ref.name);
  if (!gr) throw new ReconcileError('ArtifactFailed', 'Source \'GitRepository/' + ns + '/' + ref.name + '\' not found');
  if (gr.spec && gr.spec.suspend) throw new ReconcileError('ArtifactFailed', 'Source \'GitRepository/' + ns + '/' + ref.name + '\' is not ready, artifact not found');
  const dir = repoFor(ctx, gr);
  if (!dir || !fs.existsSync(dir)) throw new ReconcileError('ArtifactFailed', 'Source artifact not found, retrying in 30s');
  const branch = (gr.spec && gr.spec.ref && gr.spec.ref.branch) || 'main';
  const revision = branch + '@sha1:' + treeDigest(dir);
  await writeSourceStatus(client, gr, revision);
  return { dir, revision };
}

function labelled(objects, ks) {
  return objects.map((o) => {
    const c = structuredClone(o);
    c.metadata = c.metadata || {};
    c.metadata.labels = Object.assign({}, c.metadata.labels, {
      'kustomize.toolkit.fluxcd.io/name': ks.metadata.name,
      'kustomize.toolkit.fluxcd.io/namespace': ks.metadata.namespace,
    });
    if (ks.spec.targetNamespace && !kustomize.CLUSTER_KINDS.has(c.kind)) c.metadata.namespace = ks.spec.targetNamespace;
    return c;
  });
}

function decryptionOn(ks) {
  return !!(ks.spec.decryption && ks.spec.decryption.provider === 'sops');
}

// What happens to encrypted objects when decryption is not configured.
function withoutDecryption(ctx, objects) {
  const legacy = ctx.state.flux.legacyApplyEncrypted;
  return objects.map((o) => {
    const encrypted = o.kind === 'Secret' && o.apiVersion === 'v1' && o.sops !== undefined;
    const disabled = ((o.metadata.annotations || {})['kustomize.toolkit.fluxcd.io/decrypt'] || '') === 'disabled';
    if (encrypted && !disabled && !legacy) {
      throw new ReconcileError('ReconciliationFailed', fmt(o) + ' is SOPS encrypted, configuring decryption is required for this secret to be reconciled');
    }
    if (!encrypted) return o;
    const c = structuredClone(o);
    delete c.sops;
    return c;
  });
}

// Decryption keys and credentials, prepared once per reconcile (ImportKeys + auth options).
function decryptionContext(ctx, client, ks) {
  let ready = null;
  return () => {
    if (!ready) {
      ready = (async () => {
        const pod = await controllerPod(client);
        return decryptionOptions(ctx, client, ks, () => pod);
      })();
    }
    return ready;
  };
}

// Flux's DecryptSources: generator sources are decrypted into the working copy (here: a
// map of overrides) before the build; the repository directory itself is left alone.
async function decryptSources(dir, relPath, getOpts) {
  const overrides = new Map();
  for (const s of kustomize.decryptableSources(dir, relPath)) {
    try {
      const r = await sops.decrypt(fs.readFileSync(s.file), Object.assign({}, await getOpts(), { format: s.format, ignoreMac: true }));
      overrides.set(s.file, Buffer.from(r.output));
    } catch (e) {
      if (e instanceof ReconcileError) throw e;
      const msg = e.code === 128 ? 'cannot get sops data key: ' + e.message : e.code === 25 ? 'error decrypting sops tree: ' + e.message : e.message;
      throw new ReconcileError('BuildFailed', 'error decrypting sources: ' + msg);
    }
  }
  return overrides;
}

async function decryptAll(objects, getOpts) {
  const out = [];
  for (const o of objects) {
    try {
      const needs = isSopsObject(o) || (o.kind === 'Secret' && o.data);
      out.push(needs ? await decryptResource(o, await getOpts()) : o);
    } catch (e) {
      if (e instanceof ReconcileError) throw e;
      throw new ReconcileError('BuildFailed', 'decryption failed for \'' + o.metadata.name + '\': ' + e.message);
    }
  }
  return out;
}

// Build the Kustomization's objects: decrypt generator sources, kustomize build, decrypt.
async function buildObjects(ctx, client, ks, src) {
  const getOpts = decryptionContext(ctx, client, ks);
  if (decryptionOn(ks) && ks.spec.decryption.secretRef) await getOpts();
  const overrides = decryptionOn(ks) ? await decryptSources(src.dir, ks.spec.path || './', getOpts) : new Map();
  let objects;
  try {
    objects = kustomize.build(src.dir, ks.spec.path || './', { read: (f) => overrides.get(f) || fs.readFileSync(f) });
  } catch (e) {
    if (e instanceof kustomize.BuildError || e.status) throw new ReconcileError('BuildFailed', 'kustomize build failed: ' + e.message);
    throw e;
  }
  objects = labelled(objects, ks);
  return decryptionOn(ks) ? decryptAll(objects, getOpts) : withoutDecryption(ctx, objects);
}

function inventoryOf(objects) {
  const entries = objects.map((o) => ({ id: inventoryId(o), v: o.apiVersion.includes('/') ? o.apiVersion.split('/')[1] : o.apiVersion }));
  return entries.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function statusBase(ks) {
  const base = { observedGeneration: ks.metadata.generation || 1 };
  const requestedAt = (ks.metadata.annotations || {})['reconcile.fluxcd.io/requestedAt'];
  if (requestedAt) base.lastHandledReconcileAt = requestedAt;
  return base;
}

async function recordFailure(ctx, client, ks, e, revision) {
  const gen = ks.metadata.generation || 1;
  const prev = (ks.status && ks.status.conditions) || [];
  const reason = e instanceof ReconcileError ? e.reason : 'ReconciliationFailed';
  const conds = [condition(prev, 'Ready', 'False', reason, e.message, gen)];
  if (e instanceof ReconcileError && e.stalled) conds.push(condition(prev, 'Stalled', 'True', reason, e.message, gen));
  else conds.push(condition(prev, 'Reconciling', 'True', 'ProgressingWithRetry', 'Detecting drift for revision ' + revision + ' with a timeout of 5m0s', gen));
  await writeStatus(client, ks, Object.assign(statusBase(ks), { conditions: conds, lastAttemptedRevision: revision }));
  ctx.counters.inc('flux.reconcile.failed');
  ctx.log('reconcile ' + ks.metadata.namespace + '/' + ks.metadata.name + ' failed: ' + reason + ': ' + e.message.split('\n')[0]);
  return { name: ks.metadata.namespace + '/' + ks.metadata.name, ready: false, reason, message: e.message, revision };
}

// A JSON log line in the running controller pod's log, as kustomize-controller writes them.
async function podLog(ctx, client, ks, fields) {
  if (!ctx.state.k8s || typeof ctx.state.k8s.podLog !== 'function') return;
  try {
    const { pod } = await controllerPod(client);
    const line = Object.assign({ level: 'info', ts: new Date().toISOString() }, fields, {
      controller: 'kustomization', controllerGroup: 'kustomize.toolkit.fluxcd.io', controllerKind: 'Kustomization',
      Kustomization: { name: ks.metadata.name, namespace: ks.metadata.namespace },
      namespace: ks.metadata.namespace, name: ks.metadata.name,
    });
    ctx.state.k8s.podLog('flux-system', pod.metadata.name, 'manager', JSON.stringify(line));
  } catch (e) {
    // no controller pod: nowhere to log
  }
}

async function reconcile(ctx, ns, name) {
  const t0 = Date.now();
  const r = await reconcileOnce(ctx, ns, name);
  if (!r.skipped && r.ks) {
    const took = ((Date.now() - t0) / 1000).toFixed(3) + 's';
    await podLog(ctx, r.client, r.ks, r.ready
      ? { msg: 'Reconciliation finished in ' + took + ', next run in ' + (r.ks.spec.interval || '10m0s'), revision: r.revision }
      : { level: 'error', msg: 'Reconciliation failed after ' + took + ', next try in ' + (r.ks.spec.retryInterval || r.ks.spec.interval || '10m0s'), revision: r.revision, error: r.message });
  }
  delete r.ks;
  delete r.client;
  return r;
}

async function reconcileOnce(ctx, ns, name) {
  const client = controllerClient(ctx);
  const ks = await client.get(...(await fluxApis(client)).ks, ns, name);
  ctx.counters.inc('flux.reconcile');
  if (ks.spec.suspend) return { name: ns + '/' + name, skipped: 'suspended' };
  let revision = (ks.status && ks.status.lastAttemptedRevision) || '';
  try {
    const src = await resolveSource(ctx, client, ks);
    revision = src.revision;
    const objects = await buildObjects(ctx, client, ks, src);
    const changes = await applyAll(client, objects);
    const entries = inventoryOf(objects);
    const old = ks.status && ks.status.inventory && ks.status.inventory.entries;
    const pruned = ks.spec.prune ? await prune(client, old, new Set(entries.map((e) => e.id))) : [];
    const msg = 'Applied revision: ' + revision;
    const prev = (ks.status && ks.status.conditions) || [];
    await writeStatus(client, ks, Object.assign(statusBase(ks), {
      conditions: [condition(prev, 'Ready', 'True', 'ReconciliationSucceeded', msg, ks.metadata.generation || 1)],
      lastAppliedRevision: revision, lastAttemptedRevision: revision, lastAppliedOriginRevision: revision,
      inventory: { entries },
    }));
    ctx.counters.inc('flux.reconcile.succeeded');
    return { name: ns + '/' + name, ready: true, reason: 'ReconciliationSucceeded', message: msg, revision, changes, pruned, ks, client };
  } catch (e) {
    return Object.assign(await recordFailure(ctx, client, ks, e, revision), { ks, client });
  }
}

// source-controller's part: a GitRepository asked to reconcile gets its artifact revision.
async function reconcileSource(ctx, ns, name) {
  const client = controllerClient(ctx);
  const gr = await client.getOrNull(...(await fluxApis(client)).gr, ns, name);
  if (!gr) return { name: ns + '/' + name, ready: false, message: 'not found' };
  const dir = repoFor(ctx, gr);
  if (!dir || !fs.existsSync(dir)) return { name: ns + '/' + name, ready: false, message: 'repository directory missing' };
  const branch = (gr.spec && gr.spec.ref && gr.spec.ref.branch) || 'main';
  const revision = branch + '@sha1:' + treeDigest(dir);
  await writeSourceStatus(client, gr, revision, (gr.metadata.annotations || {})['reconcile.fluxcd.io/requestedAt']);
  return { name: ns + '/' + name, ready: true, revision };
}

module.exports = { reconcile, reconcileSource, fluxApis, treeDigest, inventoryId, parseInventoryId, cleanupManagers, controllerClient, ReconcileError };
