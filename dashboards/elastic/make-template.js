#!/usr/bin/env node
// make-template.js — writes index-template.json from the fields the sensor
// produces and the ECS definitions.
//
// Usage (from the top of the repository, after `make check-ecs`):
//   NODE_PATH=tests/ecs/node_modules node dashboards/elastic/make-template.js \
//       build/ecs/fields.json > dashboards/elastic/index-template.json
//
// An ECS field gets its ECS type (match_only_text as text, which
// OpenSearch 2 also knows); a stubwatch.* field the type its values have
// in the events (tests/ecs/check.js --fields): text as keyword, RFC 3339
// text as date, addresses as ip, integers as long, fractions as double.
// Arrays of objects whose members belong together (a resolver's address
// and its verdict) are nested. tests/ecs/dashboards.js checks the result
// against the events, so a field that changes type fails there.
'use strict';

const fs = require('fs');
const { EcsFlat, } = require('@elastic/ecs/build/commonjs/ecs_flat.js');
const { EcsVersion } = require('@elastic/ecs/build/commonjs/index.js');

// Arrays of objects that a query must see one element at a time.
const NESTED = ['stubwatch.resolvers', 'stubwatch.encrypted.endpoints',
  'stubwatch.assigned_resolvers', 'stubwatch.network.segment_resolvers'];

const fields = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));

function ecsMapping(f) {
  switch (f.type) {
    case 'match_only_text': return { type: 'text' };
    case 'keyword': return { type: 'keyword', ignore_above: 1024 };
    case 'scaled_float': return { type: 'scaled_float', scaling_factor: f.scaling_factor || 1000 };
    default: return { type: f.type };
  }
}

function ownMapping(kind) {
  const k = kind.replace(/^array of /, '');
  switch (k) {
    case 'string': return { type: 'keyword', ignore_above: 1024 };
    case 'date': return { type: 'date' };
    case 'ip': return { type: 'ip' };
    case 'integer': return { type: 'long' };
    case 'number': return { type: 'double' };
    case 'boolean': return { type: 'boolean' };
    default: return null; // empty arrays, nulls, objects: nothing to map
  }
}

const properties = {};
function place(path, mapping) {
  const parts = path.split('.');
  let o = properties;
  let prefix = '';
  for (let i = 0; i < parts.length - 1; i++) {
    prefix = prefix ? prefix + '.' + parts[i] : parts[i];
    if (!o[parts[i]]) o[parts[i]] = { properties: {} };
    if (NESTED.includes(prefix)) o[parts[i]].type = 'nested';
    if (!o[parts[i]].properties) return; // a leaf already holds this name
    o = o[parts[i]].properties;
  }
  const last = parts[parts.length - 1];
  if (!o[last]) o[last] = mapping;
}

for (const path of Object.keys(fields).sort()) {
  const f = EcsFlat[path];
  let m;
  if (f !== undefined) m = f.type === 'object' || f.type === 'nested' ? null : ecsMapping(f);
  else m = ownMapping(fields[path]);
  if (m !== null) place(path, m);
}

const template = {
  index_patterns: ['stubwatch-*'],
  priority: 200,
  _meta: {
    description: 'stubwatch events (ECS ' + EcsVersion + ' and stubwatch.*), Elasticsearch 8 and OpenSearch 2',
    ecs_version: EcsVersion,
  },
  template: {
    settings: { 'index.mapping.total_fields.limit': 2000 },
    mappings: {
      // A field a later sensor adds: text as keyword rather than text plus
      // keyword, so it can be aggregated at once.
      dynamic_templates: [
        { stubwatch_strings: { path_match: 'stubwatch.*', match_mapping_type: 'string',
                               mapping: { type: 'keyword', ignore_above: 1024 } } },
      ],
      properties,
    },
  },
};
process.stdout.write(JSON.stringify(template, null, 1) + '\n');
