'use strict';
// Container logs (GET .../pods/NAME/log): lines the lab's "kubelet" and other
// modules append per pod and container.
const E = require('./errors');

function createPodLogs() {
  const logs = new Map(); // "ns/pod/container" -> [lines]

  function append(ns, pod, container, line) {
    const key = `${ns}/${pod}/${container}`;
    if (!logs.has(key)) logs.set(key, []);
    const lines = logs.get(key);
    lines.push(...String(line).replace(/\n$/, '').split('\n'));
    if (lines.length > 5000) lines.splice(0, lines.length - 5000);
  }

  function chooseContainer(pod, requested) {
    const names = (pod.spec.containers || []).map((c) => c.name);
    if (!requested) {
      if (names.length === 1) return names[0];
      throw E.badRequest(`a container name must be specified for pod ${pod.metadata.name}, choose one of: [${names.join(' ')}]`);
    }
    const all = [...names, ...(pod.spec.initContainers || []).map((c) => c.name)];
    if (!all.includes(requested)) throw E.badRequest(`container ${requested} is not valid for pod ${pod.metadata.name}`);
    return requested;
  }

  // query: URLSearchParams with container, tailLines
  function read(pod, query) {
    const container = chooseContainer(pod, query.get('container'));
    let lines = logs.get(`${pod.metadata.namespace}/${pod.metadata.name}/${container}`) || [];
    const tail = query.get('tailLines');
    if (tail !== null) lines = Number(tail) > 0 ? lines.slice(-Number(tail)) : [];
    return lines.length ? `${lines.join('\n')}\n` : '';
  }

  return { append, read };
}

module.exports = { createPodLogs };
