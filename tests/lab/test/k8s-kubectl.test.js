'use strict';
// The real kubectl (1.32) against the lab's API server through the generated kubeconfig.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startLab, ok } = require('./helpers/k8s-lab');

const FS = ['-n', 'flux-system'];
let lab;

test.before(async () => { lab = await startLab(); });
test.after(() => lab && lab.stop());

test('get ns prints the Table columns', async () => {
  const out = await ok(lab, ['get', 'ns']);
  const lines = out.trim().split('\n');
  assert.match(lines[0], /^NAME\s+STATUS\s+AGE$/);
  assert.ok(lines.some((l) => /^flux-system\s+Active\s+\d+[smhd]/.test(l)), out);
  assert.ok(lines.some((l) => /^kube-system\s+Active/.test(l)));
});

test('get sa -o yaml shows the seeded kustomize-controller ServiceAccount', async () => {
  const out = await ok(lab, ['get', 'sa', ...FS, 'kustomize-controller', '-o', 'yaml']);
  assert.match(out, /^apiVersion: v1\nkind: ServiceAccount\n/);
  assert.match(out, /name: kustomize-controller\n/);
  assert.match(out, /kustomize\.toolkit\.fluxcd\.io\/name: flux-system/);
  assert.doesNotMatch(out, /managedFields/, 'kubectl hides managedFields by default');
  const sa = await ok(lab, ['get', 'sa', ...FS, 'kustomize-controller', '-o', 'json', '--show-managed-fields']);
  assert.deepEqual(sa.metadata.managedFields.map((m) => `${m.manager}/${m.operation}`), ['kustomize-controller/Apply']);
});

test('patch --type merge, strategic and json', async () => {
  const deploy = ['deployment', ...FS, 'kustomize-controller'];
  assert.match(await ok(lab, ['patch', ...deploy, '--type', 'merge', '-p', '{"metadata":{"labels":{"team":"platform"}}}']), /deployment.apps\/kustomize-controller patched/);
  await ok(lab, ['patch', ...deploy, '--type', 'strategic', '-p', JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'manager', env: [{ name: 'EXTRA', value: '1' }] }] } } } })]);
  await ok(lab, ['patch', ...deploy, '--type', 'json', '-p', '[{"op":"test","path":"/metadata/labels/team","value":"platform"},{"op":"remove","path":"/metadata/labels/team"}]']);
  const d = await ok(lab, ['get', ...deploy, '-o', 'json', '--show-managed-fields']);
  assert.equal(d.metadata.labels.team, undefined);
  const env = d.spec.template.spec.containers[0].env.map((e) => e.name);
  assert.deepEqual(env, ['RUNTIME_NAMESPACE', 'EXTRA'], 'strategic merge keeps existing env and adds by name');
  assert.ok(d.metadata.managedFields.some((m) => m.manager === 'kubectl-patch' && m.operation === 'Update'));
  const failed = await lab.kubectl(['patch', ...deploy, '--type', 'json', '-p', '[{"op":"test","path":"/spec/replicas","value":5}]']);
  assert.notEqual(failed.code, 0);
  assert.match(failed.stderr, /Invalid|test failed/);
  const crd = await lab.kubectl(['patch', 'kustomization', ...FS, 'flux-system', '--type', 'strategic', '-p', '{"spec":{"suspend":true}}']);
  assert.notEqual(crd.code, 0);
  assert.match(crd.stderr, /UnsupportedMediaType|unknown format/);
});

test('apply --server-side: field ownership, conflicts and --force-conflicts', async () => {
  const file = path.join(lab.dir, 'sa.yaml');
  fs.writeFileSync(file, [
    'apiVersion: v1', 'kind: ServiceAccount', 'metadata:', '  name: kustomize-controller', '  namespace: flux-system',
    '  annotations:', '    azure.workload.identity/client-id: 11111111-2222-3333-4444-555555555555', '',
  ].join('\n'));
  assert.match(await ok(lab, ['apply', '--server-side', '-f', file]), /serviceaccount\/kustomize-controller serverside-applied/);
  fs.appendFileSync(file, '  labels:\n    app.kubernetes.io/version: v0.0.1\n');
  const conflict = await lab.kubectl(['apply', '--server-side', '-f', file]);
  assert.notEqual(conflict.code, 0);
  assert.match(conflict.stderr, /Apply failed with 1 conflict: conflict with "kustomize-controller": \.metadata\.labels\.app\.kubernetes\.io\/version/);
  await lab.labctl(['counters', '--reset']);
  const dry = await ok(lab, ['apply', '--server-side', '--force-conflicts', '--dry-run=server', '-f', file, '-o', 'json']);
  const counters = JSON.parse((await lab.labctl(['counters'])).stdout);
  assert.equal(counters['k8s.dryrun.patch.serviceaccounts'], 1, 'dry runs are counted apart');
  assert.equal(counters['k8s.patch.serviceaccounts'], undefined);
  assert.equal(dry.metadata.labels['app.kubernetes.io/version'], 'v0.0.1');
  let sa = await ok(lab, ['get', 'sa', ...FS, 'kustomize-controller', '-o', 'json']);
  assert.equal(sa.metadata.labels['app.kubernetes.io/version'], 'v2.6.4', 'dry run persisted nothing');
  await ok(lab, ['apply', '--server-side', '--force-conflicts', '-f', file]);
  sa = await ok(lab, ['get', 'sa', ...FS, 'kustomize-controller', '-o', 'json', '--show-managed-fields']);
  assert.equal(sa.metadata.labels['app.kubernetes.io/version'], 'v0.0.1');
  const kubectlEntry = sa.metadata.managedFields.find((m) => m.manager === 'kubectl' && m.operation === 'Apply');
  assert.ok(kubectlEntry.fieldsV1['f:metadata']['f:annotations']['f:azure.workload.identity/client-id']);
  const flux = sa.metadata.managedFields.find((m) => m.manager === 'kustomize-controller');
  assert.equal(flux.fieldsV1['f:metadata']['f:labels']['f:app.kubernetes.io/version'], undefined, 'forced field taken away');
});

