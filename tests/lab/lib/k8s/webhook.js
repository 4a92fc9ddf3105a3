'use strict';
// The Azure Workload Identity mutating webhook's behaviour on pod creation.
// It acts only when a stored MutatingWebhookConfiguration carries the entry
// mutation.azure-workload-identity.io whose selectors match the pod.
const crypto = require('node:crypto');
const E = require('./errors');
const R = require('./resources');
const { matchLabelSelectorObject } = require('./selectors');

const MWC = R.byKey('admissionregistration.k8s.io/mutatingwebhookconfigurations');
const SA = R.byKey('/serviceaccounts');
const NS = R.byKey('/namespaces');
const EP = R.byKey('/endpoints');
const WEBHOOK_NAME = 'mutation.azure-workload-identity.io';
const ANN = 'azure.workload.identity/';
const AUDIENCE = 'api://AzureADTokenExchange';

const LAYOUTS = {
  legacy: () => ({ volume: 'azure-identity-token', mountPath: '/var/run/secrets/azure/tokens', path: 'azure-identity-token' }),
  'v1.6': (pod) => {
    const hashed = pod.metadata.name || `${pod.metadata.generateName || ''} (prefix)`;
    const digest = crypto.createHash('sha256').update(hashed).digest('hex').slice(0, 30);
    return { volume: `azure-workload-identity-reserved-${digest}`, mountPath: '/var/run/secrets/azure/wi', path: 'token/azure-identity-token' };
  },
};

function denied(message) {
  return E.status(400, 'BadRequest', `admission webhook "${WEBHOOK_NAME}" denied the request: ${message}`);
}

function ruleMatchesPodCreate(rule) {
  const has = (list, v) => (list || []).includes('*') || (list || []).includes(v);
  return has(rule.operations, 'CREATE') && has(rule.resources, 'pods') && has(rule.apiGroups, '') && has(rule.apiVersions, 'v1');
}

function findWebhook(store, pod) {
  const ns = store.get(NS, '', pod.metadata.namespace);
  for (const cfg of store.list(MWC)) {
    for (const w of cfg.webhooks || []) {
      if (w.name !== WEBHOOK_NAME || !(w.rules || []).some(ruleMatchesPodCreate)) continue;
      if (!matchLabelSelectorObject(w.objectSelector, pod.metadata.labels)) continue;
      if (!matchLabelSelectorObject(w.namespaceSelector, ns?.metadata.labels)) continue;
      return w;
    }
  }
  return null;
}

function tokenExpiration(pod, sa) {
  const raw = pod.metadata.annotations?.[`${ANN}service-account-token-expiration`]
    ?? sa.metadata.annotations?.[`${ANN}service-account-token-expiration`];
  if (raw === undefined) return 3600;
  const n = Number(raw);
  if (!/^\d+$/.test(String(raw)) || n < 3600 || n > 86400) {
    throw denied(`token expiration ${raw} not valid. Expected value to be between 3600 and 86400`);
  }
  return n;
}

function injectContainer(c, values, layout) {
  c.env = c.env || [];
  for (const [name, value] of values) {
    if (!value || c.env.some((e) => e.name === name)) continue;
    c.env.push({ name, value });
  }
  c.volumeMounts = c.volumeMounts || [];
  if (!c.volumeMounts.some((m) => m.name === layout.volume)) {
    c.volumeMounts.push({ name: layout.volume, readOnly: true, mountPath: layout.mountPath });
  }
}

function projectedVolume(layout, expirationSeconds) {
  return {
    name: layout.volume,
    projected: { defaultMode: 420, sources: [{ serviceAccountToken: { audience: AUDIENCE, expirationSeconds, path: layout.path } }] },
  };
}

// The webhook must answer: with no ready endpoint behind its Service the API
// server fails the request (failurePolicy Fail) or skips the webhook (Ignore).
function reachable(store, w) {
  const svc = w.clientConfig?.service;
  if (!svc) return true;
  const ep = store.get(EP, svc.namespace, svc.name);
  if ((ep?.subsets || []).some((s) => (s.addresses || []).length)) return true;
  if (w.failurePolicy === 'Ignore') return false;
  const url = `https://${svc.name}.${svc.namespace}.svc:${svc.port || 443}${svc.path || '/'}?timeout=${w.timeoutSeconds || 10}s`;
  throw E.internal(`failed calling webhook "${w.name}": failed to call webhook: Post "${url}": no endpoints available for service "${svc.name}"`);
}

// settings(): { layout: 'legacy'|'v1.6', tenantId, authorityHost }
function createWebhookAdmission(settings) {
  return function workloadIdentityWebhook(res, pod, op, { api }) {
    if (res.plural !== 'pods' || op !== 'CREATE') return;
    const hook = findWebhook(api.store, pod);
    if (!hook || !reachable(api.store, hook)) return;
    const s = settings();
    const saName = pod.spec.serviceAccountName || 'default';
    const sa = api.store.get(SA, pod.metadata.namespace, saName);
    if (!sa) throw denied(`serviceaccounts "${saName}" not found`);
    const ann = sa.metadata.annotations || {};
    const layout = (LAYOUTS[s.layout] || LAYOUTS['v1.6'])(pod);
    const values = [
      ['AZURE_CLIENT_ID', ann[`${ANN}client-id`]],
      ['AZURE_TENANT_ID', `${ANN}tenant-id` in ann ? ann[`${ANN}tenant-id`] : s.tenantId],
      ['AZURE_FEDERATED_TOKEN_FILE', `${layout.mountPath}/${layout.path}`],
      ['AZURE_AUTHORITY_HOST', s.authorityHost],
    ];
    const expiration = tokenExpiration(pod, sa);
    const skip = (pod.metadata.annotations?.[`${ANN}skip-containers`] || '').split(';').map((x) => x.trim()).filter(Boolean);
    for (const c of [...(pod.spec.initContainers || []), ...(pod.spec.containers || [])]) {
      if (!skip.includes(c.name)) injectContainer(c, values, layout);
    }
    pod.spec.volumes = pod.spec.volumes || [];
    if (!pod.spec.volumes.some((v) => v.name === layout.volume)) pod.spec.volumes.push(projectedVolume(layout, expiration));
  };
}

function webhookConfiguration() {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration',
    metadata: { name: 'azure-wi-webhook-mutating-webhook-configuration', labels: { 'azure-workload-identity.io/system': 'true' } },
    webhooks: [{
      name: WEBHOOK_NAME, admissionReviewVersions: ['v1', 'v1beta1'],
      clientConfig: { service: { name: 'azure-wi-webhook-webhook-service', namespace: 'kube-system', path: '/mutate-v1-pod', port: 443 } },
      failurePolicy: 'Fail', matchPolicy: 'Equivalent', namespaceSelector: {},
      objectSelector: { matchLabels: { 'azure.workload.identity/use': 'true' } },
      reinvocationPolicy: 'IfNeeded',
      rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'], scope: '*' }],
      sideEffects: 'None', timeoutSeconds: 10,
    }],
  };
}

module.exports = { createWebhookAdmission, webhookConfiguration, WEBHOOK_NAME, LAYOUTS };
