'use strict';
// The lab's certificate authority: made at start-up, issues server
// certificates for 127.0.0.1 and client certificates for kubeconfig users.
const crypto = require('node:crypto');
const net = require('node:net');
const der = require('./asn1');

const OID = {
  cn: '2.5.4.3', org: '2.5.4.10',
  ecPublicKey: '1.2.840.10045.2.1', ecdsaSha256: '1.2.840.10045.4.3.2',
  rsaSha256: '1.2.840.113549.1.1.11',
  basicConstraints: '2.5.29.19', keyUsage: '2.5.29.15', extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17', subjectKeyId: '2.5.29.14', authorityKeyId: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1', clientAuth: '1.3.6.1.5.5.7.3.2',
};

const KEY_USAGE = { digitalSignature: 0x80, keyEncipherment: 0x20, keyCertSign: 0x04, cRLSign: 0x02 };

function makeKey(type) {
  if (type === 'rsa') return crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

function encodeName({ cn, orgs = [] }) {
  const rdns = orgs.map((o) => der.set(der.seq(der.oid(OID.org), der.utf8(o))));
  rdns.push(der.set(der.seq(der.oid(OID.cn), der.utf8(cn))));
  return der.seq(...rdns);
}

function keyUsageBits(flags) {
  const byte = flags.reduce((acc, f) => acc | KEY_USAGE[f], 0);
  let unused = 0;
  while (unused < 7 && !(byte & (1 << unused))) unused++;
  return der.tlv(0x03, Buffer.from([unused, byte]));
}

function extension(id, critical, valueDer) {
  const parts = [der.oid(id)];
  if (critical) parts.push(der.bool(true));
  parts.push(der.octets(valueDer));
  return der.seq(...parts);
}

function altNames(dns, ips) {
  const names = dns.map((d) => der.implicitPrim(2, Buffer.from(d, 'ascii')));
  for (const ip of ips) {
    const bytes = net.isIPv4(ip) ? Buffer.from(ip.split('.').map(Number)) : ipv6Bytes(ip);
    names.push(der.implicitPrim(7, bytes));
  }
  return der.seq(...names);
}

function ipv6Bytes(ip) {
  const [head, tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return Buffer.from(groups.flatMap((g) => { const v = parseInt(g, 16); return [v >> 8, v & 0xff]; }));
}

function keyId(spki) {
  return crypto.createHash('sha1').update(spki).digest();
}

function signatureAlgorithm(key) {
  if (key.asymmetricKeyType === 'rsa') return der.seq(der.oid(OID.rsaSha256), der.nul());
  return der.seq(der.oid(OID.ecdsaSha256));
}

function buildExtensions(o, spki, issuerSpki) {
  const exts = [
    extension(OID.basicConstraints, true, o.isCA ? der.seq(der.bool(true)) : der.seq()),
    extension(OID.keyUsage, true, keyUsageBits(o.keyUsage)),
    extension(OID.subjectKeyId, false, der.octets(keyId(spki))),
    extension(OID.authorityKeyId, false, der.seq(der.implicitPrim(0, keyId(issuerSpki)))),
  ];
  if (o.extKeyUsage.length) {
    exts.push(extension(OID.extKeyUsage, false, der.seq(...o.extKeyUsage.map((u) => der.oid(OID[u])))));
  }
  if (o.dns.length || o.ips.length) exts.push(extension(OID.subjectAltName, false, altNames(o.dns, o.ips)));
  return der.explicit(3, der.seq(...exts));
}

function buildCertificate(o) {
  const spki = o.publicKey.export({ type: 'spki', format: 'der' });
  const issuerSpki = o.issuerPublicKey.export({ type: 'spki', format: 'der' });
  const serial = crypto.randomBytes(16);
  serial[0] &= 0x7f;
  const sigAlg = signatureAlgorithm(o.issuerKey);
  const notBefore = new Date(Date.now() - 5 * 60 * 1000);
  const notAfter = new Date(Date.now() + o.days * 86400 * 1000);
  const tbs = der.seq(
    der.explicit(0, der.integer(2)), der.integer(serial), sigAlg,
    encodeName(o.issuerName), der.seq(der.time(notBefore), der.time(notAfter)),
    encodeName(o.subject), spki, buildExtensions(o, spki, issuerSpki));
  const signature = crypto.sign('sha256', tbs, o.issuerKey);
  const cert = der.seq(tbs, sigAlg, der.bitString(signature));
  return toPem('CERTIFICATE', cert);
}

function toPem(label, buf) {
  const b64 = buf.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

const keyPem = (key) => key.export({ type: 'pkcs8', format: 'pem' });

// createCA() -> { certPem, issue(options) }
// issue({ cn, orgs, dns, ips, usage: 'server'|'client'|'both', keyType: 'ec'|'rsa', days })
//   -> { certPem, keyPem, certificate: X509Certificate }
function createCA(cn = 'fluxwi-lab-ca') {
  const { publicKey, privateKey } = makeKey('ec');
  const name = { cn, orgs: ['fluxwi lab'] };
  const certPem = buildCertificate({
    subject: name, issuerName: name, publicKey, issuerPublicKey: publicKey, issuerKey: privateKey,
    isCA: true, keyUsage: ['digitalSignature', 'keyCertSign', 'cRLSign'], extKeyUsage: [],
    dns: [], ips: [], days: 30,
  });
  function issue(opts) {
    const keys = makeKey(opts.keyType || 'ec');
    const usage = opts.usage || 'server';
    const extKeyUsage = usage === 'both' ? ['serverAuth', 'clientAuth'] : [usage === 'server' ? 'serverAuth' : 'clientAuth'];
    const keyUsage = keys.privateKey.asymmetricKeyType === 'rsa' ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature'];
    const pem = buildCertificate({
      subject: { cn: opts.cn, orgs: opts.orgs || [] }, issuerName: name,
      publicKey: keys.publicKey, issuerPublicKey: publicKey, issuerKey: privateKey,
      isCA: false, keyUsage, extKeyUsage,
      dns: opts.dns || (usage === 'client' ? [] : ['localhost']),
      ips: opts.ips || (usage === 'client' ? [] : ['127.0.0.1']),
      days: opts.days || 7,
    });
    return { certPem: pem, keyPem: keyPem(keys.privateKey), privateKey: keys.privateKey, certificate: new crypto.X509Certificate(pem) };
  }
  return { certPem, issue, certificate: new crypto.X509Certificate(certPem) };
}

module.exports = { createCA, toPem };