test('create token returns an RS256 JWT for the ServiceAccount', async () => {
  const token = (await ok(lab, ['create', 'token', 'kustomize-controller', ...FS, '--audience', 'api://AzureADTokenExchange', '--duration', '1h'])).trim();
  const [header, payload] = token.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url')));
  assert.equal(header.alg, 'RS256');
  assert.equal(payload.sub, 'system:serviceaccount:flux-system:kustomize-controller');
  assert.deepEqual(payload.aud, ['api://AzureADTokenExchange']);
  assert.equal(payload.iss, lab.urls.issuer);
  assert.equal(payload.exp - payload.iat, 3600);
  assert.equal(payload['kubernetes.io'].serviceaccount.name, 'kustomize-controller');
  const short = await lab.kubectl(['create', 'token', 'kustomize-controller', ...FS, '--duration', '5m']);
  assert.notEqual(short.code, 0);
  assert.match(short.stderr, /may not specify a duration less than 10 minutes/);
});

test('restricted user gets Forbidden in the API server wording', async () => {
  const as = ['--context', 'lab-restricted'];
  assert.match(await ok(lab, [...as, 'get', 'pods', ...FS]), /kustomize-controller/);
  const cases = [
    [['get', 'secrets', ...FS], 'Error from server (Forbidden): secrets is forbidden: User "developer" cannot list resource "secrets" in API group "" in the namespace "flux-system"'],
    [['get', 'secret', 'flux-system', ...FS], 'Error from server (Forbidden): secrets "flux-system" is forbidden: User "developer" cannot get resource "secrets" in API group "" in the namespace "flux-system"'],
    [['patch', 'deployment', 'kustomize-controller', ...FS, '--type', 'merge', '-p', '{"metadata":{"labels":{"a":"b"}}}'],
      'Error from server (Forbidden): deployments.apps "kustomize-controller" is forbidden: User "developer" cannot patch resource "deployments" in API group "apps" in the namespace "flux-system"'],
    [['create', 'token', 'kustomize-controller', ...FS],
      'error: failed to create token: serviceaccounts "kustomize-controller" is forbidden: User "developer" cannot create resource "serviceaccounts/token" in API group "" in the namespace "flux-system"'],
    [['get', 'clusterroles'], 'Error from server (Forbidden): clusterroles.rbac.authorization.k8s.io is forbidden: User "developer" cannot list resource "clusterroles" in API group "rbac.authorization.k8s.io" at the cluster scope'],
  ];
  for (const [argv, message] of cases) {
    const r = await lab.kubectl([...as, ...argv]);
    assert.notEqual(r.code, 0, argv.join(' '));
    assert.equal(r.stderr.trim(), message);
  }
  const can = await lab.kubectl([...as, 'auth', 'can-i', 'get', 'secrets', ...FS]);
  assert.equal(can.stdout.trim(), 'no');
  const impersonated = await lab.kubectl(['--as', 'developer', 'get', 'secrets', ...FS]);
  assert.match(impersonated.stderr, /User "developer" cannot list resource "secrets"/);
  const notAllowed = await lab.kubectl([...as, '--as', 'someone', 'get', 'ns']);
  assert.equal(notAllowed.stderr.trim(), 'Error from server (Forbidden): users "someone" is forbidden: User "developer" cannot impersonate resource "users" in API group "" at the cluster scope');
});

