'use strict';
// Request counters: counters.inc('k8s.list.secrets'); snapshot(); reset().

function createCounters() {
  let values = {};
  return {
    inc(name, n = 1) { values[name] = (values[name] || 0) + n; },
    get(name) { return values[name] || 0; },
    snapshot() { return { ...values }; },
    reset() { const old = values; values = {}; return old; },
  };
}

module.exports = { createCounters };
