'use strict';
// WATCH: a stream of {"type": ..., "object": ...} JSON lines.
const S = require('./selectors');
const { toTable } = require('./table');

function matcher(res, ns, q) {
  const labels = S.parseLabelSelector(q.get('labelSelector'));
  const fields = S.parseFieldSelector(q.get('fieldSelector'), res);
  return (o) => (!res.namespaced || !ns || o.metadata.namespace === ns)
    && S.matchLabels(labels, o.metadata.labels) && S.matchFields(fields, o);
}

function expiredEvent(rv, current) {
  return {
    type: 'ERROR',
    object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `too old resource version: ${rv} (${current})`, reason: 'Expired', code: 410 },
  };
}

// Serves a watch on res.raw / res (node response). asTable: convert objects.
function serveWatch({ store, api }, res, ns, req, asTable) {
  const q = req.query;
  const match = matcher(res, ns, q);
  const out = req.res;
  out.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
  out.flushHeaders(); // clients wait for the headers before they can give up on a watch
  const versioned = (o) => (o.apiVersion === res.apiVersion ? o : { ...o, apiVersion: res.apiVersion });
  const encode = (obj) => { const o = versioned(obj); return asTable ? toTable(res, [o], { resourceVersion: o.metadata.resourceVersion }, q.get('includeObject') || 'Metadata') : o; };
  const send = (type, o) => out.write(`${JSON.stringify({ type, object: type === 'ERROR' ? o : encode(o) })}\n`);
  const rv = q.get('resourceVersion');
  let unsubscribe = () => {};
  const close = () => { unsubscribe(); if (!out.writableEnded) out.end(); };
  if (!rv || rv === '0') {
    for (const o of api.list(res, ns, {}).items.filter(match)) send('ADDED', o);
  } else {
    const past = store.eventsSince(rv);
    if (!past) { out.write(`${JSON.stringify(expiredEvent(rv, store.currentRV()))}\n`); close(); return; }
    for (const e of past) if (e.key === res.key && match(e.object)) send(e.type, e.object);
  }
  unsubscribe = store.subscribe((e) => { if (e.key === res.key && match(e.object)) send(e.type, e.object); });
  const timeout = Math.min(Number(q.get('timeoutSeconds')) || 1800, 3600);
  const timer = setTimeout(close, timeout * 1000);
  timer.unref();
  req.raw.on('close', () => { clearTimeout(timer); unsubscribe(); });
}

module.exports = { serveWatch };
