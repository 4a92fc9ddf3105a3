'use strict';
// Controllers: Deployment -> ReplicaSets -> Pods, a "kubelet" that starts
// pods after a short moment, and namespace defaults (SA "default", CA configmap).
const crypto = require('node:crypto');
const R = require('./resources');
const { canonical, deepEqual } = require('./patch');
const { nowIso } = require('./api');

const DEPLOY = R.byKey('apps/deployments');
const RS = R.byKey('apps/replicasets');
const POD = R.byKey('/pods');
const SA = R.byKey('/serviceaccounts');
const CM = R.byKey('/configmaps');
const EVENT = R.byKey('/events');
const REVISION = 'deployment.kubernetes.io/revision';
const KCM = { fieldManager: 'kube-controller-manager' };
const POD_START_MS = 600;

const owned = (objs, owner) => objs.filter((o) => (o.metadata.ownerReferences || []).some((r) => r.uid === owner.metadata.uid));

function templateHash(template) {
  const digest = crypto.createHash('sha256').update(JSON.stringify(canonical(template))).digest();
  const chars = 'bcdfghjklmnpqrstvwxz2456789';
  return Array.from(digest.subarray(0, 10), (b) => chars[b % chars.length]).join('');
}

function ownerRef(o) {
  return { apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, uid: o.metadata.uid, controller: true, blockOwnerDeletion: true };
}

function condition(type, status, reason, message, previous) {
  const now = nowIso();
  const same = previous && previous.status === status;
  return { type, status, lastUpdateTime: now, lastTransitionTime: same ? previous.lastTransitionTime : now, reason, message };
}

