'use strict';
// The official JavaScript client (@kubernetes/client-node) against the lab:
// reads, lists with selectors, patches, creates, deletes, errors and watches.
const test = require('node:test');
const assert = require('node:assert/strict');
const { startLab } = require('./helpers/k8s-lab');

let lab;
let k8s;
let kc;
test.before(async () => {
  lab = await startLab();
  k8s = await import('@kubernetes/client-node');
  kc = new k8s.KubeConfig();
  kc.loadFromFile(lab.env.KUBECONFIG);
});
test.after(() => lab && lab.stop());

test('reads and lists with label selectors', async () => {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const ns = await core.listNamespace();
  assert.ok(ns.items.some((n) => n.metadata.name === 'flux-system'));
  const sa = await core.readNamespacedServiceAccount({ name: 'kustomize-controller', namespace: 'flux-system' });
  assert.equal(sa.metadata.labels['app.kubernetes.io/component'], 'kustomize-controller');
  const pods = await core.listNamespacedPod({ namespace: 'flux-system', labelSelector: 'app=kustomize-controller' });
  assert.equal(pods.items.length, 1);
  const page = await core.listNamespacedServiceAccount({ namespace: 'flux-system', limit: 2 });
  assert.equal(page.items.length, 2);
  assert.ok(page.metadata._continue);
  const rest = await core.listNamespacedServiceAccount({ namespace: 'flux-system', limit: 100, _continue: page.metadata._continue });
  const all = await core.listNamespacedServiceAccount({ namespace: 'flux-system' });
  assert.equal(page.items.length + rest.items.length, all.items.length);
});

test('patches the ServiceAccount with a merge patch and a field manager', async () => {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const patched = await core.patchNamespacedServiceAccount(
    { name: 'kustomize-controller', namespace: 'flux-system', fieldManager: 'fluxwi',
      body: { metadata: { annotations: { 'azure.workload.identity/client-id': 'abc' } } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
  assert.equal(patched.metadata.annotations['azure.workload.identity/client-id'], 'abc');
  const entry = patched.metadata.managedFields.find((m) => m.manager === 'fluxwi');
  assert.equal(entry.operation, 'Update');
  assert.deepEqual(Object.keys(entry.fieldsV1['f:metadata']['f:annotations']), ['f:azure.workload.identity/client-id']);
});

test('creates and deletes a Secret; NotFound and AlreadyExists carry Status bodies', async () => {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const body = { metadata: { name: 'sops-keys', namespace: 'flux-system' }, stringData: { 'identity.agekey': 'AGE-SECRET-KEY-1TEST' } };
  const created = await core.createNamespacedSecret({ namespace: 'flux-system', body });
  assert.equal(created.type, 'Opaque');
  assert.equal(Buffer.from(created.data['identity.agekey'], 'base64').toString(), 'AGE-SECRET-KEY-1TEST');
  await assert.rejects(core.createNamespacedSecret({ namespace: 'flux-system', body }), (e) => {
    assert.equal(e.code, 409);
    assert.equal(JSON.parse(e.body).reason, 'AlreadyExists');
    return true;
  });
  await core.deleteNamespacedSecret({ name: 'sops-keys', namespace: 'flux-system' });
  await assert.rejects(core.readNamespacedSecret({ name: 'sops-keys', namespace: 'flux-system' }), (e) => {
    assert.equal(e.code, 404);
    assert.equal(JSON.parse(e.body).message, 'secrets "sops-keys" not found');
    return true;
  });
});

test('custom objects: Flux Kustomization status subresource', async () => {
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const ks = await custom.getNamespacedCustomObject({ group: 'kustomize.toolkit.fluxcd.io', version: 'v1', namespace: 'flux-system', plural: 'kustomizations', name: 'flux-system' });
  assert.equal(ks.spec.path, './gitops/aks');
  const status = { conditions: [{ type: 'Ready', status: 'True', reason: 'ReconciliationSucceeded', message: 'Applied revision: main@sha1:0123', lastTransitionTime: '2026-11-29T10:00:00Z', observedGeneration: ks.metadata.generation }] };
  const updated = await custom.patchNamespacedCustomObjectStatus(
    { group: 'kustomize.toolkit.fluxcd.io', version: 'v1', namespace: 'flux-system', plural: 'kustomizations', name: 'flux-system', body: { status } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
  assert.equal(updated.status.conditions[0].reason, 'ReconciliationSucceeded');
  assert.equal(updated.metadata.generation, ks.metadata.generation, 'status writes do not bump generation');
  const specPatch = await custom.patchNamespacedCustomObject(
    { group: 'kustomize.toolkit.fluxcd.io', version: 'v1', namespace: 'flux-system', plural: 'kustomizations', name: 'flux-system', body: { spec: { suspend: true }, status: { conditions: [] } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
  assert.equal(specPatch.metadata.generation, ks.metadata.generation + 1);
  assert.equal(specPatch.status.conditions.length, 1, 'status ignored on the main resource');
});

test('watch streams events', async () => {
  const watch = new k8s.Watch(kc);
  const seen = [];
  let req;
  const done = new Promise((resolve, reject) => {
    watch.watch('/api/v1/namespaces/flux-system/configmaps', {}, (type, obj) => {
      seen.push(`${type} ${obj.metadata.name}`);
      if (seen.includes('ADDED watched')) resolve();
    }, (err) => (err ? reject(err) : null)).then((r) => { req = r; }, reject);
  });
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await new Promise((r) => setTimeout(r, 300));
  await core.createNamespacedConfigMap({ namespace: 'flux-system', body: { metadata: { name: 'watched' }, data: { a: '1' } } });
  await done;
  req.abort();
  assert.ok(seen.includes('ADDED kube-root-ca.crt'), 'initial state first');
  assert.ok(seen.includes('ADDED watched'));
});
