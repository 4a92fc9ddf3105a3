'use strict';
// Endpoints and EndpointSlices for Services with a selector: the ready pods
// they select (what webhook detection reads, azure.md 1.7).
const R = require('./resources');
const { matchLabelSelectorObject } = require('./selectors');
const { deepEqual } = require('./patch');

const SVC = R.byKey('/services');
const POD = R.byKey('/pods');
const EP = R.byKey('/endpoints');
const SLICE = R.byKey('discovery.k8s.io/endpointslices');
const MANAGER = { fieldManager: 'kube-controller-manager' };

const isReady = (p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && p.status?.podIP;

function endpointsFor(svc, pods) {
  const ports = (svc.spec.ports || []).map((p) => ({ port: Number(p.targetPort) || p.port, protocol: p.protocol || 'TCP', ...(p.name ? { name: p.name } : {}) }));
  const targets = pods.map((p) => ({ ip: p.status.podIP, nodeName: p.spec.nodeName, targetRef: { kind: 'Pod', name: p.metadata.name, namespace: p.metadata.namespace, uid: p.metadata.uid } }));
  const endpoints = { metadata: { name: svc.metadata.name, labels: svc.metadata.labels || {} }, subsets: targets.length ? [{ addresses: targets, ports }] : [] };
  const slice = {
    metadata: { name: `${svc.metadata.name}-lab`, labels: { 'kubernetes.io/service-name': svc.metadata.name, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } },
    addressType: 'IPv4', ports: ports.map((p) => ({ name: p.name || '', port: p.port, protocol: p.protocol })),
    endpoints: targets.map((t) => ({ addresses: [t.ip], conditions: { ready: true, serving: true, terminating: false }, nodeName: t.nodeName, targetRef: t.targetRef })),
  };
  return { endpoints, slice };
}

async function upsert(api, res, ns, obj) {
  const live = api.store.get(res, ns, obj.metadata.name);
  if (!live) return api.create(res, ns, obj, MANAGER);
  const { metadata, ...desired } = obj;
  const { metadata: lm, apiVersion, kind, ...current } = live;
  if (deepEqual(desired, current)) return live;
  return api.update(res, ns, obj.metadata.name, { ...live, ...desired }, MANAGER);
}

function createEndpointsController({ api, store, log }) {
  const pending = new Set();
  let running = 0;

  async function sync(ns) {
    const pods = store.list(POD, ns).filter(isReady);
    for (const svc of store.list(SVC, ns)) {
      if (!svc.spec?.selector) continue;
      const selected = pods.filter((p) => matchLabelSelectorObject({ matchLabels: svc.spec.selector }, p.metadata.labels));
      const { endpoints, slice } = endpointsFor(svc, selected);
      await upsert(api, EP, ns, endpoints);
      await upsert(api, SLICE, ns, slice);
    }
  }

  function onEvent(e) {
    if (e.key !== POD.key && e.key !== SVC.key) return;
    const ns = e.object.metadata.namespace;
    if (pending.has(ns)) return;
    pending.add(ns);
    setTimeout(() => {
      pending.delete(ns);
      running += 1;
      sync(ns).catch((err) => log(`endpoints ${ns}: ${err.message}`)).finally(() => { running -= 1; });
    }, 50);
  }

  return { start: () => store.subscribe(onEvent), idle: () => pending.size === 0 && running === 0 };
}

module.exports = { createEndpointsController };
