'use strict';
// Compact JWS (RS256/PS256) signing, verification and decoding.
const crypto = require('node:crypto');

const b64u = (buf) => Buffer.from(buf).toString('base64url');
const fromB64u = (s) => Buffer.from(s, 'base64url');

function sign(header, payload, privateKey) {
  const h = b64u(JSON.stringify(header));
  const p = b64u(JSON.stringify(payload));
  const input = h + '.' + p;
  let sig;
  if (header.alg === 'PS256') {
    sig = crypto.sign('sha256', Buffer.from(input), {
      key: privateKey, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32,
    });
  } else {
    sig = crypto.sign('sha256', Buffer.from(input), privateKey);
  }
  return input + '.' + b64u(sig);
}

class JwtError extends Error {}

// decode without verification: {header, payload, signature, input}
function decode(token) {
  const parts = String(token || '').trim().split('.');
  if (parts.length !== 3 || !parts[0] || !parts[1]) throw new JwtError('JWT is not in compact serialization');
  let header;
  let payload;
  try {
    header = JSON.parse(fromB64u(parts[0]).toString('utf8'));
    payload = JSON.parse(fromB64u(parts[1]).toString('utf8'));
  } catch (e) {
    throw new JwtError('JWT segments are not base64url JSON');
  }
  if (!header || typeof header !== 'object' || !payload || typeof payload !== 'object') {
    throw new JwtError('JWT header or payload is not an object');
  }
  return { header, payload, signature: fromB64u(parts[2]), input: parts[0] + '.' + parts[1] };
}

function verifySignature(decoded, publicKey) {
  const data = Buffer.from(decoded.input);
  if (decoded.header.alg === 'RS256') return crypto.verify('sha256', data, publicKey, decoded.signature);
  if (decoded.header.alg === 'PS256') {
    return crypto.verify('sha256', data, {
      key: publicKey, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: crypto.constants.RSA_PSS_SALTLEN_AUTO,
    }, decoded.signature);
  }
  return false;
}

function jwkOf(publicKey, kid) {
  const jwk = publicKey.export({ format: 'jwk' });
  return { kty: 'RSA', use: 'sig', kid, n: jwk.n, e: jwk.e };
}

module.exports = { sign, decode, verifySignature, jwkOf, JwtError, b64u, fromB64u };
