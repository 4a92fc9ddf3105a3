'use strict';
// The small shared HTTPS/JSON layer: servers on 127.0.0.1 with lab
// certificates, request bodies, JSON answers, and a regex router.
const https = require('node:https');

class HttpError extends Error {
  // body: optional object sent as JSON instead of {error: message}
  constructor(status, message, body, headers) {
    super(message);
    this.status = status;
    this.body = body;
    this.headers = headers || {};
  }
}

function readBody(req, limit = 8 * 1024 * 1024) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > limit) { reject(new HttpError(413, 'request body too large')); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendJson(res, status, obj, headers = {}) {
  const body = Buffer.from(JSON.stringify(obj));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': body.length, ...headers });
  res.end(body);
}

function sendText(res, status, text, type = 'text/plain; charset=utf-8', headers = {}) {
  const body = Buffer.from(text);
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': body.length, ...headers });
  res.end(body);
}

// Parsed request passed to route handlers.
async function describe(req) {
  const url = new URL(req.url, 'https://127.0.0.1');
  const body = ['GET', 'HEAD'].includes(req.method) ? Buffer.alloc(0) : await readBody(req);
  return {
    raw: req, method: req.method, path: url.pathname, query: url.searchParams,
    headers: req.headers, body,
    text: () => body.toString('utf8'),
    json: () => {
      try { return body.length ? JSON.parse(body.toString('utf8')) : {}; } catch (e) {
        throw new HttpError(400, `invalid JSON body: ${e.message}`);
      }
    },
  };
}

// Router: route(method, regex, handler). A handler gets (req, match) and
// returns a JSON-able value (200), or calls req.reply(status, obj), or throws
// HttpError. Returning undefined after writing to req.res itself is allowed.
class Router {
  constructor() { this.routes = []; }

  route(method, pattern, handler) {
    const re = typeof pattern === 'string' ? new RegExp(`^${pattern}$`) : pattern;
    this.routes.push({ method: method.toUpperCase(), re, handler });
  }

  find(method, path) {
    for (const r of this.routes) {
      if (r.method !== method && r.method !== '*') continue;
      const m = path.match(r.re);
      if (m) return { route: r, match: m };
    }
    return null;
  }

  async dispatch(req, res) {
    const found = this.find(req.method, req.path);
    if (!found) throw new HttpError(404, `no route for ${req.method} ${req.path}`);
    let reply = null;
    req.reply = (status, obj, headers) => { reply = { status, obj, headers }; };
    req.res = res;
    const value = await found.route.handler(req, found.match);
    if (res.headersSent || res.writableEnded) return;
    if (reply) sendJson(res, reply.status, reply.obj, reply.headers);
    else sendJson(res, 200, value === undefined ? {} : value);
  }
}

function sendError(res, err, log) {
  if (res.headersSent) { res.destroy(); return; }
  if (err instanceof HttpError) {
    sendJson(res, err.status, err.body || { error: err.message }, err.headers);
    return;
  }
  if (log) log(`internal error: ${err.stack || err}`);
  sendJson(res, 500, { error: String(err.message || err) });
}

// listen(ctx, name, tlsOptions, handler(req, res)) -> { server, port, url, hostport }
// tlsOptions is merged over { key, cert } issued by the lab CA for 127.0.0.1.
function listen(ctx, name, tlsOptions, handler) {
  const issued = ctx.ca.issue({ cn: `${name}.lab` });
  const server = https.createServer({ key: issued.keyPem, cert: issued.certPem, ...tlsOptions }, (req, res) => {
    Promise.resolve().then(() => handler(req, res)).catch((err) => sendError(res, err, ctx.log));
  });
  // Longer than Node clients keep idle sockets (5 s): the server must not close a
  // connection just as a client reuses it (ECONNRESET, "socket hang up").
  server.keepAliveTimeout = 65000;
  server.headersTimeout = 66000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = server.address().port;
      const hostport = `127.0.0.1:${port}`;
      ctx.servers.push(server);
      ctx.hosts.push(hostport);
      resolve({ server, port, hostport, url: `https://${hostport}` });
    });
  });
}

// A JSON server with a Router: serveRouter(ctx, name, router, opts)
function serveRouter(ctx, name, router, { tls = {}, before } = {}) {
  return listen(ctx, name, tls, async (rawReq, res) => {
    const req = await describe(rawReq);
    if (before) await before(req, res);
    await router.dispatch(req, res);
  });
}

module.exports = { HttpError, Router, readBody, sendJson, sendText, sendError, describe, listen, serveRouter };
