#!/usr/bin/env node
// dashboards.js — what dashboards/ names must exist in the events.
//
// Usage: node tests/ecs/dashboards.js FIELDS.json
//
// FIELDS.json is what check.js --fields wrote: every field the sensor
// produced on the pcap cases and the demo, with the type of its values.
// Checks that
//   - every field the index template maps exists in the events, with
//     values the template's type takes (a keyword holds text, a long an
//     integer, ip an address, date RFC 3339 time, nested an array of
//     objects ...), and every ECS field of the events is mapped there: the
//     demo's events load into the template without a mapping conflict;
//   - every field the Kibana objects name (columns, sort, aggregations,
//     queries) and the Filebeat and Vector examples route on exists in the
//     events and is mapped by the template (explicitly or by its dynamic
//     template), and an aggregated field is not text.
'use strict';

const fs = require('fs');
const path = require('path');

const ROOT = path.join(__dirname, '..', '..');
const DIR = path.join(ROOT, 'dashboards', 'elastic');
const fields = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const problems = [];

// Template type -> the value types (check.js --fields) it accepts.
const ACCEPTS = {
  keyword: ['string', 'date', 'ip'],
  text: ['string', 'date', 'ip'],
  long: ['integer'],
  double: ['integer', 'number'],
  float: ['integer', 'number'],
  scaled_float: ['integer', 'number'],
  boolean: ['boolean'],
  ip: ['ip'],
  date: ['date'],
};

// path -> mapping of every leaf, and the nested paths.
const mapped = new Map();
const nested = new Set();
function walk(props, prefix) {
  for (const [k, m] of Object.entries(props)) {
    const p = prefix ? prefix + '.' + k : k;
    if (m.type === 'nested') nested.add(p);
    if (m.properties) walk(m.properties, p);
    else mapped.set(p, m);
  }
}
const template = JSON.parse(fs.readFileSync(path.join(DIR, 'index-template.json'), 'utf8'));
walk(template.template.mappings.properties, '');

for (const [p, m] of mapped) {
  const got = fields[p];
  if (got === undefined) {
    problems.push('template maps ' + p + ', which no event has');
    continue;
  }
  const base = got.replace(/^array of /, '');
  if (base === 'empty' || base === 'null') continue;
  if (!(ACCEPTS[m.type] || []).includes(base))
    problems.push('template maps ' + p + ' as ' + m.type + ', events hold ' + got);
}
for (const p of nested)
  if (fields[p] !== 'array of object')
    problems.push('template maps ' + p + ' as nested, events hold ' + (fields[p] || 'nothing'));

// Every event field with a value is mapped explicitly, or (stubwatch.*
// text) by the dynamic template; numbers and booleans must be explicit so
// that the first document cannot decide their type.
for (const [p, t] of Object.entries(fields)) {
  const base = t.replace(/^array of /, '');
  if (['empty', 'null', 'object'].includes(base) || mapped.has(p)) continue;
  if (!(p.startsWith('stubwatch.') && base === 'string'))
    problems.push('events have ' + p + ' (' + t + '), which the template does not map');
}

// What a field name resolves to in the template: its mapping, or the
// dynamic keyword of stubwatch.* text.
function mappingOf(p) {
  if (mapped.has(p)) return mapped.get(p);
  if (p.startsWith('stubwatch.') && fields[p] !== undefined &&
      fields[p].replace(/^array of /, '') === 'string')
    return { type: 'keyword' };
  return null;
}

function need(where, p, aggregated) {
  if (fields[p] === undefined) {
    problems.push(where + ' names ' + p + ', which no event has');
    return;
  }
  const m = mappingOf(p);
  if (m === null) problems.push(where + ' names ' + p + ', which the template does not map');
  else if (aggregated && m.type === 'text')
    problems.push(where + ' aggregates ' + p + ', a text field');
}

// KQL field names: `name :` (values are quoted in the shipped queries).
function kqlFields(q) {
  const out = [];
  for (const m of q.replace(/"[^"]*"/g, '""').matchAll(/([A-Za-z@_][\w.@]*)\s*:/g)) out.push(m[1]);
  return out;
}

const objects = fs.readFileSync(path.join(DIR, 'kibana-objects.ndjson'), 'utf8')
  .split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
const kinds = new Set(objects.map((o) => o.type));
for (const k of ['index-pattern', 'search', 'visualization', 'dashboard'])
  if (!kinds.has(k)) problems.push('kibana-objects.ndjson has no ' + k);
const ids = new Set(objects.map((o) => o.type + ':' + o.id));
let named = 0;
for (const o of objects) {
  const where = o.type + ' ' + o.id;
  const a = o.attributes;
  for (const r of o.references || [])
    if (!ids.has(r.type + ':' + r.id)) problems.push(where + ' refers to a missing ' + r.type + ' ' + r.id);
  if (o.type === 'index-pattern') {
    need(where, a.timeFieldName, false);
    named++;
  }
  for (const c of a.columns || []) { need(where, c, false); named++; }
  for (const s of a.sort || []) { need(where, s[0], false); named++; }
  const src = a.kibanaSavedObjectMeta && a.kibanaSavedObjectMeta.searchSourceJSON;
  if (src) for (const f of kqlFields(JSON.parse(src).query.query)) { need(where, f, false); named++; }
  if (a.visState) {
    for (const g of JSON.parse(a.visState).aggs) {
      if (g.params.field) { need(where, g.params.field, true); named++; }
      if (g.params.sortField) { need(where, g.params.sortField, true); named++; }
    }
  }
}

// The shippers' index names route on event.dataset.
for (const [file, rx] of [['filebeat.yml', /%\{\[([\w.@]+)\]\}/g], ['vector.toml', /\{\{\s*\.?([\w.@]+)\s*\}\}/g]]) {
  const text = fs.readFileSync(path.join(DIR, file), 'utf8');
  const found = [...text.matchAll(rx)].map((m) => m[1]);
  if (found.length === 0) problems.push(file + ' names no event field to route on');
  for (const f of found) { need(file, f, false); named++; }
}

if (problems.length > 0) {
  for (const p of problems.slice(0, 60)) console.log('  ' + p);
  console.log('dashboards: ' + problems.length + ' problems');
  process.exit(1);
}
console.log('dashboards: the template maps ' + mapped.size + ' fields (' + nested.size +
            ' nested), all as the events hold them; ' + named +
            ' field names in the Kibana objects and shippers, all in the events');
