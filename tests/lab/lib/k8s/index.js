'use strict';
// The Kubernetes stand-in: API server, OIDC issuer, controllers, webhook.
// ctx.state.k8s is its in-process interface (see lab-requests notes / README).
const crypto = require('node:crypto');
const { listen } = require('../http');
const { createStore } = require('./store');
const { createApi } = require('./api');
const { createIssuer } = require('./tokens');
const { createAuthenticator } = require('./auth');
const { createFrontend } = require('./server');
const { startIssuerServer } = require('./oidc');
const { createControllers } = require('./controllers');
const { serviceAccountAdmission } = require('./admission');
const { createWebhookAdmission } = require('./webhook');
const { writeKubeconfig } = require('./kubeconfig');
const { createPodLogs } = require('./logs');
const { createEndpointsController } = require('./endpoints');
const seed = require('./seed');
const R = require('./resources');

const SA = R.byKey('/serviceaccounts');
const DEPLOY = R.byKey('apps/deployments');

function webhookSettings(ctx) {
  const w = (ctx.config.kubernetes || {}).webhook || {};
  return { installed: w.installed !== false, layout: w.layout || 'v1.6' };
}

function authorityHost(ctx) {
  const host = ctx.env.AZURE_AUTHORITY_HOST || ctx.urls.entra || 'https://login.microsoftonline.com/';
  return host.endsWith('/') ? host : `${host}/`;
}

async function startServers(ctx, k8s) {
  const clusterId = crypto.randomUUID();
  const oidcPath = `/${ctx.ids.tenantId}/${clusterId}/`;
  const oidc = await startIssuerServer(ctx, oidcPath, () => k8s.issuer);
  k8s.issuer = createIssuer(`${oidc.url}${oidcPath}`);
  k8s.apiAudiences = [k8s.issuer.issuer];
  k8s.authenticate = createAuthenticator({
    staticTokens: k8s.staticTokens, issuer: k8s.issuer, apiAudiences: k8s.apiAudiences,
    findSA: (ns, name) => (ns && name ? k8s.store.get(SA, ns, name) : null),
  });
  const tls = { requestCert: true, rejectUnauthorized: false, ca: ctx.ca.certPem };
  const server = await listen(ctx, 'apiserver', tls, createFrontend(k8s));
  k8s.hostport = server.hostport;
  k8s.oidcDiscovery = () => k8s.issuer.discovery(`${server.url}/openid/v1/jwks`);
  ctx.urls.apiserver = server.url;
  ctx.urls.oidc = oidc.url;
  ctx.urls.issuer = k8s.issuer.issuer;
  return server;
}

function makeTokens(ctx) {
  const admin = crypto.randomBytes(24).toString('base64url');
  const restricted = crypto.randomBytes(24).toString('base64url');
  return {
    admin, restricted,
    map: new Map([
      [admin, { name: 'lab-admin', groups: ['system:masters', 'system:authenticated'] }],
      [restricted, { name: seed.RESTRICTED_USER, groups: ['system:authenticated'] }],
    ]),
  };
}

// The in-process interface other lab modules use (state.k8s).
function publicInterface(k8s) {
  const { api, store } = k8s;
  return {
    api, store, resources: R,
    get issuer() { return k8s.issuer.issuer; },
    jwks: () => k8s.issuer.jwks(),
    verifyToken: (t) => k8s.issuer.verify(t),
    get: (res, ns, name) => store.get(typeof res === 'string' ? R.lookup(res) : res, ns, name),
    list: (res, ns, q) => api.list(typeof res === 'string' ? R.lookup(res) : res, ns, q).items,
    onChange: (fn) => store.subscribe(fn),
    // The projected token the kubelet writes into a pod's serviceAccountToken volume.
    podToken(pod, { audience, expirationSeconds = 3600 } = {}) {
      const sa = store.get(SA, pod.metadata.namespace, pod.spec.serviceAccountName || 'default');
      if (!sa) throw new Error(`serviceaccount ${pod.metadata.namespace}/${pod.spec.serviceAccountName} not found`);
      return k8s.issuer.serviceAccountToken(sa, { audiences: [audience || k8s.issuer.issuer], expirationSeconds, pod }).token;
    },
    // A bearer token for the API server acting as that ServiceAccount.
    serviceAccountToken(ns, name, expirationSeconds = 3600) {
      const sa = store.get(SA, ns, name);
      if (!sa) throw new Error(`serviceaccount ${ns}/${name} not found`);
      return k8s.issuer.serviceAccountToken(sa, { audiences: k8s.apiAudiences, expirationSeconds }).token;
    },
    // Appends a line to a container's log (kubectl logs shows it).
    podLog: (ns, pod, container, line) => k8s.podLogs.append(ns, pod, container, line),
    adminToken: k8s.tokens.admin,
    webhook: () => webhookSettings(k8s.ctx),
  };
}

