'use strict';
// Scenario files (YAML) with sections kubernetes:, azure:, flux:.
// At start-up the scenario becomes ctx.config; `labctl DIR scenario FILE`
// applies another one to a running lab through each module's
// applyScenario(doc, ctx), in module order.
const fs = require('node:fs');
const YAML = require('yaml');

function parseScenario(text, origin = 'scenario') {
  let doc;
  try { doc = YAML.parse(text) || {}; } catch (e) { throw new Error(`${origin}: invalid YAML: ${e.message}`); }
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${origin}: top level must be a mapping`);
  const known = ['kubernetes', 'azure', 'flux', 'name', 'description'];
  const unknown = Object.keys(doc).filter((k) => !known.includes(k));
  if (unknown.length) throw new Error(`${origin}: unknown section(s): ${unknown.join(', ')}`);
  return doc;
}

function loadScenario(file) {
  if (!file) return {};
  return parseScenario(fs.readFileSync(file, 'utf8'), file);
}

async function applyScenario(ctx, doc) {
  const results = {};
  for (const mod of ctx.modules) {
    if (typeof mod.exports.applyScenario === 'function') {
      results[mod.name] = (await mod.exports.applyScenario(doc, ctx)) || 'applied';
    }
  }
  return results;
}

function registerScenarioRoutes(ctx) {
  ctx.admin.route('POST', '/scenario', async (req) => applyScenario(ctx, parseScenario(req.text(), 'request body')));
  ctx.admin.route('GET', '/scenario', () => ctx.config);
}

module.exports = { parseScenario, loadScenario, applyScenario, registerScenarioRoutes };
