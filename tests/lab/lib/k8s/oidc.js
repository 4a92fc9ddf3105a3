'use strict';
// The cluster's public OIDC issuer (as AKS hosts it, apart from the API
// server): https://127.0.0.1:PORT/<tenant>/<cluster id>/ with discovery + JWKS.
const { Router, serveRouter } = require('../http');

async function startIssuerServer(ctx, pathPrefix, getIssuer) {
  const router = new Router();
  const base = pathPrefix.replace(/\/$/, '');
  router.route('GET', `${base}/.well-known/openid-configuration`, () => {
    ctx.counters.inc('oidc.discovery');
    const issuer = getIssuer();
    return issuer.discovery(`${issuer.issuer}openid/v1/jwks`);
  });
  router.route('GET', `${base}/openid/v1/jwks`, () => {
    ctx.counters.inc('oidc.jwks');
    return getIssuer().jwks();
  });
  return serveRouter(ctx, 'oidc', router);
}

module.exports = { startIssuerServer };
