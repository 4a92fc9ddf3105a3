'use strict';
// The objects a fresh lab cluster starts with: bootstrap RBAC, system
// namespaces, Flux from the seed repository, the workload identity webhook,
// and the objects of the scenario's kubernetes: section.
const fs = require('node:fs');
const path = require('node:path');
const YAML = require('yaml');
const R = require('./resources');
const { webhookConfiguration } = require('./webhook');

const FLUX_DIR = 'seed/gitops/aks/flux-system';
const rbac = (kind, name, body) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind, metadata: { name }, ...body });
const binding = (name, role, subjects) => rbac('ClusterRoleBinding', name, {
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role }, subjects,
});
const group = (name) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name });

const RESTRICTED_USER = 'developer';

function bootstrapRbac() {
  return [
    rbac('ClusterRole', 'cluster-admin', { rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }, { nonResourceURLs: ['*'], verbs: ['*'] }] }),
    rbac('ClusterRole', 'system:discovery', { rules: [{ nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'], verbs: ['get'] }] }),
    rbac('ClusterRole', 'system:public-info-viewer', { rules: [{ nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/'], verbs: ['get'] }] }),
    rbac('ClusterRole', 'system:basic-user', { rules: [{ apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], verbs: ['create'] }, { apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'], verbs: ['create'] }] }),
    rbac('ClusterRole', 'system:service-account-issuer-discovery', { rules: [{ nonResourceURLs: ['/.well-known/openid-configuration', '/.well-known/openid-configuration/', '/openid/v1/jwks', '/openid/v1/jwks/'], verbs: ['get'] }] }),
    binding('cluster-admin', 'cluster-admin', [group('system:masters')]),
    binding('system:discovery', 'system:discovery', [group('system:authenticated')]),
    binding('system:public-info-viewer', 'system:public-info-viewer', [group('system:authenticated'), group('system:unauthenticated')]),
    binding('system:basic-user', 'system:basic-user', [group('system:authenticated')]),
    binding('system:service-account-issuer-discovery', 'system:service-account-issuer-discovery', [group('system:serviceaccounts')]),
    // The lab's restricted user: may look at workloads and Flux objects, nothing else.
    rbac('ClusterRole', 'lab:restricted-viewer', { rules: [
      { apiGroups: [''], resources: ['namespaces', 'pods', 'pods/log', 'serviceaccounts', 'configmaps', 'events'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['apps'], resources: ['deployments', 'replicasets'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['kustomize.toolkit.fluxcd.io', 'source.toolkit.fluxcd.io'], resources: ['*'], verbs: ['get', 'list', 'watch'] },
    ] }),
    binding('lab:restricted-viewer', 'lab:restricted-viewer', [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: RESTRICTED_USER }]),
  ];
}

const namespace = (name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });

function readManifests(file) {
  return YAML.parseAllDocuments(fs.readFileSync(file, 'utf8')).map((d) => d.toJSON()).filter((o) => o && o.kind);
}

// Flux's objects from the seed, in the API version the cluster serves.
function fluxObjects(labRoot) {
  const dir = path.join(labRoot, FLUX_DIR);
  const objs = [...readManifests(path.join(dir, 'gotk-components.yaml')), ...readManifests(path.join(dir, 'gotk-sync.yaml'))];
  const version = R.fluxSettings().versions[0];
  for (const o of objs) {
    if (/\.toolkit\.fluxcd\.io\//.test(o.apiVersion)) o.apiVersion = o.apiVersion.replace(/\/.*$/, `/${version}`);
    o.metadata.labels = { ...(o.metadata.labels || {}), 'kustomize.toolkit.fluxcd.io/name': 'flux-system', 'kustomize.toolkit.fluxcd.io/namespace': 'flux-system' };
  }
  return objs;
}

function webhookObjects(tenantId) {
  const labels = { 'azure-workload-identity.io/system': 'true' };
  const sel = { 'azure-workload-identity.io/system': 'true' };
  return [
    webhookConfiguration(),
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'azure-wi-webhook-admin', namespace: 'kube-system', labels } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'azure-wi-webhook-config', namespace: 'kube-system', labels }, data: { AZURE_ENVIRONMENT: 'AzurePublicCloud', AZURE_TENANT_ID: tenantId } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'azure-wi-webhook-webhook-service', namespace: 'kube-system', labels }, spec: { ports: [{ port: 443, protocol: 'TCP', targetPort: 9443 }], selector: sel, type: 'ClusterIP' } },
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'azure-wi-webhook-controller-manager', namespace: 'kube-system', labels },
      spec: { replicas: 2, selector: { matchLabels: sel }, template: { metadata: { labels: sel }, spec: {
        serviceAccountName: 'azure-wi-webhook-admin',
        containers: [{ name: 'manager', image: 'mcr.microsoft.com/oss/azure/workload-identity/webhook:v1.6.0', args: ['--log-level=info'],
          ports: [{ containerPort: 9443, name: 'webhook-server', protocol: 'TCP' }] }] } } } },
  ];
}

// Applies obj with server-side apply (force) as `manager`, or creates/updates it
// with operation Update when operation === 'Update'.
async function put(api, obj, manager, operation = 'Apply') {
  const res = R.byKind(obj.apiVersion, obj.kind);
  if (!res) throw new Error(`the lab does not serve ${obj.apiVersion} ${obj.kind}`);
  const ns = res.namespaced ? (obj.metadata.namespace || 'default') : '';
  if (operation === 'Apply') {
    return api.patch(res, ns, obj.metadata.name, 'application/apply-patch+yaml', JSON.stringify(obj), { fieldManager: manager, force: true });
  }
  const live = api.store.get(res, ns, obj.metadata.name);
  if (!live) return api.create(res, ns, obj, { fieldManager: manager });
  return api.patch(res, ns, obj.metadata.name, 'application/merge-patch+json', JSON.stringify(obj), { fieldManager: manager });
}

// Scenario object entries: a manifest, or {manifest, fieldManager, operation}.
async function applyScenarioObjects(api, objects = []) {
  for (const entry of objects) {
    const manifest = entry.manifest || entry;
    await put(api, manifest, entry.fieldManager || 'lab-scenario', entry.operation || 'Apply');
  }
}

async function seedCluster(api, { labRoot, tenantId, webhook }) {
  for (const o of bootstrapRbac()) await put(api, o, 'kube-apiserver', 'Update');
  for (const n of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) await put(api, namespace(n), 'kube-apiserver', 'Update');
  if (R.fluxSettings().installed) {
    for (const o of fluxObjects(labRoot)) await put(api, o, 'kustomize-controller');
    await put(api, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'flux-system', namespace: 'flux-system' }, type: 'Opaque',
      stringData: { identity: 'lab: no real Git credentials', 'known_hosts': 'github.com ecdsa-sha2-nistp256 AAAAlab' } }, 'flux', 'Update');
  }
  if (webhook.installed) for (const o of webhookObjects(tenantId)) await put(api, o, 'helm', 'Update');
}

module.exports = { seedCluster, applyScenarioObjects, put, RESTRICTED_USER };