async function start(ctx) {
  R.configureFlux((ctx.config.kubernetes || {}).flux);
  const store = createStore();
  const tokens = makeTokens(ctx);
  const k8s = { ctx, store, counters: ctx.counters, staticTokens: tokens.map, tokens };
  const webhook = createWebhookAdmission(() => ({
    layout: webhookSettings(ctx).layout, tenantId: ctx.ids.tenantId, authorityHost: authorityHost(ctx),
  }));
  k8s.api = createApi({ store, admission: [serviceAccountAdmission, webhook] });
  k8s.podLogs = createPodLogs();
  k8s.controllers = createControllers({ api: k8s.api, store, log: ctx.log, podLogs: k8s.podLogs });
  await startServers(ctx, k8s);
  ctx.state.k8s = publicInterface(k8s);
  ctx.state.k8sInternal = k8s;
  ctx.env.KUBECONFIG = writeKubeconfig(ctx, {
    server: ctx.urls.apiserver, caPem: ctx.ca.certPem,
    adminCert: ctx.ca.issue({ cn: 'lab-admin', orgs: ['system:masters'], usage: 'client' }),
    restrictedToken: tokens.restricted,
  });
  ctx.env.LAB_K8S_ISSUER = k8s.issuer.issuer;
  registerAdmin(ctx, k8s);
}

async function waitFor(check, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

async function afterStart(ctx) {
  const k8s = ctx.state.k8sInternal;
  k8s.controllers.start(ctx.ca.certPem);
  k8s.endpoints = createEndpointsController({ api: k8s.api, store: k8s.store, log: ctx.log });
  k8s.stopEndpoints = k8s.endpoints.start();
  const w = webhookSettings(ctx);
  await seed.seedCluster(k8s.api, { labRoot: ctx.labRoot, tenantId: ctx.ids.tenantId, webhook: w });
  await seed.applyScenarioObjects(k8s.api, (ctx.config.kubernetes || {}).objects);
  await waitFor(() => deploymentsReady(k8s) && k8s.endpoints.idle(), 15000);
}

function deploymentsReady(k8s) {
  return k8s.store.list(DEPLOY).every((d) => (d.status?.readyReplicas || 0) >= d.spec.replicas
    && d.status?.observedGeneration === d.metadata.generation);
}

async function applyScenario(doc, ctx) {
  const k = doc.kubernetes;
  if (!k) return 'no kubernetes section';
  const k8s = ctx.state.k8sInternal;
  if (k.webhook) {
    ctx.config.kubernetes = { ...(ctx.config.kubernetes || {}), webhook: { ...webhookSettings(ctx), ...k.webhook } };
  }
  await seed.applyScenarioObjects(k8s.api, k.objects);
  return `applied ${(k.objects || []).length} object(s)`;
}

function registerAdmin(ctx, k8s) {
  ctx.admin.route('GET', '/k8s/webhook', () => webhookSettings(ctx));
  ctx.admin.verb('k8s-token', ([ns, name]) => ({ token: ctx.state.k8s.serviceAccountToken(ns, name) }));
  ctx.admin.verb('wait-rollouts', async ([ms = '15000']) => ({ ready: await waitFor(() => deploymentsReady(k8s), Number(ms)) }));
}

async function stop(ctx) {
  ctx.state.k8sInternal?.controllers.stop();
  ctx.state.k8sInternal?.stopEndpoints?.();
}

module.exports = { start, afterStart, applyScenario, stop };
