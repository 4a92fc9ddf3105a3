'use strict';
// Label and field selectors as the API server parses them.
const { badRequest } = require('./errors');

// Splits on commas that are not inside parentheses.
function splitTerms(text) {
  const terms = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) { terms.push(cur.trim()); cur = ''; continue; }
    cur += ch;
  }
  if (cur.trim() || terms.length) terms.push(cur.trim());
  return terms;
}

const KEY_RE = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

function checkKey(key) {
  if (!KEY_RE.test(key)) throw badRequest(`unable to parse requirement: invalid label key "${key}"`);
  return key;
}

function parseSet(text) {
  const m = text.match(/^\((.*)\)$/);
  if (!m) throw badRequest(`unable to parse requirement: found '${text}', expected: '('`);
  return m[1].split(',').map((v) => v.trim()).filter((v) => v !== '');
}

function parseLabelTerm(term) {
  let m = term.match(/^!\s*(\S+)$/);
  if (m) return { key: checkKey(m[1]), op: '!exists' };
  m = term.match(/^(\S+)\s+(notin|in)\s+(\(.*\))$/);
  if (m) return { key: checkKey(m[1]), op: m[2], values: parseSet(m[3]) };
  m = term.match(/^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/);
  if (m) return { key: checkKey(m[1]), op: m[2] === '!=' ? '!=' : '=', values: [m[3]] };
  if (/^[^=!\s()]+$/.test(term)) return { key: checkKey(term), op: 'exists' };
  throw badRequest(`unable to parse requirement: found '${term}', expected: in, notin, =, ==, !=, gt, lt`);
}

function parseLabelSelector(text) {
  if (!text) return [];
  return splitTerms(text).map((t) => {
    if (!t) throw badRequest("unable to parse requirement: found '', expected: identifier");
    return parseLabelTerm(t);
  });
}

function matchTerm(labels, t) {
  const has = Object.prototype.hasOwnProperty.call(labels, t.key);
  const v = labels[t.key];
  switch (t.op) {
    case 'exists': return has;
    case '!exists': return !has;
    case '=': return has && v === t.values[0];
    case '!=': return !has || v !== t.values[0];
    case 'in': return has && t.values.includes(v);
    case 'notin': return !has || !t.values.includes(v);
    default: return false;
  }
}

function matchLabels(selector, labels = {}) {
  return selector.every((t) => matchTerm(labels || {}, t));
}

// matchLabels/matchExpressions (metav1.LabelSelector) against labels.
function matchLabelSelectorObject(sel, labels = {}) {
  if (!sel) return true;
  labels = labels || {};
  for (const [k, v] of Object.entries(sel.matchLabels || {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions || []) {
    const t = { key: e.key, op: { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!exists' }[e.operator], values: e.values || [] };
    if (!matchTerm(labels, t)) return false;
  }
  return true;
}

const COMMON_FIELDS = {
  'metadata.name': (o) => o.metadata.name,
  'metadata.namespace': (o) => o.metadata.namespace || '',
};

const EXTRA_FIELDS = {
  '/pods': {
    'spec.nodeName': (o) => o.spec?.nodeName || '',
    'spec.serviceAccountName': (o) => o.spec?.serviceAccountName || '',
    'spec.restartPolicy': (o) => o.spec?.restartPolicy || '',
    'status.phase': (o) => o.status?.phase || '',
    'status.podIP': (o) => o.status?.podIP || '',
  },
  '/secrets': { type: (o) => o.type || '' },
  '/events': {
    'involvedObject.kind': (o) => o.involvedObject?.kind || '',
    'involvedObject.name': (o) => o.involvedObject?.name || '',
    'involvedObject.namespace': (o) => o.involvedObject?.namespace || '',
    'involvedObject.uid': (o) => o.involvedObject?.uid || '',
    reason: (o) => o.reason || '',
    type: (o) => o.type || '',
  },
  '/namespaces': { 'status.phase': (o) => o.status?.phase || '' },
};

function parseFieldSelector(text, res) {
  if (!text) return [];
  const fields = { ...COMMON_FIELDS, ...(EXTRA_FIELDS[res.key] || {}) };
  return splitTerms(text).map((term) => {
    const m = term.match(/^([^=!]+)(==|=|!=)(.*)$/);
    if (!m) throw badRequest(`invalid selector: '${text}'; can't understand '${term}'`);
    const field = m[1].trim();
    if (!fields[field]) {
      if (!res.builtin) {
        throw badRequest(`"${field}" is not a known field selector: only "metadata.name", "metadata.namespace"`);
      }
      throw badRequest(`field label not supported: ${field}`);
    }
    return { get: fields[field], neg: m[2] === '!=', value: m[3] };
  });
}

function matchFields(selector, obj) {
  return selector.every((t) => (t.get(obj) === t.value) !== t.neg);
}

module.exports = { parseLabelSelector, matchLabels, matchLabelSelectorObject, parseFieldSelector, matchFields };
