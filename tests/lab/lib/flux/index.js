'use strict';
// LAB-AZURE's Flux module: the GitOps repository (a directory), and kustomize-controller's
// reconcile on request (`labctl DIR reconcile [NS/]NAME`) or every flux.interval seconds.
const fs = require('node:fs');
const path = require('node:path');
const controller = require('./controller');

function parseTarget(arg) {
  const s = String(arg || 'flux-system');
  if (s.includes('/')) {
    const [ns, name] = s.split('/');
    return { ns, name };
  }
  return { ns: 'flux-system', name: s };
}

async function reconcileVerb(ctx, args) {
  const targets = args.filter((a) => !String(a).startsWith('-'));
  if (targets.length === 0) targets.push('flux-system/flux-system');
  const out = [];
  for (const t of targets) {
    if (t === 'all') {
      const client = controller.controllerClient(ctx);
      const apis = await controller.fluxApis(client);
      const list = await client.request('GET', '/apis/' + apis.ks[0] + '/kustomizations');
      for (const ks of list.items || []) out.push(await serial(ctx, ks.metadata.namespace, ks.metadata.name));
      continue;
    }
    const { ns, name } = parseTarget(t);
    out.push(await serial(ctx, ns, name));
  }
  return out.length === 1 ? out[0] : out;
}

// One reconcile at a time, like a controller with one worker.
function serial(ctx, ns, name) {
  const st = ctx.state.flux;
  const run = st.queue.then(() => controller.reconcile(ctx, ns, name));
  st.queue = run.catch(() => {});
  return run;
}

function st(ctx) {
  return ctx.state.flux;
}

function copyDir(src, dst) {
  fs.mkdirSync(dst, { recursive: true });
  for (const e of fs.readdirSync(src, { withFileTypes: true })) {
    const s = path.join(src, e.name);
    const d = path.join(dst, e.name);
    if (e.isDirectory()) copyDir(s, d);
    else if (e.isFile()) fs.copyFileSync(s, d);
  }
}

function configure(ctx, section) {
  const st = ctx.state.flux;
  if (!section) return;
  if (section.repo) st.repo = path.resolve(section.repo);
  if (section.repos) st.repos = Object.fromEntries(Object.entries(section.repos).map(([k, v]) => [k, path.resolve(v)]));
  if (section.interval !== undefined) schedule(ctx, Number(section.interval));
  if (section.legacyApplyEncrypted !== undefined) st.legacyApplyEncrypted = !!section.legacyApplyEncrypted;
}

function schedule(ctx, seconds) {
  const st = ctx.state.flux;
  if (st.timer) clearInterval(st.timer);
  st.timer = null;
  if (!(seconds > 0)) return;
  st.timer = setInterval(() => {
    reconcileVerb(ctx, ['all']).catch((e) => ctx.log('periodic reconcile: ' + e.message));
  }, seconds * 1000);
  st.timer.unref();
}

async function start(ctx) {
  const repo = ctx.file('repo');
  ctx.state.flux = { repo, repos: {}, queue: Promise.resolve(), timer: null };
  const cfg = ctx.config.flux || {};
  if (!cfg.repo) {
    const seed = path.join(ctx.labRoot, 'seed');
    if (fs.existsSync(seed) && !fs.existsSync(repo)) copyDir(seed, repo);
  }
  configure(ctx, cfg);
  ctx.env.LAB_REPO_DIR = ctx.state.flux.repo;
  ctx.admin.verb('reconcile', (args) => reconcileVerb(ctx, args));
  // source-controller alone: the GitRepository takes the repo's current revision, the
  // Kustomizations do not run (so their lastAppliedRevision goes stale until reconciled).
  ctx.admin.verb('source', (args) => {
    const { ns, name } = parseTarget(args.find((a) => !String(a).startsWith('-')));
    return st(ctx).queue.then(() => controller.reconcileSource(ctx, ns, name));
  });
  ctx.admin.verb('flux', () => ({ repo: ctx.state.flux.repo, repos: ctx.state.flux.repos, revision: fs.existsSync(ctx.state.flux.repo) ? 'main@sha1:' + controller.treeDigest(ctx.state.flux.repo) : null }));
}

// Like the real controllers: a changed reconcile.fluxcd.io/requestedAt annotation (what
// `flux reconcile` sets) triggers a reconcile; status.lastHandledReconcileAt records it.
function watchRequests(ctx) {
  const k8s = ctx.state.k8s;
  if (!k8s || typeof k8s.onChange !== 'function') return;
  const pending = new Set();
  k8s.onChange((ev) => {
    const o = ev && ev.object;
    if (!o || (ev.type !== 'ADDED' && ev.type !== 'MODIFIED')) return;
    if (o.kind !== 'Kustomization' && o.kind !== 'GitRepository') return;
    const req = (o.metadata.annotations || {})['reconcile.fluxcd.io/requestedAt'];
    if (!req || (o.status && o.status.lastHandledReconcileAt === req)) return;
    const key = o.kind + '/' + o.metadata.namespace + '/' + o.metadata.name + '@' + req;
    if (pending.has(key)) return;
    pending.add(key);
    setImmediate(() => {
      const ns = o.metadata.namespace;
      const name = o.metadata.name;
      const job = o.kind === 'Kustomization' ? serial(ctx, ns, name)
        : ctx.state.flux.queue.then(() => controller.reconcileSource(ctx, ns, name));
      job.catch((e) => ctx.log('requested reconcile of ' + key + ': ' + e.message)).finally(() => pending.delete(key));
    });
  });
}

async function afterStart(ctx) {
  watchRequests(ctx);
  // flux.bootstrap: true — start as a bootstrapped cluster: flux-system and the Kustomizations
  // it creates are reconciled once (a fresh lab leaves that to the test or the demo).
  if (ctx.config.flux && ctx.config.flux.bootstrap) {
    const first = await reconcileVerb(ctx, ['flux-system/flux-system']).catch((e) => {
      ctx.log('bootstrap reconcile: ' + e.message);
      return {};
    });
    if (first.ready) {
      const created = (first.changes || []).filter((c) => c.id.startsWith('Kustomization/') && c.id !== 'Kustomization/flux-system/flux-system');
      for (const c of created) await reconcileVerb(ctx, [c.id.slice('Kustomization/'.length)]);
    }
  }
}

async function applyScenario(doc, ctx) {
  configure(ctx, doc && doc.flux);
  return 'applied';
}

async function stop(ctx) {
  if (ctx.state.flux && ctx.state.flux.timer) clearInterval(ctx.state.flux.timer);
}

module.exports = { start, afterStart, applyScenario, stop };
