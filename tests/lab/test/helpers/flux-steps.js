'use strict';
// Steps of the seed walkthrough done the way a user would do them in Git (files in the
// lab's repo directory), used by the flux-*.test.js files. Reads go to the API server directly.
const fs = require('node:fs');
const path = require('node:path');
const YAML = require('yaml');
const H = require('./azure-lab');

const SECRET = 'gitops/aks/apps/secret.yaml';
const FLUX_KUSTOMIZATION = 'gitops/aks/flux-system/kustomization.yaml';
const SEED = path.join(H.LAB, 'seed');

async function encryptSeedSecret(lab) {
  const f = lab.repo(SECRET);
  const plain = YAML.parse(fs.readFileSync(path.join(SEED, SECRET), 'utf8'));
  const enc = await H.encryptWithLabKey(lab, plain);
  fs.writeFileSync(f, YAML.stringify(enc));
  return plain;
}

// Put a seed file back as it is in tests/lab/seed.
function restoreSeedFile(lab, rel) {
  fs.copyFileSync(path.join(SEED, rel), lab.repo(rel));
}

function saPatch(clientId, tenantId) {
  const ann = {};
  if (clientId) ann['azure.workload.identity/client-id'] = clientId;
  if (tenantId) ann['azure.workload.identity/tenant-id'] = tenantId;
  return { target: { kind: 'ServiceAccount', name: 'kustomize-controller' },
    patch: YAML.stringify({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'kustomize-controller', annotations: ann } }) };
}

function labelPatch() {
  return { target: { kind: 'Deployment', name: 'kustomize-controller' },
    patch: YAML.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'kustomize-controller' },
      spec: { template: { metadata: { labels: { 'azure.workload.identity/use': 'true' } } } } }) };
}

// Write the workload identity patches into flux-system/kustomization.yaml.
function setPatches(lab, { annotate = true, label = true, clientId, extra = [] } = {}) {
  const f = lab.repo(FLUX_KUSTOMIZATION);
  const k = YAML.parse(fs.readFileSync(path.join(SEED, FLUX_KUSTOMIZATION), 'utf8'));
  k.patches = [];
  if (annotate) k.patches.push(saPatch(clientId || lab.env.LAB_CLIENT_ID, lab.env.LAB_TENANT_ID));
  if (label) k.patches.push(labelPatch());
  k.patches.push(...extra);
  if (!k.patches.length) delete k.patches;
  fs.writeFileSync(f, YAML.stringify(k));
}

async function waitFor(fn, ms = 30000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

const get = (lab, p) => lab.get(p);
const kustomization = (lab, name) => get(lab, '/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations/' + name);

async function controllerPods(lab) {
  const list = await get(lab, '/api/v1/namespaces/flux-system/pods?labelSelector=' + encodeURIComponent('app=kustomize-controller'));
  return list.items;
}

async function rolledOut(lab) {
  const d = await get(lab, '/apis/apps/v1/namespaces/flux-system/deployments/kustomize-controller');
  const st = d.status || {};
  return st.observedGeneration === d.metadata.generation && st.updatedReplicas >= 1 && st.replicas === st.updatedReplicas;
}

// Reconcile flux-system and wait until a kustomize-controller pod of the new template runs.
async function reconcileFluxSystem(lab) {
  const r = await lab.verb('reconcile', 'flux-system/flux-system');
  if (!r.ready) throw new Error('flux-system reconcile failed: ' + r.message);
  await waitFor(() => rolledOut(lab));
  return r;
}

async function readSecret(lab, ns = 'sops-workload-identity', name = 'sample-secret') {
  const s = await get(lab, '/api/v1/namespaces/' + ns + '/secrets/' + name);
  if (!s) return null;
  const data = {};
  for (const [k, v] of Object.entries(s.data || {})) data[k] = Buffer.from(v, 'base64').toString('utf8');
  return { object: s, data };
}

module.exports = {
  encryptSeedSecret, restoreSeedFile, setPatches, reconcileFluxSystem, controllerPods, rolledOut, readSecret,
  kustomization, waitFor, SECRET, FLUX_KUSTOMIZATION, SEED,
};
