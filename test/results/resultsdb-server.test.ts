// The test ResultsDB behaves as ResultsDB 2.0 is documented to: its answers have the shape of the
// corpus examples (extracted from the API docs), it validates with the documented messages, stores
// `data` as lists of strings, filters and pages like the real one. Then the client on top of it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ResultsDBClient, ResultsDBRejected, ResultsDBUnavailable, type RdbResult } from '../../src/results/resultsdb.js';
import { startResultsDBServer, type ResultsDBTestServer } from '../support/resultsdb-server.js';
import { corpusPath } from '../support/corpus.js';

function example(name: string): { _endpoint: string; body: Record<string, unknown> } {
  return JSON.parse(readFileSync(corpusPath('resultsdb', name), 'utf8')) as { _endpoint: string; body: Record<string, unknown> };
}
const corpus = {
  getResult200: example('apidocs_00_get-results-response-200-application-json.json'),
  getResult404: example('apidocs_01_get-results-response-404-application-json.json'),
  listResults200: example('apidocs_02_get-results-response-200-application-json.json'),
  latest200: example('apidocs_03_get-results-latest-response-200-application-json.json'),
  postByIds: example('apidocs_04_post-results-request-using-just-the-testcase-group-identifiers-application-json.json'),
  postByObjects: example('apidocs_05_post-results-request-using-the-whole-testcase-group-objects-application-json.json'),
  postResult201: example('apidocs_06_post-results-response-201-application-json.json'),
  postResult400: example('apidocs_07_post-results-response-400-application-json.json'),
  getGroup200: example('apidocs_08_get-groups-response-200-application-json.json'),
  getGroup404: example('apidocs_09_get-groups-response-404-application-json.json'),
  listGroups200: example('apidocs_10_get-groups-response-200-application-json.json'),
  postGroup: example('apidocs_11_post-groups-request-application-json.json'),
  postGroup201: example('apidocs_12_post-groups-response-201-application-json.json'),
  getTestcase200: example('apidocs_13_get-testcases-response-200-application-json.json'),
  getTestcase404: example('apidocs_14_get-testcases-response-404-application-json.json'),
  listTestcases200: example('apidocs_15_get-testcases-response-200-application-json.json'),
  postTestcase: example('apidocs_16_post-testcases-request-application-json.json'),
  postTestcase201: example('apidocs_17_post-testcases-response-201-application-json.json'),
};

/** The structure of a JSON value: keys and value types, recursively (a list by its first element). */
function shape(value: unknown): unknown {
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length > 0 ? [shape(value[0])] : [];
  if (typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, shape((value as Record<string, unknown>)[k])]));
  }
  return typeof value;
}

/** The corpus hrefs point at taskotron-dev; compare them by their path after the API root. */
function apiPath(url: unknown): string {
  return String(url).replace(/^.*\/api\/v2\.0/, '');
}

