'use strict';
// Steps of the seed walkthrough done the way a user would do them in Git (files in the
// lab's repo directory), used by the flux-*.test.js files.
const fs = require('node:fs');
const YAML = require('yaml');
const H = require('./azure-lab');

const SECRET = 'gitops/aks/apps/secret.yaml';
const FLUX_KUSTOMIZATION = 'gitops/aks/flux-system/kustomization.yaml';

async function encryptSeedSecret(lab) {
  const f = lab.repo(SECRET);
  const plain = YAML.parse(fs.readFileSync(f, 'utf8'));
  const enc = await H.encryptWithLabKey(lab, plain);
  fs.writeFileSync(f, YAML.stringify(enc));
  return plain;
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
function setPatches(lab, { annotate = true, label = true, clientId } = {}) {
  const f = lab.repo(FLUX_KUSTOMIZATION);
  const k = YAML.parse(fs.readFileSync(f, 'utf8'));
  k.patches = [];
  if (annotate) k.patches.push(saPatch(clientId || lab.env.LAB_CLIENT_ID, lab.env.LAB_TENANT_ID));
  if (label) k.patches.push(labelPatch());
  if (!k.patches.length) delete k.patches;
  fs.writeFileSync(f, YAML.stringify(k));
}

function controllerPods(lab) {
  const out = JSON.parse(lab.kubectl('get', 'pods', '-n', 'flux-system', '-l', 'app=kustomize-controller', '-o', 'json'));
  return out.items;
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

// Reconcile flux-system and wait until a kustomize-controller pod of the new template runs.
async function reconcileFluxSystem(lab) {
  const r = await lab.verb('reconcile', 'flux-system/flux-system');
  if (!r.ready) throw new Error('flux-system reconcile failed: ' + r.message);
  await waitFor(() => {
    const d = JSON.parse(lab.kubectl('get', 'deployment', 'kustomize-controller', '-n', 'flux-system', '-o', 'json'));
    const st = d.status || {};
    return st.observedGeneration === d.metadata.generation && st.updatedReplicas >= 1 && st.replicas === st.updatedReplicas;
  });
  return r;
}

function readSecret(lab) {
  const out = lab.run('kubectl', ['get', 'secret', 'sample-secret', '-n', 'sops-workload-identity', '-o', 'json', '--show-managed-fields']);
  if (out.status !== 0) return null;
  const s = JSON.parse(out.stdout);
  const data = {};
  for (const [k, v] of Object.entries(s.data || {})) data[k] = Buffer.from(v, 'base64').toString('utf8');
  return { object: s, data };
}

module.exports = { encryptSeedSecret, setPatches, reconcileFluxSystem, controllerPods, readSecret, waitFor, SECRET, FLUX_KUSTOMIZATION };
