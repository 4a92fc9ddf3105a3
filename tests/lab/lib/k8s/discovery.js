'use strict';
// Legacy discovery documents: /version, /api, /api/v1, /apis, /apis/G, /apis/G/V.
const R = require('./resources');

const VERSION = {
  major: '1', minor: '32', gitVersion: 'v1.32.6', gitCommit: '6c4a2e3b8bcbe5ec5d5d1d3cb5e2f4d2b6c1a0e9',
  gitTreeState: 'clean', buildDate: '2026-06-17T09:47:19Z', goVersion: 'go1.23.10', compiler: 'gc',
  platform: 'linux/amd64',
};

const SUBRESOURCE_KINDS = {
  status: (r) => ({ kind: r.kind, verbs: ['get', 'patch', 'update'] }),
  scale: () => ({ kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] }),
  log: () => ({ kind: 'Pod', verbs: ['get'] }),
  token: () => ({ kind: 'TokenRequest', group: 'authentication.k8s.io', version: 'v1', verbs: ['create'] }),
};

function resourceEntries(r) {
  const main = {
    name: r.plural, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs,
    ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
    ...(r.categories.length ? { categories: r.categories } : {}),
  };
  const subs = r.subresources.map((s) => ({ name: `${r.plural}/${s}`, singularName: '', namespaced: r.namespaced, ...SUBRESOURCE_KINDS[s](r) }));
  return [main, ...subs];
}

function resourceList(group, version) {
  const resources = R.served().filter((r) => r.group === group && r.version === version).flatMap(resourceEntries);
  if (!resources.length) return null;
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
}

function apiGroup(name) {
  const g = R.groups().find((x) => x.name === name);
  if (!g) return null;
  const versions = g.versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions, preferredVersion: versions[0] };
}

function apiGroupList() {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: R.groups().map((g) => apiGroup(g.name)) };
}

const apiVersions = (serverAddress) => ({
  kind: 'APIVersions', versions: ['v1'],
  serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
});

// Returns the document for a discovery path, or undefined if path is not one.
function discover(path, serverAddress) {
  if (path === '/version' || path === '/version/') return VERSION;
  if (path === '/api' || path === '/api/') return apiVersions(serverAddress);
  if (path === '/api/v1' || path === '/api/v1/') return resourceList('', 'v1');
  if (path === '/apis' || path === '/apis/') return apiGroupList();
  const m = path.match(/^\/apis\/([^/]+)(?:\/([^/]+))?\/?$/);
  if (!m) return undefined;
  if (!m[2]) {
    const g = apiGroup(m[1]);
    return g ? { kind: 'APIGroup', apiVersion: 'v1', ...g } : null;
  }
  return resourceList(m[1], m[2]);
}

module.exports = { discover, VERSION };
