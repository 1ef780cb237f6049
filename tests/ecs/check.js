#!/usr/bin/env node
// check.js — every field of every event against the Elastic Common Schema.
//
// Usage: node tests/ecs/check.js [--fields OUT.json] EVENTS.json...
//
// The ECS field definitions come from the pinned @elastic/ecs package
// (package.json, package-lock.json; `npm ci` installs them). For each
// JSON line of each file:
//   - ecs.version is the ECS release of the package, and @timestamp,
//     event.kind, event.module, event.dataset, event.category[] and
//     event.type[] are present;
//   - a field ECS defines has ECS's type (keyword: text, long: an integer,
//     ip: an address, date: RFC 3339, boolean ...), is an array only where
//     ECS says so, matches ECS's pattern (MACs as A4-83-E7-50-00-08) and
//     holds one of ECS's allowed (or expected) values;
//     event.type values are ones ECS expects for the event's categories;
//   - every other field is under stubwatch.*;
//   - no field changes type between events (an integer here and a
//     fractional number there, text here and a number there).
// Numbers are told apart as written: "5" is an integer, "5.0" is not.
// With --fields, writes {path: type} of every field seen (for the
// dashboards' check): integer, number, boolean, string, date (RFC 3339
// text), ip, "array of" one of those, or "array of object". Exits 1 with the first problems listed.
'use strict';

const fs = require('fs');
const net = require('net');
const path = require('path');

let EcsFlat, EcsVersion;
try {
  ({ EcsFlat } = require('@elastic/ecs/build/commonjs/ecs_flat.js'));
  ({ EcsVersion } = require('@elastic/ecs/build/commonjs/index.js'));
} catch (e) {
  console.error('ecs: the ECS definitions are not installed: run `npm ci --prefix tests/ecs` (' +
                e.message + ')');
  process.exit(1);
}

// A number as written in the JSON text.
class Num {
  constructor(text) {
    this.text = text;
    this.integer = /^-?\d+$/.test(text);
  }
}

// A JSON parser that keeps numbers as Num (JSON.parse forgets "5.0").
function parse(text) {
  let i = 0;
  const ws = () => { while (i < text.length && ' \t\r\n'.includes(text[i])) i++; };
  const fail = (what) => { throw new Error(what + ' at offset ' + i); };
  function value() {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const o = {};
      ws();
      if (text[i] === '}') { i++; return o; }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('key expected');
        const k = str();
        ws();
        if (text[i++] !== ':') fail('colon expected');
        if (Object.prototype.hasOwnProperty.call(o, k)) fail('duplicate key ' + k);
        o[k] = value();
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return o; }
        fail('comma or brace expected');
      }
    }
    if (c === '[') {
      i++;
      const a = [];
      ws();
      if (text[i] === ']') { i++; return a; }
      for (;;) {
        a.push(value());
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return a; }
        fail('comma or bracket expected');
      }
    }
    if (c === '"') return str();
    const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 64));
    if (m) { i += m[0].length; return new Num(m[0]); }
    for (const [w, v] of [['true', true], ['false', false], ['null', null]])
      if (text.startsWith(w, i)) { i += w.length; return v; }
    fail('value expected');
  }
  function str() {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length) fail('unterminated string');
    i++;
    return JSON.parse(text.slice(start, i));
  }
  const v = value();
  ws();
  if (i !== text.length) fail('trailing text');
  return v;
}

// An empty array, as a leaf.
const EMPTY = Symbol('empty');

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

// The JSON type of a leaf as the consistency check sees it; text that is
// all RFC 3339 times or all addresses is told apart for the field list
// (a date or ip mapping), but is text for the check.
function kind(v) {
  if (v === null) return 'null';
  if (v === EMPTY) return 'empty';
  if (v instanceof Num) return v.integer ? 'integer' : 'number';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'string')
    return RFC3339.test(v) ? 'date' : net.isIP(v) !== 0 ? 'ip' : 'string';
  return typeof v === 'object' ? 'object' : typeof v;
}

// Whether value v (a leaf, not an array) fits ECS type t.
function fits(t, v) {
  switch (t) {
    case 'keyword': case 'constant_keyword': case 'wildcard': case 'text':
    case 'match_only_text':
      return typeof v === 'string';
    case 'long': case 'integer': case 'short': case 'byte': case 'unsigned_long':
      return v instanceof Num && v.integer;
    case 'float': case 'double': case 'scaled_float': case 'half_float':
      return v instanceof Num;
    case 'boolean':
      return typeof v === 'boolean';
    case 'ip':
      return typeof v === 'string' && net.isIP(v) !== 0;
    case 'date':
      return typeof v === 'string' && RFC3339.test(v) && !isNaN(Date.parse(v));
    case 'object': case 'flattened': case 'nested':
      return v !== null && typeof v === 'object' && !(v instanceof Num);
    default:
      return false;
  }
}

const isArrayField = (f) => (f.normalize || []).includes('array');

const problems = [];
const types = new Map();   // path -> Map(kind -> first place seen)
const objectArrays = new Set(); // paths of arrays of objects
let nEvents = 0;
let nFields = 0;

function problem(where, text) {
  if (problems.length < 200) problems.push(where + ': ' + text);
}

