'use strict';
// The resource types the lab API server serves.
// builtin: strategic merge patch allowed (compiled-in types); CRDs answer 415.

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function def(group, version, kind, plural, opts = {}) {
  return {
    group, version, kind, plural,
    singular: opts.singular || kind.toLowerCase(),
    namespaced: opts.namespaced !== false,
    shortNames: opts.shortNames || [],
    categories: opts.categories || [],
    verbs: opts.verbs || ALL_VERBS,
    subresources: opts.subresources || [],
    builtin: opts.builtin !== false,
    apiVersion: group ? `${group}/${version}` : version,
    key: `${group}/${plural}`,
  };
}

const RESOURCES = [
  def('', 'v1', 'Namespace', 'namespaces', { namespaced: false, shortNames: ['ns'], subresources: ['status'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] }),
  def('', 'v1', 'ServiceAccount', 'serviceaccounts', { shortNames: ['sa'], subresources: ['token'] }),
  def('', 'v1', 'Pod', 'pods', { shortNames: ['po'], categories: ['all'], subresources: ['status'] }),
  def('', 'v1', 'Secret', 'secrets'),
  def('', 'v1', 'ConfigMap', 'configmaps', { shortNames: ['cm'] }),
  def('', 'v1', 'Service', 'services', { shortNames: ['svc'], categories: ['all'], subresources: ['status'] }),
  def('', 'v1', 'Endpoints', 'endpoints', { shortNames: ['ep'], singular: 'endpoints' }),
  def('', 'v1', 'Event', 'events', { shortNames: ['ev'] }),
  def('apps', 'v1', 'Deployment', 'deployments', { shortNames: ['deploy'], categories: ['all'], subresources: ['status', 'scale'] }),
  def('apps', 'v1', 'ReplicaSet', 'replicasets', { shortNames: ['rs'], categories: ['all'], subresources: ['status', 'scale'] }),
  def('admissionregistration.k8s.io', 'v1', 'MutatingWebhookConfiguration', 'mutatingwebhookconfigurations', { namespaced: false }),
  def('admissionregistration.k8s.io', 'v1', 'ValidatingWebhookConfiguration', 'validatingwebhookconfigurations', { namespaced: false }),
  def('discovery.k8s.io', 'v1', 'EndpointSlice', 'endpointslices'),
  def('rbac.authorization.k8s.io', 'v1', 'Role', 'roles'),
  def('rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'rolebindings'),
  def('rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'clusterroles', { namespaced: false }),
  def('rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', 'clusterrolebindings', { namespaced: false }),
  def('authorization.k8s.io', 'v1', 'SelfSubjectAccessReview', 'selfsubjectaccessreviews', { namespaced: false, verbs: ['create'] }),
  def('authentication.k8s.io', 'v1', 'SelfSubjectReview', 'selfsubjectreviews', { namespaced: false, verbs: ['create'] }),
  def('kustomize.toolkit.fluxcd.io', 'v1', 'Kustomization', 'kustomizations', { shortNames: ['ks'], builtin: false, subresources: ['status'] }),
  def('source.toolkit.fluxcd.io', 'v1', 'GitRepository', 'gitrepositories', { shortNames: ['gitrepo'], builtin: false, subresources: ['status'] }),
];

// Group order as a real server lists them (core first, then built-ins, then CRDs).
function groups() {
  const seen = new Map();
  for (const r of RESOURCES) {
    if (!r.group) continue;
    if (!seen.has(r.group)) seen.set(r.group, new Set());
    seen.get(r.group).add(r.version);
  }
  return [...seen].map(([name, versions]) => ({ name, versions: [...versions] }));
}

function byPath(group, version, plural) {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural) || null;
}

function byKind(apiVersion, kind) {
  return RESOURCES.find((r) => r.apiVersion === apiVersion && r.kind === kind) || null;
}

function byKey(key) {
  return RESOURCES.find((r) => r.key === key) || null;
}

// Resolve "deployments", "deploy", "deployment", "deployments.apps" to a resource.
function lookup(name) {
  const [first, ...rest] = name.toLowerCase().split('.');
  const group = rest.join('.');
  return RESOURCES.find((r) => (!group || r.group === group)
    && (r.plural === first || r.singular === first || r.shortNames.includes(first) || r.kind.toLowerCase() === first)) || null;
}

module.exports = { RESOURCES, groups, byPath, byKind, byKey, lookup };
