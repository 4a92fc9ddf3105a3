'use strict';
// The Deployment controller: a pod template change rolls new pods, with the
// status fields kubectl's rollout status reads.
const test = require('node:test');
const assert = require('node:assert/strict');
const { startLab, ok, eventually } = require('./helpers/k8s-lab');

const DEPLOY = ['deployment', 'kustomize-controller', '-n', 'flux-system'];

let lab;
test.before(async () => { lab = await startLab(); });
test.after(() => lab && lab.stop());

async function controllerPods() {
  const list = await ok(lab, ['get', 'pods', '-n', 'flux-system', '-l', 'app=kustomize-controller', '-o', 'json']);
  return list.items;
}

test('rollout restart rolls new pods and reports progress', async () => {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(lab.env.KUBECONFIG);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const read = () => apps.readNamespacedDeployment({ name: 'kustomize-controller', namespace: 'flux-system' });

  const before = await read();
  assert.equal(before.status.observedGeneration, before.metadata.generation);
  assert.equal(before.status.updatedReplicas, 1);
  assert.equal(before.metadata.annotations['deployment.kubernetes.io/revision'], '1');
  const oldPods = (await controllerPods()).map((p) => p.metadata.name);
  assert.equal(oldPods.length, 1);

  const started = Date.now();
  await apps.patchNamespacedDeployment(
    { name: 'kustomize-controller', namespace: 'flux-system', fieldManager: 'flux-client-side-apply',
      body: { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch));
  const during = await read();
  assert.equal(during.metadata.generation, before.metadata.generation + 1);
  const inProgress = (during.status.readyReplicas || 0) < 1 || during.status.observedGeneration < during.metadata.generation
    || (during.status.updatedReplicas || 0) < 1 || during.status.replicas > (during.status.updatedReplicas || 0);
  assert.ok(inProgress, `rollout must not be complete instantly: ${JSON.stringify(during.status)}`);

  await ok(lab, ['rollout', 'status', ...DEPLOY, '--timeout=30s']);
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 300, `a rollout takes a moment (${elapsed} ms)`);

  const after = await read();
  assert.equal(after.status.observedGeneration, after.metadata.generation);
  assert.equal(after.status.updatedReplicas, 1);
  assert.equal(after.status.readyReplicas, 1);
  assert.equal(after.status.availableReplicas, 1);
  assert.equal(after.status.replicas, 1);
  assert.equal(after.metadata.annotations['deployment.kubernetes.io/revision'], '2');
  const progressing = after.status.conditions.find((c) => c.type === 'Progressing');
  assert.equal(progressing.reason, 'NewReplicaSetAvailable');
  const newPods = await eventually(async () => {
    const pods = await controllerPods();
    assert.equal(pods.length, 1, 'old pod terminated');
    return pods;
  });
  assert.ok(!oldPods.includes(newPods[0].metadata.name), 'a new pod name');
  assert.equal(newPods[0].status.phase, 'Running');
  assert.ok(newPods[0].metadata.annotations['kubectl.kubernetes.io/restartedAt']);

  const rs = await ok(lab, ['get', 'replicasets', '-n', 'flux-system', '-l', 'app=kustomize-controller', '-o', 'json']);
  const byRevision = Object.fromEntries(rs.items.map((r) => [r.metadata.annotations['deployment.kubernetes.io/revision'], r]));
  assert.equal(byRevision['1'].spec.replicas, 0);
  assert.equal(byRevision['2'].spec.replicas, 1);
  assert.equal(newPods[0].metadata.ownerReferences[0].name, byRevision['2'].metadata.name);
});

test('rollout status on a settled Deployment exits at once', async () => {
  const t0 = Date.now();
  const r = await lab.kubectl(['rollout', 'status', ...DEPLOY, '--timeout=20s'], { timeout: 40000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /deployment "kustomize-controller" successfully rolled out/);
  assert.ok(Date.now() - t0 < 20000, 'kubectl must not hang after success (its watch gets headers at once)');
});

test('kubectl rollout restart and a no-op patch', async () => {
  assert.match(await ok(lab, ['rollout', 'restart', ...DEPLOY]), /restarted/);
  await ok(lab, ['rollout', 'status', ...DEPLOY, '--timeout=30s']);
  const d = await ok(lab, ['get', ...DEPLOY, '-o', 'json']);
  assert.equal(d.metadata.annotations['deployment.kubernetes.io/revision'], '3');
  const rv = d.metadata.resourceVersion;
  const same = await ok(lab, ['patch', ...DEPLOY, '--type', 'merge', '-p', '{"spec":{"replicas":1}}']);
  assert.match(same, /patched \(no change\)/);
  const again = await ok(lab, ['get', ...DEPLOY, '-o', 'json']);
  assert.equal(again.metadata.resourceVersion, rv, 'no-op writes do not bump resourceVersion');
});

test('a pod the webhook cannot admit surfaces as ReplicaFailure', async () => {
  await ok(lab, ['patch', ...DEPLOY, '--type', 'merge', '-p',
    '{"spec":{"template":{"metadata":{"labels":{"azure.workload.identity/use":"true"},"annotations":{"azure.workload.identity/service-account-token-expiration":"5"}}}}}']);
  const d = await eventually(async () => {
    const obj = await ok(lab, ['get', ...DEPLOY, '-o', 'json']);
    assert.ok(obj.status.conditions.some((c) => c.type === 'ReplicaFailure'));
    return obj;
  });
  const failure = d.status.conditions.find((c) => c.type === 'ReplicaFailure');
  assert.equal(failure.reason, 'FailedCreate');
  assert.match(failure.message, /denied the request: token expiration 5 not valid/);
  const pods = await controllerPods();
  assert.equal(pods.length, 1, 'the old pod keeps running');
});

test('kubectl scale goes through the Scale subresource', async () => {
  const src = ['deployment', 'source-controller', '-n', 'flux-system'];
  assert.match(await ok(lab, ['scale', ...src, '--replicas=2']), /deployment.apps\/source-controller scaled/);
  await ok(lab, ['rollout', 'status', ...src, '--timeout=30s']);
  const d = await ok(lab, ['get', ...src, '-o', 'json']);
  assert.equal(d.spec.replicas, 2);
  assert.equal(d.status.readyReplicas, 2);
  const scale = JSON.parse(await ok(lab, ['get', '--raw', '/apis/apps/v1/namespaces/flux-system/deployments/source-controller/scale']));
  assert.equal(scale.kind, 'Scale');
  assert.equal(scale.status.selector, 'app=source-controller');
});
