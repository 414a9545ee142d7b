#!/usr/bin/env node
// Contract checks of schemas/ (see schemas/README.md):
//   1. every schemas/*.schema.json compiles with Ajv's draft 2020-12 validator in
//      strict mode (allErrors, ajv-formats), every schema registered so that the
//      relative file references between them resolve;
//   2. every entry of each schema's `examples` is valid against it;
//   3. every entry of schemas/invalid_examples.json is rejected by its schema when
//      it says schema_rejects: true, and accepted when it says false (a fault only
//      the daemon can see); entries are also checked for shape;
//   4. with --instances DIR: every DIR/<schema-name>/*.json is valid against
//      <schema-name> (the C++ integration test writes real daemon bodies there).
// One line per failure, then "schemas: N, examples: N, invalid: N, instances: N".
// Exit 0 when nothing failed, 1 otherwise, 2 on bad usage.
//
// Usage: node check_schemas.mjs [--schemas DIR] [--instances DIR]

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const here = path.dirname(fileURLToPath(import.meta.url));
let schemasDir = path.resolve(here, "..", "..", "schemas");
let instancesDir = null;

const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; ++i) {
  const a = argv[i];
  if ((a === "--instances" || a === "--schemas") && i + 1 < argv.length) {
    if (a === "--instances") instancesDir = path.resolve(argv[++i]);
    else schemasDir = path.resolve(argv[++i]);
  } else if (a === "-h" || a === "--help") {
    console.log("usage: node check_schemas.mjs [--schemas DIR] [--instances DIR]");
    process.exit(0);
  } else {
    console.error(`check_schemas: unknown argument '${a}' (usage: [--schemas DIR] [--instances DIR])`);
    process.exit(2);
  }
}

const failures = [];
const fail = (msg) => {
  failures.push(msg);
  console.log(`FAIL ${msg}`);
};

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, "utf8"));
}

function errorText(errors) {
  return (errors || [])
    .slice(0, 6)
    .map((e) => `${e.instancePath || "/"} ${e.message}${e.params && e.params.additionalProperty ? ` (${e.params.additionalProperty})` : ""}`)
    .join("; ");
}

// --- load and register every schema ------------------------------------------

const ajv = new Ajv2020({
  strict: true, // strictSchema, strictNumbers, strictTypes, strictTuples, strictRequired
  allErrors: true,
  allowUnionTypes: true, // ["string", "null"], ["boolean", "string"], ...: deliberate in these schemas
});
addFormats(ajv);

const files = fs
  .readdirSync(schemasDir)
  .filter((f) => f.endsWith(".schema.json"))
  .sort();
if (files.length === 0) {
  console.error(`check_schemas: no *.schema.json in ${schemasDir}`);
  process.exit(2);
}

const schemas = new Map(); // name -> parsed schema
for (const file of files) {
  const name = file.slice(0, -".schema.json".length);
  let schema;
  try {
    schema = readJson(path.join(schemasDir, file));
  } catch (e) {
    fail(`${file}: not JSON: ${e.message}`);
    continue;
  }
  const expectId = `urn:everest-bootstrapd:schema:${name}`;
  if (schema.$schema !== "https://json-schema.org/draft/2020-12/schema") fail(`${file}: $schema is not draft 2020-12`);
  if (schema.$id !== expectId) fail(`${file}: $id is '${schema.$id}', expected '${expectId}'`);
  if (typeof schema.title !== "string" || !schema.title) fail(`${file}: no title`);
  if (typeof schema.description !== "string" || !schema.description) fail(`${file}: no description`);
  if (!Array.isArray(schema.examples) || schema.examples.length === 0) fail(`${file}: no examples`);
  schemas.set(name, schema);
  try {
    // The schemas refer to each other by file name ("password_request.schema.json",
    // "job.schema.json#/$defs/timestamp"). Resolved against a URN $id those would
    // become "urn:password_request.schema.json", which is no URN (no NID) and which
    // Ajv's URI library refuses; so each schema is registered with its file name as
    // $id (the base its relative references are meant against), and its URN as an
    // extra key. Nothing else of the schema is changed.
    ajv.addSchema({ ...schema, $id: file }, expectId);
  } catch (e) {
    fail(`${file}: cannot be added: ${e.message}`);
  }
}

const validators = new Map(); // name -> compiled validator
for (const name of schemas.keys()) {
  try {
    const validate = ajv.getSchema(`${name}.schema.json`);
    if (!validate) throw new Error("not registered");
    validators.set(name, validate);
  } catch (e) {
    fail(`${name}.schema.json: does not compile (strict mode): ${e.message}`);
  }
}

// --- examples --------------------------------------------------------------------