test('errors: NotFound, AlreadyExists, bad selector, bad token', async () => {
  let r = await lab.kubectl(['get', 'deployment', 'nope', ...FS]);
  assert.equal(r.stderr.trim(), 'Error from server (NotFound): deployments.apps "nope" not found');
  r = await lab.kubectl(['create', 'serviceaccount', 'kustomize-controller', ...FS]);
  assert.equal(r.stderr.trim(), 'error: failed to create serviceaccount: serviceaccounts "kustomize-controller" already exists');
  r = await lab.kubectl(['get', 'pods', ...FS, '--field-selector', 'spec.unknown=1']);
  assert.match(r.stderr, /field label not supported: spec.unknown/);
  r = await lab.kubectl(['get', 'ns', '--token', 'not-a-valid-token', '--user', 'restricted']);
  assert.match(r.stderr, /Unauthorized|must be logged in/);
});

test('describe shows the controllers\' events', async () => {
  const out = await ok(lab, ['describe', 'deployment', 'kustomize-controller', ...FS]);
  assert.match(out, /NewReplicaSet:\s+kustomize-controller-\w+ \(1\/1 replicas created\)/);
  assert.match(out, /Normal\s+ScalingReplicaSet\s+.*deployment-controller\s+Scaled up replica set kustomize-controller-\w+ from 0 to 1/);
  const events = await ok(lab, ['get', 'events', ...FS, '--field-selector', 'involvedObject.kind=ReplicaSet,reason=SuccessfulCreate', '-o', 'json']);
  assert.ok(events.items.some((e) => /^Created pod: kustomize-controller-/.test(e.message)));
});

test('logs of the controller pods', async () => {
  const out = await ok(lab, ['logs', '-n', 'flux-system', 'deployment/kustomize-controller', '--tail=5']);
  const line = JSON.parse(out.trim().split('\n').pop());
  assert.equal(line.msg, 'container started');
  assert.equal(line.container, 'manager');
  const r = await lab.kubectl(['logs', '-n', 'flux-system', 'deployment/kustomize-controller', '-c', 'nope']);
  assert.match(r.stderr, /container nope is not valid for pod kustomize-controller-/);
});

test('labels, field selectors and chunked lists', async () => {
  const pods = await ok(lab, ['get', 'pods', '-A', '-l', 'app in (kustomize-controller,source-controller)', '--field-selector', 'status.phase=Running', '-o', 'json']);
  assert.deepEqual([...new Set(pods.items.map((p) => p.metadata.labels.app))].sort(), ['kustomize-controller', 'source-controller']);
  const before = JSON.parse((await lab.labctl(['counters', '--reset'])).stdout);
  assert.ok(before['k8s.requests'] > 0);
  const names = await ok(lab, ['get', 'clusterroles', '--chunk-size', '2', '-o', 'name']);
  assert.ok(names.trim().split('\n').length >= 6);
  const counters = JSON.parse((await lab.labctl(['counters'])).stdout);
  assert.ok(counters['k8s.list.clusterroles'] >= 3, 'several pages fetched with continue');
});

test('create, update with a stale resourceVersion, delete', async () => {
  await ok(lab, ['create', 'configmap', 'probe', ...FS, '--from-literal', 'a=1']);
  const cm = await ok(lab, ['get', 'configmap', 'probe', ...FS, '-o', 'json']);
  await ok(lab, ['patch', 'configmap', 'probe', ...FS, '--type', 'merge', '-p', '{"data":{"a":"2"}}']);
  cm.data.a = '3';
  const file = path.join(lab.dir, 'cm.json');
  fs.writeFileSync(file, JSON.stringify(cm));
  const r = await lab.kubectl(['replace', '-f', file]);
  assert.match(r.stderr, /Error from server \(Conflict\): error when replacing ".*cm.json": Operation cannot be fulfilled on configmaps "probe": the object has been modified; please apply your changes to the latest version and try again/);
  assert.match(await ok(lab, ['delete', 'configmap', 'probe', ...FS]), /configmap "probe" deleted/);
});

test('Flux APIs: v1 preferred, v1beta2 served with a deprecation warning, one storage', async () => {
  const group = JSON.parse(await ok(lab, ['get', '--raw', '/apis/kustomize.toolkit.fluxcd.io']));
  assert.deepEqual(group.versions.map((v) => v.version), ['v1', 'v1beta2']);
  assert.equal(group.preferredVersion.version, 'v1');
  await ok(lab, ['annotate', 'ks', '-n', 'flux-system', 'flux-system', 'lab/probe=1']);
  const r = await lab.kubectl(['get', 'kustomizations.v1beta2.kustomize.toolkit.fluxcd.io', '-n', 'flux-system', 'flux-system', '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Warning: kustomize.toolkit.fluxcd.io\/v1beta2 Kustomization is deprecated, upgrade to v1/);
  const ks = JSON.parse(r.stdout);
  assert.equal(ks.apiVersion, 'kustomize.toolkit.fluxcd.io/v1beta2');
  assert.equal(ks.metadata.annotations['lab/probe'], '1', 'both versions read the same object');
});
