'use strict';
// The small kustomize and the controller's pure helpers.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { build, BuildError } = require('../lib/flux/kustomize');
const { inventoryId, parseInventoryId, treeDigest } = require('../lib/flux/controller');

function tree(files) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kz-'));
  for (const [f, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), text);
  }
  return dir;
}

const DEPLOY = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: kustomize-controller
spec:
  template:
    metadata:
      labels:
        app: kustomize-controller
    spec:
      containers:
      - name: manager
        image: ghcr.io/fluxcd/kustomize-controller:v1.6.1
        env:
        - name: RUNTIME_NAMESPACE
          value: flux-system
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: kustomize-controller
`;

test('patches with target (inline strategic merge, JSON 6902, file), namespace', (t) => {
  const dir = tree({
    'c/components.yaml': DEPLOY,
    'c/sa-patch.yaml': 'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: kustomize-controller\n  annotations:\n    azure.workload.identity/client-id: 1111\n',
    'c/kustomization.yaml': `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: flux-system
resources:
- components.yaml
patches:
- target: {kind: ServiceAccount, name: kustomize-controller}
  path: sa-patch.yaml
- target: {kind: Deployment, name: "(kustomize|helm)-controller"}
  patch: |
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: kustomize-controller
    spec:
      template:
        metadata:
          labels:
            azure.workload.identity/use: "true"
        spec:
          containers:
          - name: manager
            env:
            - name: EXTRA
              value: "1"
- target: {kind: Deployment}
  patch: |
    - op: add
      path: /spec/template/spec/containers/0/args
      value: ["--feature-gates=ObjectLevelWorkloadIdentity=true"]
`,
  });
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const out = build(dir, './c');
  const d = out.find((o) => o.kind === 'Deployment');
  const sa = out.find((o) => o.kind === 'ServiceAccount');
  assert.strictEqual(d.metadata.namespace, 'flux-system');
  assert.strictEqual(d.spec.template.metadata.labels['azure.workload.identity/use'], 'true');
  assert.strictEqual(d.spec.template.metadata.labels.app, 'kustomize-controller');
  assert.deepStrictEqual(d.spec.template.spec.containers[0].env.map((e) => e.name), ['RUNTIME_NAMESPACE', 'EXTRA']);
  assert.strictEqual(d.spec.template.spec.containers[0].image, 'ghcr.io/fluxcd/kustomize-controller:v1.6.1');
  assert.deepStrictEqual(d.spec.template.spec.containers[0].args, ['--feature-gates=ObjectLevelWorkloadIdentity=true']);
  assert.strictEqual(sa.metadata.annotations['azure.workload.identity/client-id'], 1111);
});

test('patchesStrategicMerge (legacy) and nested directories', (t) => {
  const dir = tree({
    'base/kustomization.yaml': 'resources:\n- components.yaml\n',
    'base/components.yaml': DEPLOY,
    'overlay/kustomization.yaml': 'resources:\n- ../base\npatchesStrategicMerge:\n- label.yaml\n',
    'overlay/label.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: kustomize-controller\nspec:\n  replicas: 2\n',
  });
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const d = build(dir, 'overlay').find((o) => o.kind === 'Deployment');
  assert.strictEqual(d.spec.replicas, 2);
  assert.throws(() => build(dir, '../'), BuildError);
});

test('no kustomization file: every manifest below the path; errors', (t) => {
  const dir = tree({
    'apps/a.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n',
    'apps/sub/b.yml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  namespace: a\n',
    'apps/notes.txt': 'ignored',
    'dup/kustomization.yaml': 'resources:\n- a.yaml\n- b.yaml\n',
    'dup/a.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n',
    'dup/b.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n',
    'missing/kustomization.yaml': 'resources:\n- nothere.yaml\n',
    'nomatch/kustomization.yaml': 'resources:\n- a.yaml\npatchesStrategicMerge:\n- |\n  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: other\n',
    'nomatch/a.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n',
  });
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  assert.deepStrictEqual(build(dir, 'apps').map((o) => o.kind + '/' + o.metadata.name), ['Namespace/a', 'ConfigMap/b']);
  assert.throws(() => build(dir, 'dup'), /may not add resource with an already registered id/);
  assert.throws(() => build(dir, 'missing'), /accumulating resources/);
  assert.throws(() => build(dir, 'nomatch'), /no resource matches strategic merge patch/);
  assert.throws(() => build(dir, 'nowhere'), /kustomization path not found/);
});

test('inventory ids as cli-utils writes them', () => {
  const id = inventoryId({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'system:foo' } });
  assert.strictEqual(id, '_system__foo_rbac.authorization.k8s.io_ClusterRole');
  assert.deepStrictEqual(parseInventoryId(id), { namespace: '', name: 'system:foo', group: 'rbac.authorization.k8s.io', kind: 'ClusterRole' });
  assert.strictEqual(inventoryId({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'ns' } }), 'ns_s__Secret');
});

test('revision digest follows the tree content', (t) => {
  const dir = tree({ 'a.yaml': 'x: 1\n' });
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const a = treeDigest(dir);
  assert.match(a, /^[0-9a-f]{40}$/);
  assert.strictEqual(treeDigest(dir), a);
  fs.writeFileSync(path.join(dir, 'a.yaml'), 'x: 2\n');
  assert.notStrictEqual(treeDigest(dir), a);
});