let exampleCount = 0;
for (const [name, schema] of schemas) {
  const validate = validators.get(name);
  if (!validate || !Array.isArray(schema.examples)) continue;
  schema.examples.forEach((ex, i) => {
    ++exampleCount;
    if (!validate(ex)) fail(`${name}.schema.json examples[${i}] is invalid: ${errorText(validate.errors)}`);
  });
}

// --- invalid examples --------------------------------------------------------------

const ROUTES = new Map([
  ["bootstrap_request", "POST /bootstrap/users"],
  ["password_request", "POST /accounts/password"],
  ["resources_request", "POST /namespaces/resources"],
  ["operators_request", "POST /namespaces/operators"],
  ["suspend_request", "POST /accounts/suspend"],
  ["resume_request", "POST /accounts/resume"],
  ["delete_request", "POST /accounts/delete"],
  ["tenant_request_event", "POST /webhooks/tenant-requests"],
  ["webhook_payload", "POST /webhooks/tenant-requests"],
]);

let invalidCount = 0;
const invalidFile = path.join(schemasDir, "invalid_examples.json");
if (!fs.existsSync(invalidFile)) {
  fail("invalid_examples.json is missing");
} else {
  let entries = [];
  try {
    entries = readJson(invalidFile);
  } catch (e) {
    fail(`invalid_examples.json: not JSON: ${e.message}`);
  }
  if (!Array.isArray(entries)) {
    fail("invalid_examples.json: not an array");
    entries = [];
  }
  entries.forEach((entry, i) => {
    ++invalidCount;
    const where = `invalid_examples.json[${i}]`;
    const keys = ["schema", "route", "body", "status", "pointer", "schema_rejects", "why"];
    for (const k of keys) if (!(k in entry)) fail(`${where}: no '${k}'`);
    for (const k of Object.keys(entry)) if (!keys.includes(k)) fail(`${where}: unknown member '${k}'`);
    const validate = validators.get(entry.schema);
    if (!validate) {
      fail(`${where}: no schema '${entry.schema}'`);
      return;
    }
    if (ROUTES.has(entry.schema) && entry.route !== ROUTES.get(entry.schema)) {
      fail(`${where}: route '${entry.route}' is not ${ROUTES.get(entry.schema)}`);
    }
    if (!Number.isInteger(entry.status) || entry.status < 400 || entry.status > 599) {
      fail(`${where}: status ${entry.status} is no error status`);
    }
    if (entry.pointer !== null && (typeof entry.pointer !== "string" || !entry.pointer.startsWith("/"))) {
      fail(`${where}: pointer must be null or a JSON pointer starting with '/'`);
    }
    if (typeof entry.schema_rejects !== "boolean") fail(`${where}: schema_rejects must be a boolean`);
    if (typeof entry.why !== "string" || entry.why.length < 10) fail(`${where}: why must explain the fault`);
    if (entry.body === null || typeof entry.body !== "object" || Array.isArray(entry.body)) {
      fail(`${where}: body must be a JSON object`);
    }
    const valid = validate(entry.body);
    if (entry.schema_rejects === true && valid) {
      fail(`${where} (${entry.schema}): schema_rejects is true but the schema accepts the body`);
    } else if (entry.schema_rejects === false && !valid) {
      fail(`${where} (${entry.schema}): schema_rejects is false but the schema rejects the body: ${errorText(validate.errors)}`);
    }
  });
}

// --- instances (real daemon bodies) ------------------------------------------------

let instanceCount = 0;
if (instancesDir !== null) {
  if (!fs.existsSync(instancesDir) || !fs.statSync(instancesDir).isDirectory()) {
    fail(`--instances ${instancesDir}: not a directory`);
  } else {
    for (const dir of fs.readdirSync(instancesDir).sort()) {
      const sub = path.join(instancesDir, dir);
      if (!fs.statSync(sub).isDirectory()) continue;
      const validate = validators.get(dir);
      if (!validate) {
        fail(`instances/${dir}: no schema named '${dir}'`);
        continue;
      }
      for (const f of fs.readdirSync(sub).filter((x) => x.endsWith(".json")).sort()) {
        ++instanceCount;
        let body;
        try {
          body = readJson(path.join(sub, f));
        } catch (e) {
          fail(`instances/${dir}/${f}: not JSON: ${e.message}`);
          continue;
        }
        if (!validate(body)) fail(`instances/${dir}/${f} is invalid against ${dir}: ${errorText(validate.errors)}`);
      }
    }
  }
}

console.log(
  `schemas: ${schemas.size}, examples: ${exampleCount}, invalid: ${invalidCount}, instances: ${instanceCount}` +
    (failures.length ? ` (${failures.length} failure${failures.length === 1 ? "" : "s"})` : ""),
);
process.exit(failures.length ? 1 : 0);
