/**
 * Forwarder payloads for the apigw tests, built in code: the exact example from issue 5 plus
 * variants with the fields real forwarders add (request id, epoch time, query, base64).
 */
export const ISSUE_EXAMPLE = {
  from: 'abc123.execute-api.eu-west-1.amazonaws.com',
  endpoint: '/api/v1/users',
  method: 'POST',
  body: { name: 'morpheus' },
  request_headers: { 'Content-Type': 'application/json', Authorization: '[REDACTED]' },
  response: { id: '573' },
  response_headers: { 'Content-Type': 'application/json; charset=utf-8' },
  status: 201,
} as const;

const T0 = Date.UTC(2026, 2, 1, 10, 0, 0); // ms

/** The i-th payload of a small, varied set: JSON and string bodies, base64, query, ids on some. */
export function samplePayload(i: number, options: { withId?: boolean } = {}): Record<string, unknown> {
  const kind = i % 4;
  const base: Record<string, unknown> = {
    from: 'abc123.execute-api.eu-west-1.amazonaws.com',
    endpoint: kind === 0 ? `/api/v1/users/${i}` : kind === 1 ? '/api/v1/search' : kind === 2 ? '/api/v1/upload' : '/api/v1/users',
    method: kind === 2 || kind === 3 ? 'POST' : 'GET',
    request_headers: { Accept: 'application/json', Authorization: '[REDACTED]', 'X-Seq': String(i) },
    response_headers: { 'Content-Type': kind === 2 ? 'application/octet-stream' : 'application/json' },
    status: kind === 3 ? 201 : 200,
    requestTimeEpoch: T0 + i * 10,
    latency: 3 + (i % 7),
  };
  if (kind === 0) base.response = { id: i, name: `user-${i}` };
  if (kind === 1) {
    base.queryStringParameters = { q: `term ${i}`, page: '1' };
    base.response = `{"hits":[],"q":"term ${i}"}`; // a string body, kept as sent
  }
  if (kind === 2) {
    base.body = Buffer.from(`binary-${i}-\u0000\u00ff`, 'latin1').toString('base64');
    base.isBase64Encoded = true;
    base.response = Buffer.from([0xde, 0xad, 0xbe, 0xef, i & 0xff]).toString('base64');
    base.response_is_base64_encoded = true;
  }
  if (kind === 3) {
    base.body = { name: `user-${i}` };
    base.response = { id: String(i) };
  }
  if (options.withId ?? true) base.request_id = `req-${i.toString().padStart(6, '0')}`;
  return base;
}
