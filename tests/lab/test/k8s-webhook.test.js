'use strict';
// The workload identity webhook's mutation on pod creation, in both layouts,
// and its absence when the webhook is not installed.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { startLab, ok, eventually } = require('./helpers/k8s-lab');

const CLIENT_ID = '7f8e9d0c-1b2a-4c3d-9e8f-0a1b2c3d4e5f';
const OTHER_TENANT = '0d9c8b7a-6f5e-4d3c-2b1a-0f9e8d7c6b5a';
const AUDIENCE = 'api://AzureADTokenExchange';

function podManifest(name, { labels = {}, annotations = {}, env, sa = 'kustomize-controller', init = false } = {}) {
  const container = { name: 'manager', image: 'ghcr.io/fluxcd/kustomize-controller:v1.6.1', ...(env ? { env } : {}) };
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: 'flux-system', labels, annotations },
    spec: {
      serviceAccountName: sa, containers: [container, { name: 'sidecar', image: 'busybox:1.36' }],
      ...(init ? { initContainers: [{ name: 'init', image: 'busybox:1.36' }] } : {}),
    },
  };
}

async function createPod(lab, manifest) {
  const file = path.join(lab.dir, `${manifest.metadata.name}.json`);
  fs.writeFileSync(file, JSON.stringify(manifest));
  const r = await lab.kubectl(['create', '-f', file, '-o', 'json']);
  return r.code === 0 ? JSON.parse(r.stdout) : r;
}

const envOf = (c) => Object.fromEntries((c.env || []).filter((e) => 'value' in e).map((e) => [e.name, e.value]));
const tokenVolumes = (pod) => pod.spec.volumes.filter((v) => v.projected?.sources?.some((s) => s.serviceAccountToken?.audience === AUDIENCE));

async function annotate(lab, extra = []) {
  await ok(lab, ['annotate', 'sa', '-n', 'flux-system', 'kustomize-controller', `azure.workload.identity/client-id=${CLIENT_ID}`, ...extra, '--overwrite']);
}