// Leaves of an event: [path, value, inArray, arrayParent] where arrayParent
// is the path of the nearest enclosing array of objects.
function leaves(o, prefix, out, arrayParent) {
  for (const [k, v] of Object.entries(o)) {
    const p = prefix ? prefix + '.' + k : k;
    if (Array.isArray(v)) {
      if (v.length === 0) { out.push([p, EMPTY, true, arrayParent]); continue; }
      for (const e of v) {
        if (e !== null && typeof e === 'object' && !(e instanceof Num) && !Array.isArray(e)) {
          objectArrays.add(p);
          leaves(e, p, out, p);
        }
        else
          out.push([p, e, true, arrayParent]);
      }
    } else if (v !== null && typeof v === 'object' && !(v instanceof Num)) {
      if (Object.keys(v).length === 0) out.push([p, v, false, arrayParent]);
      else leaves(v, p, out, arrayParent);
    } else {
      out.push([p, v, false, arrayParent]);
    }
  }
}

function str(v) {
  return v instanceof Num ? v.text : JSON.stringify(v);
}

function checkEvent(ev, where) {
  const get = (p) => p.split('.').reduce((o, k) => (o && typeof o === 'object' ? o[k] : undefined), ev);
  if (!ev.ecs || ev.ecs.version !== EcsVersion)
    problem(where, 'ecs.version is ' + JSON.stringify(ev.ecs && ev.ecs.version) + ', not ' + EcsVersion);
  for (const p of ['@timestamp', 'event.kind', 'event.module', 'event.dataset'])
    if (typeof get(p) !== 'string') problem(where, p + ' missing');
  const cats = get('event.category');
  const typ = get('event.type');
  if (!Array.isArray(cats) || cats.length === 0) problem(where, 'event.category[] missing');
  if (!Array.isArray(typ) || typ.length === 0) problem(where, 'event.type[] missing');
  if (Array.isArray(cats) && Array.isArray(typ)) {
    const allowed = EcsFlat['event.category'].allowed_values;
    const expected = new Set();
    for (const c of cats) {
      const a = allowed.find((x) => x.name === c);
      for (const t of (a && a.expected_event_types) || []) expected.add(t);
    }
    for (const t of typ)
      if (!expected.has(t))
        problem(where, 'event.type ' + t + ' is not one ECS expects for categories ' + cats.join(','));
  }
  const out = [];
  leaves(ev, '', out, null);
  for (const [p, v, inArray, arrayParent] of out) {
    nFields++;
    const k = (inArray ? 'array of ' : '') + kind(v);
    if (!types.has(p)) types.set(p, new Map());
    const seen = types.get(p);
    if (!seen.has(k)) seen.set(k, where);
    if (p.startsWith('stubwatch.')) continue;
    const f = EcsFlat[p];
    if (f === undefined) {
      problem(where, p + ' is neither an ECS field nor under stubwatch.*');
      continue;
    }
    if (v === null) {
      problem(where, p + ' is null (leave an unknown ECS field out)');
      continue;
    }
    if (inArray && !isArrayField(f)) problem(where, p + ' is an array; ECS has one value');
    if (arrayParent !== null && !isArrayField(EcsFlat[arrayParent] || {}))
      problem(where, p + ' is inside an array of objects that ECS does not define as one');
    if (v === EMPTY || Array.isArray(v)) continue; // nothing more to check
    if (!fits(f.type, v)) {
      problem(where, p + ' = ' + str(v) + ' is not of ECS type ' + f.type);
      continue;
    }
    if (f.pattern && !new RegExp(f.pattern).test(v))
      problem(where, p + ' = ' + str(v) + ' does not match ECS\'s pattern ' + f.pattern);
    if (f.allowed_values && !f.allowed_values.some((a) => a.name === v))
      problem(where, p + ' = ' + str(v) + ' is not an allowed value');
    if (f.expected_values && !f.expected_values.includes(v))
      problem(where, p + ' = ' + str(v) + ' is not an expected value');
  }
}

function main() {
  const args = process.argv.slice(2);
  let fieldsOut = null;
  if (args[0] === '--fields') {
    fieldsOut = args[1];
    args.splice(0, 2);
  }
  if (args.length === 0) {
    console.error('usage: check.js [--fields OUT.json] EVENTS.json...');
    process.exit(2);
  }
  for (const file of args) {
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, n) => {
      if (line === '') return;
      const where = path.basename(file) + ':' + (n + 1);
      let ev;
      try {
        ev = parse(line);
      } catch (e) {
        problem(where, 'not JSON: ' + e.message);
        return;
      }
      nEvents++;
      checkEvent(ev, where);
    });
  }
  if (nEvents === 0) problem('input', 'no events');
  // One type per field: null (an unknown value) goes with any, and an
  // empty array with any array.
  const fieldTypes = {};
  const family = (k) => k.replace(/\b(date|ip)$/, 'string');
  for (const [p, seen] of types) {
    const ks = [...seen.keys()];
    const concrete = ks.filter((k) => k !== 'null' && k !== 'array of null' && k !== 'array of empty');
    const families = [...new Set(concrete.map(family))];
    if (families.length > 1)
      problem('types', p + ' has types ' + families.map((f) => f + ' (' +
              seen.get(concrete.find((k) => family(k) === f)) + ')').join(', '));
    fieldTypes[p] = concrete.length === 1 ? concrete[0] : families.length === 1 ? families[0] : ks[0];
  }
  for (const p of objectArrays) fieldTypes[p] = 'array of object';
  if (fieldsOut !== null) fs.writeFileSync(fieldsOut, JSON.stringify(fieldTypes, null, 1) + '\n');
  if (problems.length > 0) {
    for (const p of problems.slice(0, 60)) console.log('  ' + p);
    console.log('ecs: ' + problems.length + (problems.length >= 200 ? '+' : '') +
                ' problems in ' + nEvents + ' events');
    process.exit(1);
  }
  console.log('ecs: ' + nEvents + ' events from ' + args.length + ' files, ' + nFields +
              ' fields: all conform to ECS ' + EcsVersion);
}

main();
