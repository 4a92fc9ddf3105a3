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
    fluxVersion: opts.fluxVersion || null,
    deprecated: opts.deprecated || null,
  };
}

const RESOURCES = [
  def('', 'v1', 'Namespace', 'namespaces', { namespaced: false, shortNames: ['ns'], subresources: ['status'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] }),
  def('', 'v1', 'ServiceAccount', 'serviceaccounts', { shortNames: ['sa'], subresources: ['token'] }),
  def('', 'v1', 'Pod', 'pods', { shortNames: ['po'], categories: ['all'], subresources: ['status', 'log'] }),
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
  ...fluxDefs('v1'),
  ...fluxDefs('v1beta2'),
];

// Flux's APIs; both versions share one storage (the store key has no version).
function fluxDefs(version) {
  const deprecated = (g, kind) => (version === 'v1' ? null : `${g}/${version} ${kind} is deprecated, upgrade to v1`);
  const ks = 'kustomize.toolkit.fluxcd.io';
  const src = 'source.toolkit.fluxcd.io';
  return [
    def(ks, version, 'Kustomization', 'kustomizations', { shortNames: ['ks'], builtin: false, subresources: ['status'], fluxVersion: version, deprecated: deprecated(ks, 'Kustomization') }),
    def(src, version, 'GitRepository', 'gitrepositories', { shortNames: ['gitrepo'], builtin: false, subresources: ['status'], fluxVersion: version, deprecated: deprecated(src, 'GitRepository') }),
  ];
}

// Which Flux API versions the cluster serves (scenario kubernetes.flux):
// Flux 2.0-2.7 serve v1 and the deprecated v1beta2; >= 2.8 only v1; not installed: none.
const flux = { installed: true, versions: ['v1', 'v1beta2'] };

function configureFlux({ installed = true, versions = ['v1', 'v1beta2'] } = {}) {
  const bad = versions.filter((v) => !['v1', 'v1beta2'].includes(v));
  if (!versions.length || bad.length) throw new Error(`kubernetes.flux.versions: expected v1 and/or v1beta2, got ${JSON.stringify(versions)}`);
  flux.installed = installed !== false;
  flux.versions = versions;
}

const fluxSettings = () => ({ ...flux });

function served() {
  return RESOURCES.filter((r) => !r.fluxVersion || (flux.installed && flux.versions.includes(r.fluxVersion)));
}

// One descriptor per storage key (for walks over every stored object).
function storageKinds() {
  const seen = new Set();
  return RESOURCES.filter((r) => !seen.has(r.key) && seen.add(r.key));
}

// Group order as a real server lists them (core first, then built-ins, then CRDs).
function groups() {
  const seen = new Map();
  for (const r of served()) {
    if (!r.group) continue;
    if (!seen.has(r.group)) seen.set(r.group, new Set());
    seen.get(r.group).add(r.version);
  }
  return [...seen].map(([name, versions]) => ({ name, versions: [...versions] }));
}

function byPath(group, version, plural) {
  return served().find((r) => r.group === group && r.version === version && r.plural === plural) || null;
}

function byKind(apiVersion, kind) {
  return served().find((r) => r.apiVersion === apiVersion && r.kind === kind) || null;
}

// The preferred served descriptor for a storage key.
function byKey(key) {
  return served().find((r) => r.key === key) || RESOURCES.find((r) => r.key === key) || null;
}

// Resolve "deployments", "deploy", "deployment", "deployments.apps" to a resource.
function lookup(name) {
  const [first, ...rest] = name.toLowerCase().split('.');
  const group = rest.join('.');
  return served().find((r) => (!group || r.group === group)
    && (r.plural === first || r.singular === first || r.shortNames.includes(first) || r.kind.toLowerCase() === first)) || null;
}

module.exports = { RESOURCES, groups, byPath, byKind, byKey, lookup, served, storageKinds, configureFlux, fluxSettings };