test('v1.6 layout (default lab)', async (t) => {
  const lab = await startLab();
  t.after(() => lab.stop());
  const mwc = await ok(lab, ['get', 'mutatingwebhookconfigurations', '-o', 'json']);
  assert.equal(mwc.items[0].metadata.name, 'azure-wi-webhook-mutating-webhook-configuration');
  assert.equal(mwc.items[0].webhooks[0].name, 'mutation.azure-workload-identity.io');
  const slices = await ok(lab, ['get', 'endpointslices', '-n', 'kube-system', '-l', 'kubernetes.io/service-name=azure-wi-webhook-webhook-service', '-o', 'json']);
  assert.equal(slices.items[0].endpoints.length, 2, 'webhook endpoints are ready');
  await annotate(lab);

  await t.test('labelled pod gets env, volume and mounts', async () => {
    const pod = await createPod(lab, podManifest('wi-probe', { labels: { 'azure.workload.identity/use': 'true' }, init: true }));
    const volName = `azure-workload-identity-reserved-${crypto.createHash('sha256').update('wi-probe').digest('hex').slice(0, 30)}`;
    const vols = tokenVolumes(pod);
    assert.equal(vols.length, 1);
    assert.equal(vols[0].name, volName);
    const src = vols[0].projected.sources[0].serviceAccountToken;
    assert.deepEqual(src, { audience: AUDIENCE, expirationSeconds: 3600, path: 'token/azure-identity-token' });
    for (const c of [...pod.spec.containers, ...pod.spec.initContainers]) {
      const env = envOf(c);
      assert.equal(env.AZURE_CLIENT_ID, CLIENT_ID);
      assert.equal(env.AZURE_TENANT_ID, lab.env.LAB_TENANT_ID);
      assert.equal(env.AZURE_FEDERATED_TOKEN_FILE, '/var/run/secrets/azure/wi/token/azure-identity-token');
      assert.match(env.AZURE_AUTHORITY_HOST, /^https:\/\/.+\/$/);
      assert.deepEqual(c.volumeMounts.find((m) => m.name === volName), { name: volName, readOnly: true, mountPath: '/var/run/secrets/azure/wi' });
    }
  });

  await t.test('existing env is never overwritten; skip-containers honoured', async () => {
    const pod = await createPod(lab, podManifest('wi-keep', {
      labels: { 'azure.workload.identity/use': 'true' },
      annotations: { 'azure.workload.identity/skip-containers': ' sidecar ' },
      env: [{ name: 'AZURE_CLIENT_ID', value: 'set-in-deployment' }],
    }));
    const env = envOf(pod.spec.containers[0]);
    assert.equal(env.AZURE_CLIENT_ID, 'set-in-deployment');
    assert.equal(pod.spec.containers[0].env.filter((e) => e.name === 'AZURE_CLIENT_ID').length, 1);
    assert.ok(env.AZURE_FEDERATED_TOKEN_FILE);
    assert.deepEqual(envOf(pod.spec.containers[1]), {}, 'skipped container untouched');
  });

  await t.test('label must be exactly "true"; no label, no mutation', async () => {
    for (const [name, labels] of [['wi-caps', { 'azure.workload.identity/use': 'True' }], ['wi-none', {}]]) {
      const pod = await createPod(lab, podManifest(name, { labels }));
      assert.equal(tokenVolumes(pod).length, 0, name);
      assert.deepEqual(envOf(pod.spec.containers[0]), {}, name);
    }
  });

  await t.test('tenant-id annotation wins; missing client-id is simply not injected', async () => {
    await ok(lab, ['annotate', 'sa', '-n', 'flux-system', 'kustomize-controller', `azure.workload.identity/tenant-id=${OTHER_TENANT}`, 'azure.workload.identity/client-id-']);
    const pod = await createPod(lab, podManifest('wi-tenant', { labels: { 'azure.workload.identity/use': 'true' } }));
    const env = envOf(pod.spec.containers[0]);
    assert.equal(env.AZURE_TENANT_ID, OTHER_TENANT);
    assert.equal(env.AZURE_CLIENT_ID, undefined);
    assert.ok(env.AZURE_FEDERATED_TOKEN_FILE);
  });

  await t.test('bad token expiration is denied', async () => {
    const r = await createPod(lab, podManifest('wi-exp', {
      labels: { 'azure.workload.identity/use': 'true' }, annotations: { 'azure.workload.identity/service-account-token-expiration': '100' },
    }));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /admission webhook "mutation.azure-workload-identity.io" denied the request: token expiration 100 not valid/);
  });

  await t.test('webhook without endpoints: labelled pods are refused (failurePolicy Fail)', async () => {
    const wh = ['deployment', 'azure-wi-webhook-controller-manager', '-n', 'kube-system'];
    await ok(lab, ['scale', ...wh, '--replicas=0']);
    await eventually(async () => {
      const ep = await ok(lab, ['get', 'endpoints', '-n', 'kube-system', 'azure-wi-webhook-webhook-service', '-o', 'json']);
      assert.deepEqual(ep.subsets || [], []);
    });
    const r = await createPod(lab, podManifest('wi-down', { labels: { 'azure.workload.identity/use': 'true' } }));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Internal error occurred: failed calling webhook "mutation.azure-workload-identity.io": failed to call webhook: Post "https:\/\/azure-wi-webhook-webhook-service.kube-system.svc:443\/mutate-v1-pod\?timeout=10s": no endpoints available for service "azure-wi-webhook-webhook-service"/);
    const plain = await createPod(lab, podManifest('wi-down-plain'));
    assert.equal(plain.metadata.name, 'wi-down-plain', 'unlabelled pods do not call the webhook');
    await ok(lab, ['scale', ...wh, '--replicas=2']);
    await ok(lab, ['rollout', 'status', ...wh, '--timeout=30s']);
    await eventually(async () => {
      const pod = await createPod(lab, podManifest(`wi-up-${Date.now()}`, { labels: { 'azure.workload.identity/use': 'true' } }));
      assert.equal(tokenVolumes(pod).length, 1);
    });
  });

  await t.test('a rollout of the labelled Deployment mutates the new pod (generateName hash)', async () => {
    await annotate(lab);
    await ok(lab, ['patch', 'deployment', '-n', 'flux-system', 'kustomize-controller', '--type', 'merge',
      '-p', '{"spec":{"template":{"metadata":{"labels":{"azure.workload.identity/use":"true"}}}}}']);
    await ok(lab, ['rollout', 'status', 'deployment/kustomize-controller', '-n', 'flux-system', '--timeout=30s']);
    const pods = await eventually(async () => {
      const list = await ok(lab, ['get', 'pods', '-n', 'flux-system', '-l', 'app=kustomize-controller', '-o', 'json']);
      assert.equal(list.items.length, 1);
      return list.items;
    });
    const pod = pods[0];
    const rs = pod.metadata.ownerReferences[0].name;
    const hashed = `${rs}- (prefix)`;
    assert.equal(tokenVolumes(pod)[0].name, `azure-workload-identity-reserved-${crypto.createHash('sha256').update(hashed).digest('hex').slice(0, 30)}`);
    assert.equal(envOf(pod.spec.containers[0]).AZURE_CLIENT_ID, CLIENT_ID);
  });

  await t.test('legacy layout (webhook before v1.6), switched by labctl scenario', async () => {
    const file = path.join(lab.dir, 'legacy.yaml');
    fs.writeFileSync(file, 'kubernetes:\n  webhook:\n    layout: legacy\n');
    const r = await lab.labctl(['scenario', file]);
    assert.equal(r.code, 0, r.stderr);
    const pod = await createPod(lab, podManifest('wi-legacy', { labels: { 'azure.workload.identity/use': 'true' } }));
    const vols = tokenVolumes(pod);
    assert.equal(vols[0].name, 'azure-identity-token');
    assert.equal(vols[0].projected.sources[0].serviceAccountToken.path, 'azure-identity-token');
    const c = pod.spec.containers[0];
    assert.equal(envOf(c).AZURE_FEDERATED_TOKEN_FILE, '/var/run/secrets/azure/tokens/azure-identity-token');
    assert.deepEqual(c.volumeMounts.find((m) => m.name === 'azure-identity-token'), { name: 'azure-identity-token', readOnly: true, mountPath: '/var/run/secrets/azure/tokens' });
  });

  await t.test('deleting the MutatingWebhookConfiguration stops the mutation', async () => {
    await ok(lab, ['delete', 'mutatingwebhookconfiguration', 'azure-wi-webhook-mutating-webhook-configuration']);
    const pod = await createPod(lab, podManifest('wi-nomwc', { labels: { 'azure.workload.identity/use': 'true' } }));
    assert.equal(tokenVolumes(pod).length, 0);
    assert.deepEqual(envOf(pod.spec.containers[0]), {});
  });
});