async function call(server: ResultsDBTestServer, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

describe('test ResultsDB against the corpus examples', () => {
  let server: ResultsDBTestServer;
  before(async () => {
    server = await startResultsDBServer();
  });
  after(() => server.close());

  test('POST /testcases answers 201 with the corpus testcase', async () => {
    const answer = await call(server, 'POST', '/testcases', corpus.postTestcase.body);
    assert.equal(answer.status, 201);
    assert.deepEqual(shape(answer.json), shape(corpus.postTestcase201.body));
    assert.deepEqual({ ...answer.json, href: apiPath(answer.json.href) }, { ...corpus.postTestcase201.body, href: '/testcases/dist.rpmlint' });
    const got = await call(server, 'GET', '/testcases/dist.rpmlint');
    assert.deepEqual({ ...got.json, href: apiPath(got.json.href) }, { ...corpus.getTestcase200.body, href: '/testcases/dist.rpmlint' });
  });

  test('POST /results with identifiers stores data as lists of strings, like the corpus 201', async () => {
    const answer = await call(server, 'POST', '/results', corpus.postByIds.body);
    assert.equal(answer.status, 201);
    assert.deepEqual(shape(answer.json), shape(corpus.postResult201.body));
    const expected = corpus.postResult201.body;
    for (const key of ['outcome', 'note', 'ref_url', 'groups', 'data'] as const) assert.deepEqual(answer.json[key], expected[key], key);
    assert.deepEqual(answer.json.testcase, { ...(expected.testcase as object), href: `${server.url}/testcases/dist.rpmlint` });
    assert.match(String(answer.json.submit_time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$/);
    assert.equal(answer.json.href, `${server.url}/results/${String(answer.json.id)}`);

    const got = await call(server, 'GET', `/results/${String(answer.json.id)}`);
    assert.deepEqual(shape(got.json), shape(corpus.getResult200.body));
    assert.deepEqual(got.json, answer.json);
  });

  test('POST /results with objects creates the group with its description (corpus 05 → 08)', async () => {
    const answer = await call(server, 'POST', '/results', corpus.postByObjects.body);
    assert.equal(answer.status, 201);
    const group = await call(server, 'GET', '/groups/27f94e36-62ec-11e6-83fd-525400d7d6a4');
    assert.equal(group.status, 200);
    assert.deepEqual(shape(group.json), shape({ ...corpus.getGroup200.body, ref_url: null }));
    assert.equal(group.json.description, 'Taskotron job on koji_build koschei-1.7.2-1.fc24');
    assert.equal(group.json.results_count, 2);
    assert.equal(group.json.results, `${server.url}/results?groups=27f94e36-62ec-11e6-83fd-525400d7d6a4`);
  });

  test('POST /groups sets ref_url; the listing pages like the corpus', async () => {
    const answer = await call(server, 'POST', '/groups', corpus.postGroup.body);
    assert.equal(answer.status, 201);
    assert.deepEqual(shape(answer.json), shape(corpus.postGroup201.body));
    assert.equal(answer.json.ref_url, corpus.postGroup201.body.ref_url);
    await call(server, 'POST', '/groups', { description: 'another', ref_url: 'https://example.org/job' });
    const list = await call(server, 'GET', '/groups?limit=1');
    assert.deepEqual(shape(list.json), shape(corpus.listGroups200.body));
    assert.equal(list.json.next, `${server.url}/groups?limit=1&page=1`);
    assert.equal((list.json.data as { description: string }[])[0]?.description, 'another', 'newest group first');
    const byDescription = await call(server, 'GET', '/groups?description:like=Taskotron*koschei*');
    assert.deepEqual((byDescription.json.data as { uuid: string }[]).map((g) => g.uuid), ['27f94e36-62ec-11e6-83fd-525400d7d6a4']);
  });

  test('GET /results filters as in the corpus query, with prev/next links built from the request', async () => {
    const path = '/results?item:like=koschei*fc24*&outcome=PASSED,FAILED&since=2016-08-15T13:00:00&limit=1';
    const first = await call(server, 'GET', path);
    assert.deepEqual(shape(first.json), shape(corpus.listResults200.body));
    assert.equal(first.json.prev, null);
    assert.equal(first.json.next, `${server.url}${path}&page=1`);
    const second = await call(server, 'GET', `${path}&page=1`);
    assert.equal(second.json.prev, `${server.url}${path}&page=0`);
    assert.equal(second.json.next, null);
    const latest = await call(server, 'GET', '/results/latest?item=koschei-1.7.2-1.fc24&type=koji_build');
    assert.deepEqual(shape(latest.json), shape(corpus.latest200.body));
    assert.equal((latest.json.data as unknown[]).length, 1, 'one result per testcase');
  });

  test('the documented 404 and 400 bodies', async () => {
    assert.deepEqual(await call(server, 'GET', '/results/999999'), { status: 404, json: corpus.getResult404.body });
    assert.deepEqual(await call(server, 'GET', '/groups/nope'), { status: 404, json: corpus.getGroup404.body });
    assert.deepEqual(await call(server, 'GET', '/testcases/nope'), { status: 404, json: corpus.getTestcase404.body });
    assert.deepEqual(await call(server, 'POST', '/results', { testcase: 'dist.rpmlint' }), { status: 400, json: corpus.postResult400.body });
    assert.deepEqual(await call(server, 'GET', '/nothing/here'), { status: 404, json: { message: 'Not found' } });
  });
});

describe('test ResultsDB: validation of POST /results (reference §4.3–4.4)', () => {
  let server: ResultsDBTestServer;
  before(async () => {
    server = await startResultsDBServer();
  });
  after(() => server.close());

  const rows: [name: string, body: unknown, status: number, message: unknown][] = [
    ['outcome missing', { testcase: 'a' }, 400, 'Missing data'],
    ['testcase missing', { outcome: 'PASSED' }, 400, 'Missing data'],
    ['unknown outcome', { outcome: 'ABORTED', testcase: 'a' }, 400, "outcome must be one of ('PASSED', 'INFO', 'FAILED', 'NEEDS_INSPECTION', 'CRASHED')"],
    ['colon in a data key', { outcome: 'PASSED', testcase: 'a', data: { 'item:like': 'x', ok: 'y' } }, 400, "Colon not allowed in key name: ['item:like']"],
    ['empty testcase name', { outcome: 'PASSED', testcase: '' }, 400, 'testcase name not set'],
    ['testcase object without name', { outcome: 'PASSED', testcase: { ref_url: 'x' } }, 400, 'testcase.name not set'],
    ['empty outcome', { outcome: '', testcase: 'a' }, 400, "Malformed Request: outcome: Expected non-empty value, got ''"],
    ['data not a mapping', { outcome: 'PASSED', testcase: 'a', data: ['x'] }, 400, "Malformed Request: data: Expected dict, got <type 'list'>"],
    ['unparsable JSON', '{"outcome": ', 400, 'Malformed Request: 400 Bad Request: Failed to decode JSON object: Unexpected end of JSON input'],
  ];
  for (const [name, body, status, message] of rows) {
    test(`${name} → ${status} ${JSON.stringify(message)}`, async () => {
      assert.deepEqual(await call(server, 'POST', '/results', body), { status, json: { message } });
    });
  }
  test('nothing invalid was stored', () => {
    assert.equal(server.storedPosts(), 0);
  });

  test('outcome is upper-cased; data values of any JSON type are stored as lists of strings', async () => {
    const answer = await call(server, 'POST', '/results', { outcome: ' crashed ', testcase: 'x.y', data: { n: 1, b: true, none: null, l: [2, 'two', false], s: 'text' } });
    assert.equal(answer.status, 201);
    assert.equal(answer.json.outcome, 'CRASHED');
    assert.deepEqual(answer.json.data, { n: ['1'], b: ['True'], none: ['None'], l: ['2', 'two', 'False'], s: ['text'] });
    assert.deepEqual(answer.json.groups, []);
    assert.equal(answer.json.note, null);
  });

  test('query arguments of the wrong kind', async () => {
    assert.deepEqual(await call(server, 'GET', '/results?outcome=passed,BOGUS'), { status: 400, json: { message: "outcome 'BOGUS' not one of ('PASSED', 'INFO', 'FAILED', 'NEEDS_INSPECTION', 'CRASHED')" } });
    assert.deepEqual(await call(server, 'GET', '/results?since=yesterday'), { status: 400, json: { message: "'since' parameter not in ISO8601 format" } });
    assert.deepEqual(await call(server, 'GET', '/results?page=two'), { status: 400, json: { message: { page: "invalid literal for int() with base 10: 'two'" } } });
  });
});

describe('test ResultsDB: filters', () => {
  let server: ResultsDBTestServer;
  const ids: Record<string, number> = {};
  before(async () => {
    server = await startResultsDBServer();
    const post = async (name: string, body: Record<string, unknown>) => {
      ids[name] = (await call(server, 'POST', '/results', body)).json.id as number;
    };
    await post('a', { outcome: 'PASSED', testcase: 'dist.rpmlint', groups: ['g1'], data: { item: 'foo-1-1.fc40', arch: ['x86_64', 'noarch'] } });
    await post('b', { outcome: 'FAILED', testcase: 'dist.rpmlint', groups: ['g2'], data: { item: 'foo-1-2.fc40', arch: 'x86_64' } });
    await post('c', { outcome: 'INFO', testcase: 'dist.rpmgrill', groups: ['g1', 'g2'], data: { item: 'bar-1-1.fc40', arch: 'armhfp' } });
  });
  after(() => server.close());

  const found = async (query: string) => ((await call(server, 'GET', `/results${query}`)).json.data as RdbResult[]).map((r) => r.id);

  test('newest first; groups, testcases and testcases:like', async () => {
    assert.deepEqual(await found(''), [ids.c, ids.b, ids.a]);
    assert.deepEqual(await found('?groups=g1'), [ids.c, ids.a]);
    assert.deepEqual(await found('?groups=g2,nope'), [ids.c, ids.b]);
    assert.deepEqual(await found('?testcases=dist.rpmgrill'), [ids.c]);
    assert.deepEqual(await found('?testcases:like=dist.rpm*'), [ids.c, ids.b, ids.a]);
    assert.deepEqual(await found('?outcome=failed,info'), [ids.c, ids.b]);
  });

  test('data filters: OR within a key, AND across keys, :like with *', async () => {
    assert.deepEqual(await found('?arch=noarch,armhfp'), [ids.c, ids.a]);
    assert.deepEqual(await found('?item:like=foo-*&arch=x86_64'), [ids.b, ids.a]);
    assert.deepEqual(await found('?item:like=foo-*&arch=armhfp'), []);
  });

  test('since: a start, or a start,end range', async () => {
    assert.deepEqual(await found('?since=2000-01-01'), [ids.c, ids.b, ids.a]);
    assert.deepEqual(await found('?since=2000-01-01,2000-01-02T00:00:00Z'), []);
    assert.deepEqual(await found('?since=2999-01-01T00:00:00'), []);
  });

  test('latest: the newest result of each testcase', async () => {
    const latest = ((await call(server, 'GET', '/results/latest?testcases:like=dist.*')).json.data as RdbResult[]).map((r) => r.id);
    assert.deepEqual(latest, [ids.c, ids.b]);
  });

  test('testcases list by name:like; results of a group and of a testcase', async () => {
    const list = await call(server, 'GET', '/testcases?name:like=dist.rpm*');
    assert.deepEqual((list.json.data as { name: string }[]).map((t) => t.name), ['dist.rpmgrill', 'dist.rpmlint']);
    assert.deepEqual(((await call(server, 'GET', '/groups/g2/results')).json.data as RdbResult[]).map((r) => r.id), [ids.c, ids.b]);
    assert.deepEqual(((await call(server, 'GET', '/testcases/dist.rpmlint/results')).json.data as RdbResult[]).map((r) => r.id), [ids.b, ids.a]);
    assert.deepEqual((await call(server, 'GET', '/groups/nope/results')).json, { message: 'Group not found: nope' });
  });
});

describe('the ResultsDB client', () => {
  let server: ResultsDBTestServer;
  let client: ResultsDBClient;
  before(async () => {
    server = await startResultsDBServer();
    client = new ResultsDBClient(`${server.url}/`, { timeoutMs: 2_000 });
  });
  after(() => server.close());

  test('a missing testcase is undefined; a wrong API root is an error, not a missing testcase', async () => {
    assert.equal(await client.getTestcase('dist.nope'), undefined);
    const wrong = new ResultsDBClient(server.url.replace('/api/v2.0', '/api/v1.0'));
    await assert.rejects(wrong.getTestcase('dist.nope'), (error: unknown) => error instanceof ResultsDBRejected && error.status === 404 && error.message === 'Not found');
  });

  test('allResults follows the pages to the end', async () => {
    for (let i = 0; i < 7; i++) await client.createResult({ outcome: 'PASSED', testcase: `scratch.t${i}`, groups: ['paged'], data: { item: 'x' } });
    const seen: number[] = [];
    for await (const result of client.allResults({ groups: ['paged'] }, 3)) seen.push(result.id);
    assert.equal(seen.length, 7);
    assert.equal(new Set(seen).size, 7);
    assert.ok(server.requests.some((r) => r.path.includes('page=2')));
  });

  test('a 4xx is a ResultsDBRejected carrying the server message', async () => {
    await assert.rejects(client.createResult({ outcome: 'WAIVED', testcase: 'scratch.x' }), (error: unknown) => {
      assert.ok(error instanceof ResultsDBRejected);
      assert.equal(error.status, 400);
      assert.equal(error.message, "outcome must be one of ('PASSED', 'INFO', 'FAILED', 'NEEDS_INSPECTION', 'CRASHED')");
      return true;
    });
  });

  test('a 503 from an outage is ResultsDBUnavailable with the page text', async () => {
    server.outage(500);
    await assert.rejects(client.getTestcase('x'), (error: unknown) => {
      assert.ok(error instanceof ResultsDBUnavailable);
      assert.equal(error.status, 503);
      assert.match(error.message, /answered 503 Service Unavailable: 503 Service Unavailable Service Unavailable The server is temporarily unable/);
      return true;
    });
    await new Promise((done) => setTimeout(done, 600));
    assert.equal(await client.getTestcase('x'), undefined);
  });

  test('connection refused and no answer in time are ResultsDBUnavailable', async () => {
    await server.pause();
    try {
      // The first request may find its kept-alive socket closed under it (UND_ERR_SOCKET): also unavailable.
      await assert.rejects(client.getTestcase('x'), ResultsDBUnavailable);
      await assert.rejects(client.getTestcase('x'), (error: unknown) => error instanceof ResultsDBUnavailable && /ECONNREFUSED/.test(error.message));
    } finally {
      await server.resume();
    }
    const silent = createServer(() => undefined);
    await new Promise<void>((done) => silent.listen(0, '127.0.0.1', done));
    try {
      const slow = new ResultsDBClient(`http://127.0.0.1:${(silent.address() as AddressInfo).port}/api/v2.0`, { timeoutMs: 200 });
      await assert.rejects(slow.getTestcase('x'), (error: unknown) => error instanceof ResultsDBUnavailable && /no answer within 0.2 s/.test(error.message));
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });
});
