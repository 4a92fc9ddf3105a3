'use strict';
// The admin API: HTTPS on its own port, bearer token in DIR/admin-token.
// Modules register routes (admin.route) and labctl verbs (admin.verb).
const crypto = require('node:crypto');
const { Router, HttpError, serveRouter } = require('./http');

function createAdmin() {
  const router = new Router();
  const verbs = new Map();
  return {
    router,
    verbs,
    // handler(req, match) -> JSON value; see http.js Router
    route: (method, pattern, handler) => router.route(method, pattern, handler),
    // labctl DIR NAME ARGS... -> POST /verb/NAME {"args": [...]}; handler(args, req) -> JSON value
    verb: (name, handler) => verbs.set(name, handler),
  };
}

function checkToken(token) {
  const expected = Buffer.from(`Bearer ${token}`);
  return (req) => {
    const got = Buffer.from(req.headers.authorization || '');
    if (got.length !== expected.length || !crypto.timingSafeEqual(got, expected)) {
      throw new HttpError(401, 'admin token required');
    }
  };
}

function registerBuiltins(ctx) {
  const { admin } = ctx;
  admin.route('GET', '/healthz', () => ({ ok: true }));
  admin.route('GET', '/urls', () => ctx.urls);
  admin.route('GET', '/env', () => ctx.env);
  admin.route('GET', '/counters', () => ctx.counters.snapshot());
  admin.route('POST', '/counters/reset', () => ctx.counters.reset());
  admin.route('GET', '/verbs', () => [...admin.verbs.keys()].sort());
  admin.route('POST', '/verb/([A-Za-z0-9_.-]+)', async (req, m) => {
    const handler = admin.verbs.get(m[1]);
    if (!handler) throw new HttpError(404, `unknown verb "${m[1]}" (known: ${[...admin.verbs.keys()].sort().join(', ')})`);
    const { args = [] } = req.json();
    return handler(args, req);
  });
}

async function startAdmin(ctx) {
  const token = crypto.randomBytes(24).toString('hex');
  registerBuiltins(ctx);
  const srv = await serveRouter(ctx, 'admin', ctx.admin.router, { before: checkToken(token) });
  ctx.urls.admin = srv.url;
  return { token, url: srv.url };
}

module.exports = { createAdmin, startAdmin };