test('webhook not installed (scenario), scenario objects, labctl scenario', async (t) => {
  const scenario = [
    'kubernetes:',
    '  webhook:',
    '    installed: false',
    '  objects:',
    '  - apiVersion: v1',
    '    kind: ServiceAccount',
    '    metadata:',
    '      name: kustomize-controller',
    '      namespace: flux-system',
    '      annotations:',
    `        azure.workload.identity/client-id: ${CLIENT_ID}`,
    '  - manifest:',
    '      apiVersion: apps/v1',
    '      kind: Deployment',
    '      metadata: {name: kustomize-controller, namespace: flux-system}',
    '      spec:',
    '        template:',
    '          metadata:',
    '            labels: {azure.workload.identity/use: "true"}',
    '    fieldManager: kubectl-patch',
    '    operation: Update',
    '',
  ].join('\n');
  const lab = await startLab({ scenario });
  t.after(() => lab.stop());
  const list = await ok(lab, ['get', 'mutatingwebhookconfigurations', '-o', 'json']);
  assert.equal(list.items.length, 0);
  const r = await lab.kubectl(['get', 'mutatingwebhookconfiguration', 'azure-wi-webhook-mutating-webhook-configuration']);
  assert.match(r.stderr, /NotFound.*"azure-wi-webhook-mutating-webhook-configuration" not found/);
  const sa = await ok(lab, ['get', 'sa', '-n', 'flux-system', 'kustomize-controller', '-o', 'json']);
  assert.equal(sa.metadata.annotations['azure.workload.identity/client-id'], CLIENT_ID);
  const d = await ok(lab, ['get', 'deploy', '-n', 'flux-system', 'kustomize-controller', '-o', 'json', '--show-managed-fields']);
  assert.ok(d.metadata.managedFields.some((m) => m.manager === 'kubectl-patch' && m.operation === 'Update'));
  const pods = await eventually(async () => {
    const items = (await ok(lab, ['get', 'pods', '-n', 'flux-system', '-l', 'app=kustomize-controller,azure.workload.identity/use=true', '-o', 'json'])).items;
    assert.equal(items.length, 1);
    return items;
  });
  assert.equal(tokenVolumes(pods[0]).length, 0, 'labelled, but no webhook: nothing injected');
  assert.deepEqual(envOf(pods[0].spec.containers[0]), {});
  const pod = await createPod(lab, podManifest('wi-nowebhook', { labels: { 'azure.workload.identity/use': 'true' } }));
  assert.equal(tokenVolumes(pod).length, 0);
  const file = path.join(lab.dir, 'more.yaml');
  fs.writeFileSync(file, 'kubernetes:\n  objects:\n  - {apiVersion: v1, kind: Namespace, metadata: {name: extra}}\n');
  const applied = await lab.labctl(['scenario', file]);
  assert.equal(applied.code, 0, applied.stderr);
  await ok(lab, ['get', 'ns', 'extra']);
});