function createControllers({ api, store, log, podLogs }) {
  const work = new Map(); // key -> {timer, running, dirty}
  let stopped = false;

  // Runs one sync per key at a time; events during a run cause another run,
  // failures (e.g. a 409 from a concurrent write) a retry.
  function schedule(kind, ns, name, delay = 20) {
    const key = `${kind}/${ns}/${name}`;
    if (stopped) return;
    const w = work.get(key) || {};
    work.set(key, w);
    if (w.running) { w.dirty = true; return; }
    if (w.timer) return;
    w.timer = setTimeout(async () => {
      w.timer = null;
      w.running = true;
      let retry = false;
      let requeue = null;
      try { requeue = await run(kind, ns, name); } catch (e) { retry = true; log(`controller ${key}: ${e.message}`); }
      w.running = false;
      if (w.dirty || retry) { w.dirty = false; schedule(kind, ns, name, retry ? 500 : 20); } else if (typeof requeue === 'number') schedule(kind, ns, name, requeue);
    }, delay);
  }

  async function run(kind, ns, name) {
    if (kind === 'deployment') return syncDeployment(ns, name);
    if (kind === 'replicaset') return syncReplicaSet(ns, name);
    if (kind === 'pod') return startPod(ns, name);
    return null;
  }

  // ---- Deployment ----

  function revisionOf(rs) { return Number(rs.metadata.annotations?.[REVISION] || 0); }

  async function ensureNewReplicaSet(d, rsList) {
    const hash = templateHash(d.spec.template);
    const maxRev = Math.max(0, ...rsList.map(revisionOf));
    const existing = rsList.find((rs) => rs.metadata.labels?.['pod-template-hash'] === hash);
    if (existing) {
      if (revisionOf(existing) < maxRev) {
        existing.metadata.annotations = { ...existing.metadata.annotations, [REVISION]: String(maxRev + 1) };
        return api.update(RS, d.metadata.namespace, existing.metadata.name, existing, KCM);
      }
      return existing;
    }
    const labels = { ...(d.spec.template.metadata?.labels || {}), 'pod-template-hash': hash };
    const template = structuredClone(d.spec.template);
    template.metadata = { ...(template.metadata || {}), labels };
    return api.create(RS, d.metadata.namespace, {
      metadata: {
        name: `${d.metadata.name}-${hash}`, labels, ownerReferences: [ownerRef(d)],
        annotations: { [REVISION]: String(maxRev + 1), 'deployment.kubernetes.io/desired-replicas': String(d.spec.replicas) },
      },
      spec: { replicas: 0, selector: { matchLabels: { ...(d.spec.selector.matchLabels || {}), 'pod-template-hash': hash } }, template },
    }, KCM);
  }

  async function scaleReplicaSet(rs, replicas, deployment) {
    if (rs.spec.replicas === replicas) return rs;
    if (deployment) {
      const verb = replicas > (rs.spec.replicas || 0) ? 'up' : 'down';
      await recordEvent(deployment, 'Normal', 'ScalingReplicaSet', 'deployment-controller',
        `Scaled ${verb} replica set ${rs.metadata.name} from ${rs.spec.replicas || 0} to ${replicas}`);
    }
    return api.patch(RS, rs.metadata.namespace, rs.metadata.name, 'application/merge-patch+json',
      JSON.stringify({ spec: { replicas } }), KCM).then((r) => r.object);
  }

  async function syncDeployment(ns, name) {
    const d = store.get(DEPLOY, ns, name);
    if (!d) return;
    const rsList = owned(store.list(RS, ns), d);
    const newRS = await ensureNewReplicaSet(d, rsList);
    const desired = d.spec.paused ? newRS.spec.replicas : d.spec.replicas;
    await scaleReplicaSet(newRS, desired, d);
    const fresh = store.get(RS, ns, newRS.metadata.name);
    const olds = owned(store.list(RS, ns), d).filter((rs) => rs.metadata.name !== newRS.metadata.name);
    const newReady = (fresh.status?.readyReplicas || 0) >= desired;
    if (newReady) for (const old of olds) await scaleReplicaSet(old, 0, d);
    pruneHistory(d, olds);
    await updateDeploymentStatus(d, fresh, owned(store.list(RS, ns), d));
  }

  // Keeps at most spec.revisionHistoryLimit scaled-down old ReplicaSets.
  function pruneHistory(d, olds) {
    const idle = olds.filter((rs) => !rs.spec.replicas && !rs.status?.replicas).sort((a, b) => revisionOf(a) - revisionOf(b));
    const excess = idle.length - (d.spec.revisionHistoryLimit ?? 10);
    for (const rs of idle.slice(0, Math.max(0, excess))) api.remove(RS, rs.metadata.namespace, rs.metadata.name, {});
  }

  function deploymentStatus(d, newRS, rsList) {
    const sum = (f) => rsList.reduce((n, rs) => n + (rs.status?.[f] || 0), 0);
    const replicas = sum('replicas');
    const ready = sum('readyReplicas');
    const updated = newRS.status?.replicas || 0;
    const desired = d.spec.replicas;
    const complete = updated >= desired && replicas <= updated && (newRS.status?.readyReplicas || 0) >= desired;
    const prev = Object.fromEntries((d.status?.conditions || []).map((c) => [c.type, c]));
    const conditions = [
      ready >= desired
        ? condition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.', prev.Available)
        : condition('Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.', prev.Available),
      complete
        ? condition('Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "${newRS.metadata.name}" has successfully progressed.`, prev.Progressing)
        : condition('Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "${newRS.metadata.name}" is progressing.`, prev.Progressing),
    ];
    const failure = (newRS.status?.conditions || []).find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
    if (failure) conditions.push(condition('ReplicaFailure', 'True', failure.reason, failure.message, prev.ReplicaFailure));
    for (const c of conditions) {
      const p = prev[c.type];
      if (p && p.status === c.status && p.reason === c.reason && p.message === c.message) { c.lastUpdateTime = p.lastUpdateTime; }
    }
    return {
      observedGeneration: d.metadata.generation, replicas, updatedReplicas: updated, readyReplicas: ready,
      availableReplicas: ready, ...(replicas - ready > 0 ? { unavailableReplicas: replicas - ready } : {}), conditions,
    };
  }

  async function updateDeploymentStatus(d, newRS, rsList) {
    const status = deploymentStatus(d, newRS, rsList);
    for (const k of ['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas']) if (!status[k]) delete status[k];
    const revision = newRS.metadata.annotations?.[REVISION];
    let current = d;
    if (revision && d.metadata.annotations?.[REVISION] !== revision) {
      current = (await api.patch(DEPLOY, d.metadata.namespace, d.metadata.name, 'application/merge-patch+json',
        JSON.stringify({ metadata: { annotations: { [REVISION]: revision } } }), KCM)).object;
    }
    if (deepEqual(current.status || {}, status)) return;
    const body = { ...current, status };
    await api.update(DEPLOY, d.metadata.namespace, d.metadata.name, body, { ...KCM, subresource: 'status' });
  }

  // ---- events (kubectl describe, involvedObject field selectors) ----

  async function recordEvent(obj, type, reason, component, message) {
    const now = nowIso();
    const same = store.list(EVENT, obj.metadata.namespace).find((e) => e.involvedObject?.uid === obj.metadata.uid
      && e.reason === reason && e.message === message);
    if (same) {
      same.count = (same.count || 1) + 1;
      same.lastTimestamp = now;
      await api.update(EVENT, same.metadata.namespace, same.metadata.name, same, KCM).catch(() => {});
      return;
    }
    const ref = { kind: obj.kind, namespace: obj.metadata.namespace, name: obj.metadata.name, uid: obj.metadata.uid, apiVersion: obj.apiVersion, resourceVersion: obj.metadata.resourceVersion };
    await api.create(EVENT, obj.metadata.namespace, {
      metadata: { name: `${obj.metadata.name}.${crypto.randomBytes(8).toString('hex')}` },
      involvedObject: ref, reason, message, type, count: 1, source: { component },
      firstTimestamp: now, lastTimestamp: now, reportingComponent: component, reportingInstance: '',
    }, KCM).catch((e) => log(`event ${reason}: ${e.message}`));
  }

  // ---- ReplicaSet ----

  function podFromTemplate(rs) {
    const t = structuredClone(rs.spec.template);
    return {
      metadata: { ...(t.metadata || {}), generateName: `${rs.metadata.name}-`, ownerReferences: [{ ...ownerRef(rs) }] },
      spec: t.spec,
    };
  }

  async function createPods(rs, count) {
    for (let i = 0; i < count; i++) {
      try {
        const pod = await api.create(POD, rs.metadata.namespace, podFromTemplate(rs), KCM);
        await recordEvent(rs, 'Normal', 'SuccessfulCreate', 'replicaset-controller', `Created pod: ${pod.metadata.name}`);
      } catch (e) {
        await recordEvent(rs, 'Warning', 'FailedCreate', 'replicaset-controller', `Error creating: ${e.message}`);
        await setFailure(rs, e.message);
        return false;
      }
    }
    return true;
  }

  async function setFailure(rs, message) {
    const fresh = store.get(RS, rs.metadata.namespace, rs.metadata.name);
    if (!fresh) return;
    if ((fresh.status?.conditions || []).some((c) => c.type === 'ReplicaFailure' && c.message === message)) return;
    const cond = { type: 'ReplicaFailure', status: 'True', lastTransitionTime: nowIso(), reason: 'FailedCreate', message };
    const others = (fresh.status?.conditions || []).filter((c) => c.type !== 'ReplicaFailure');
    fresh.status = { ...(fresh.status || {}), conditions: [...others, cond] };
    await api.update(RS, rs.metadata.namespace, rs.metadata.name, fresh, { ...KCM, subresource: 'status' });
  }

  async function syncReplicaSet(ns, name) {
    const rs = store.get(RS, ns, name);
    if (!rs) return;
    const pods = owned(store.list(POD, ns), rs);
    const want = rs.spec.replicas ?? 1;
    let ok = true;
    if (pods.length < want) ok = await createPods(rs, want - pods.length);
    const extra = pods.slice(0, Math.max(0, pods.length - want)).reverse();
    for (const p of extra) api.remove(POD, ns, p.metadata.name, {});
    const fresh = store.get(RS, ns, name);
    const live = owned(store.list(POD, ns), rs);
    const ready = live.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
    const conditions = ok ? (fresh.status?.conditions || []).filter((c) => c.type !== 'ReplicaFailure') : fresh.status?.conditions;
    const status = { replicas: live.length, fullyLabeledReplicas: live.length, readyReplicas: ready, availableReplicas: ready, observedGeneration: fresh.metadata.generation };
    if (conditions && conditions.length) status.conditions = conditions;
    for (const k of ['fullyLabeledReplicas', 'readyReplicas', 'availableReplicas']) if (!status[k]) delete status[k];
    if (!deepEqual(fresh.status || {}, status)) {
      await api.update(RS, ns, name, { ...fresh, status }, { ...KCM, subresource: 'status' });
    }
    return ok ? null : 3000;
  }

  // ---- kubelet ----

  async function startPod(ns, name) {
    const pod = store.get(POD, ns, name);
    if (!pod || pod.status?.phase === 'Running') return;
    const now = nowIso();
    const ip = `10.244.0.${(crypto.randomBytes(1)[0] % 250) + 2}`;
    pod.spec.nodeName = 'aks-nodepool1-00000000-vmss000000';
    await api.update(POD, ns, name, pod, { fieldManager: 'kube-scheduler' });
    const fresh = store.get(POD, ns, name);
    if (!fresh) return;
    fresh.status = {
      phase: 'Running', hostIP: '10.224.0.4', podIP: ip, podIPs: [{ ip }], startTime: now, qosClass: 'BestEffort',
      conditions: ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']
        .map((type) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: now })),
      containerStatuses: fresh.spec.containers.map((c) => ({
        name: c.name, image: c.image, imageID: `${c.image.split(':')[0]}@sha256:${crypto.createHash('sha256').update(c.image).digest('hex')}`,
        containerID: `containerd://${crypto.randomBytes(32).toString('hex')}`, ready: true, started: true, restartCount: 0,
        state: { running: { startedAt: now } }, lastState: {},
      })),
    };
    await api.update(POD, ns, name, fresh, { fieldManager: 'kubelet', subresource: 'status' });
    for (const c of fresh.spec.containers) {
      podLogs.append(ns, name, c.name, JSON.stringify({ level: 'info', ts: now, logger: 'lab-kubelet', msg: 'container started', container: c.name, image: c.image }));
    }
  }

  // ---- wiring ----

  function ownerOf(obj, kind) {
    return (obj.metadata.ownerReferences || []).find((r) => r.kind === kind && r.controller);
  }

  function onEvent(e) {
    const o = e.object;
    const ns = o.metadata.namespace;
    if (e.key === DEPLOY.key && e.type !== 'DELETED') schedule('deployment', ns, o.metadata.name);
    if (e.key === RS.key) {
      if (e.type !== 'DELETED') schedule('replicaset', ns, o.metadata.name);
      const d = ownerOf(o, 'Deployment');
      if (d) schedule('deployment', ns, d.name);
    }
    if (e.key === POD.key) {
      if (e.type === 'ADDED') schedule('pod', ns, o.metadata.name, POD_START_MS);
      const rs = ownerOf(o, 'ReplicaSet');
      if (rs) schedule('replicaset', ns, rs.name);
    }
    if (e.key === '/namespaces' && e.type === 'ADDED') {
      setImmediate(() => namespaceDefaults(o.metadata.name).catch((err) => log(`namespace ${o.metadata.name}: ${err.message}`)));
    }
  }

  let caPem = '';
  async function namespaceDefaults(ns) {
    if (!store.get(SA, ns, 'default')) await api.create(SA, ns, { metadata: { name: 'default' } }, KCM);
    if (!store.get(CM, ns, 'kube-root-ca.crt')) {
      await api.create(CM, ns, { metadata: { name: 'kube-root-ca.crt', annotations: { 'kubernetes.io/description': 'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.' } }, data: { 'ca.crt': caPem } }, { fieldManager: 'kube-controller-manager' });
    }
  }

  // Periodic resync, as informers do: nothing stays stuck on a missed event.
  function resync() {
    for (const d of store.list(DEPLOY)) schedule('deployment', d.metadata.namespace, d.metadata.name);
    for (const rs of store.list(RS)) schedule('replicaset', rs.metadata.namespace, rs.metadata.name);
    for (const p of store.list(POD)) if (p.status?.phase !== 'Running') schedule('pod', p.metadata.namespace, p.metadata.name, POD_START_MS);
  }

  let unsubscribe = () => {};
  let resyncTimer = null;
  return {
    start(ca) {
      caPem = ca;
      unsubscribe = store.subscribe(onEvent);
      resyncTimer = setInterval(resync, 3000);
      resyncTimer.unref();
    },
    stop() {
      stopped = true;
      unsubscribe();
      clearInterval(resyncTimer);
      for (const w of work.values()) clearTimeout(w.timer);
      work.clear();
    },
    namespaceDefaults,
  };
}

module.exports = { createControllers, templateHash };
