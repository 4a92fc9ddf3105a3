'use strict';
// The azure_kv master key: Key Vault `decrypt` (RSA-OAEP-256) over HTTPS with a bearer token.
const https = require('node:https');

function post(url, body, token, ca) {
  return new Promise((resolve, reject) => {
    const data = Buffer.from(JSON.stringify(body));
    const req = https.request(url, {
      method: 'POST', ca, timeout: 30000,
      headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json', 'Content-Length': data.length, Accept: 'application/json' },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json = null;
        try { json = JSON.parse(text); } catch (e) { json = null; }
        resolve({ status: res.statusCode, json, text });
      });
    });
    req.on('timeout', () => req.destroy(new Error('Key Vault request timed out')));
    req.on('error', reject);
    req.end(data);
  });
}

// decrypter({getToken: async () => token, ca, apiVersion}) -> azureDecrypt callback for sops.decrypt
function decrypter({ getToken, ca, apiVersion = '7.4' }) {
  return async ({ vaultUrl, name, version, enc }) => {
    const url = vaultUrl.replace(/\/$/, '') + '/keys/' + encodeURIComponent(name) + (version ? '/' + version : '') +
      '/decrypt?api-version=' + apiVersion;
    const res = await post(url, { alg: 'RSA-OAEP-256', value: enc }, await getToken(), ca);
    if (res.status !== 200 || !res.json || typeof res.json.value !== 'string') {
      const e = res.json && res.json.error ? res.json.error : { code: String(res.status), message: res.text };
      throw new Error('Key Vault decrypt: ' + res.status + ' ' + e.code + ': ' + e.message);
    }
    return Buffer.from(res.json.value, 'base64url');
  };
}

module.exports = { decrypter };
