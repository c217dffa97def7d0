// fedmsg's X.509 message signatures (reference §3.5): the sender's certificate must chain to the
// configured CA, must not be on the CRL, and its key must verify the RSA/SHA-1 signature over the
// canonical JSON of the envelope without `signature` and `certificate`. Node's crypto does the
// certificate and signature work; a CRL needs only a few DER fields, read here.
import { X509Certificate, verify as verifySignature, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { JsonNumber, parseJsonKeepingNumbers, pythonJsonDumps, type RawJson } from './canonical-json.js';
import { normaliseDatagrepperRecord, type Envelope } from './envelope.js';

export interface TrustStore {
  cas: X509Certificate[];
  crls: RevocationList[];
  /** A CRL is configured: while none is loaded, no chain can be checked against it. */
  crlRequired?: boolean;
}

export interface RevocationList {
  /** Serial numbers, upper-case hex without leading zeros. */
  revoked: Set<string>;
  /** The CA that signed it. */
  issuer: X509Certificate;
  thisUpdate: Date;
  /** Past this the CRL is stale: it cannot tell about a certificate revoked since. */
  nextUpdate?: Date;
}

const normaliseSerial = (hex: string) => hex.toUpperCase().replace(/^0+(?=.)/, '');

function pemBlocks(text: string, label: string): Buffer[] {
  const re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`, 'g');
  return [...text.matchAll(re)].map((m) => Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
}

/** Every certificate in a PEM bundle. */
export function readCertificates(pem: string): X509Certificate[] {
  return pemBlocks(pem, 'CERTIFICATE').map((der) => new X509Certificate(der));
}

// --- the little DER a CRL needs -------------------------------------------------------------------

interface Tlv {
  tag: number;
  start: number;
  contentStart: number;
  end: number;
}

function readTlv(buf: Buffer, at: number): Tlv {
  const tag = buf[at]!;
  let length = buf[at + 1]!;
  let offset = at + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    if (bytes === 0 || bytes > 4) throw new Error('unsupported DER length');
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + buf[offset + i]!;
    offset += bytes;
  }
  if (offset + length > buf.length) throw new Error('truncated DER');
  return { tag, start: at, contentStart: offset, end: offset + length };
}

function children(buf: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.contentStart; at < parent.end; ) {
    const tlv = readTlv(buf, at);
    out.push(tlv);
    at = tlv.end;
  }
  return out;
}

function oid(buf: Buffer, tlv: Tlv): string {
  const bytes = buf.subarray(tlv.contentStart, tlv.end);
  const parts = [Math.floor(bytes[0]! / 40), bytes[0]! % 40];
  let value = 0;
  for (const byte of bytes.subarray(1)) {
    value = value * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      parts.push(value);
      value = 0;
    }
  }
  return parts.join('.');
}

const HASH_BY_OID: Record<string, string> = {
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
};

function derTime(buf: Buffer, tlv: Tlv): Date {
  const text = buf.subarray(tlv.contentStart, tlv.end).toString('latin1');
  // UTCTime YYMMDDHHMMSSZ (years 50-99 are 19xx) or GeneralizedTime YYYYMMDDHHMMSSZ.
  const full = tlv.tag === 0x17 ? `${Number(text.slice(0, 2)) >= 50 ? '19' : '20'}${text}` : text;
  return new Date(`${full.slice(0, 4)}-${full.slice(4, 6)}-${full.slice(6, 8)}T${full.slice(8, 10)}:${full.slice(10, 12)}:${full.slice(12, 14)}Z`);
}

/** Parses a DER or PEM X.509 CRL and checks its signature against one of the CAs. */
export function readRevocationList(data: Buffer, cas: readonly X509Certificate[]): RevocationList {
  const text = data.toString('latin1');
  const der = text.includes('-----BEGIN X509 CRL-----') ? pemBlocks(text, 'X509 CRL')[0]! : data;
  const root = readTlv(der, 0);
  const [tbs, algorithm, signature] = children(der, root) as [Tlv, Tlv, Tlv];
  const algOid = oid(der, children(der, algorithm)[0]!);
  const hash = HASH_BY_OID[algOid];
  if (!hash) throw new Error(`CRL signed with an unsupported algorithm ${algOid}`);
  const signatureBytes = der.subarray(signature.contentStart + 1, signature.end);
  const issuer = cas.find((ca) => verifySignature(hash, der.subarray(tbs.start, tbs.end), ca.publicKey, signatureBytes));
  if (!issuer) throw new Error('the CRL is not signed by any configured CA');
  let fields = children(der, tbs);
  if (fields[0]?.tag === 0x02) fields = fields.slice(1); // version
  // signature algorithm, issuer, thisUpdate, [nextUpdate], [revokedCertificates], [extensions]
  const thisUpdate = derTime(der, fields[2]!);
  const rest = fields.slice(3);
  let nextUpdate: Date | undefined;
  if (rest[0] && (rest[0].tag === 0x17 || rest[0].tag === 0x18)) nextUpdate = derTime(der, rest.shift()!);
  const revoked = new Set<string>();
  if (rest[0]?.tag === 0x30) {
    for (const entry of children(der, rest[0])) {
      const serial = children(der, entry)[0]!;
      revoked.add(normaliseSerial(der.subarray(serial.contentStart, serial.end).toString('hex')));
    }
  }
  return { revoked, issuer, thisUpdate, ...(nextUpdate ? { nextUpdate } : {}) };
}

// --- verification ---------------------------------------------------------------------------------

/** The bytes fedmsg signed: canonical JSON of the envelope minus `signature` and `certificate`. */
export function signedText(envelope: RawJson | Record<string, unknown>): string {
  const copy = { ...(envelope as Record<string, unknown>) };
  delete copy.signature;
  delete copy.certificate;
  return pythonJsonDumps(copy);
}

function decodeCertificate(field: string): X509Certificate {
  // fedmsg sends base64 of the PEM text.
  const pem = Buffer.from(field.replace(/\s+/g, ''), 'base64').toString('latin1');
  const [der] = pemBlocks(pem, 'CERTIFICATE');
  if (!der) throw new Error('the certificate field holds no PEM certificate');
  return new X509Certificate(der);
}

function inForce(cert: X509Certificate, now: Date): ChainProblem | undefined {
  if (now < new Date(cert.validFrom)) return { reason: 'expired', detail: `certificate ${subjectText(cert)} is not valid before ${cert.validFrom}` };
  if (now > new Date(cert.validTo)) return { reason: 'expired', detail: `certificate ${subjectText(cert)} expired ${cert.validTo}` };
  return undefined;
}

const subjectText = (cert: X509Certificate) => cert.subject.replace(/\n/g, ', ');

/** The signer's name as fedmsg takes it for routing_policy: the certificate subject's common name. */
export function signerName(cert: X509Certificate): string {
  const line = cert.subject.split('\n').find((l) => l.startsWith('CN='));
  return line ? line.slice(3) : '';
}

/** Why a signed message is refused; counters and metrics use these names. */
export type SignatureRefusal =
  | 'unsigned'
  | 'bad-certificate'
  | 'cannot-canonicalise'
  | 'bad-signature'
  | 'untrusted'
  | 'expired'
  | 'revoked'
  | 'crl-stale'
  | 'crl-unavailable'
  | 'routing-policy'
  | 'routing-nitpicky';

interface ChainProblem {
  reason: SignatureRefusal;
  detail: string;
}

/** A CRL that cannot vouch for the chain: past its nextUpdate, or none loaded yet. */
export type CrlWarning = { reason: 'crl-stale' | 'crl-unavailable'; detail: string };

export type SignatureVerdict = { ok: true; signer: string; warning?: CrlWarning } | { ok: false; reason: SignatureRefusal; detail: string; signer?: string };

/** fedmsg's `routing_policy` (topic → certificate names allowed to send it) and `routing_nitpicky`. */
export interface RoutingPolicy {
  topics: Readonly<Record<string, readonly string[]>>;
  /** Refuse topics the policy does not list (fedmsg's default: accept them). */
  nitpicky: boolean;
}

/** What happens to a message whose chain needs a CRL that is stale or not loaded. */
export type CrlStalePolicy = 'refuse' | 'warn';

export interface VerifyOptions {
  /** Without a trust store only the signature itself is checked (the embedded key verifies it). */
  trust?: TrustStore;
  now?: Date;
  /** Default `refuse`, as fedmsg (OpenSSL's CRL check fails on an expired CRL). */
  crlStale?: CrlStalePolicy;
  routing?: RoutingPolicy;
}

/**
 * Checks one envelope. `raw` is the received JSON text when there is one: its number lexemes are
 * what was signed (Python writes 3.0 where JavaScript parses 3). Returns why it fails, or undefined.
 */
export function verifyEnvelope(envelope: Envelope | Record<string, unknown>, raw?: string, options: VerifyOptions = {}): string | undefined {
  const verdict = verifySigned(envelope, raw, options);
  return verdict.ok ? undefined : verdict.detail;
}

/** The whole check, as fedmsg's validate does it: signature, chain and CRL, then routing_policy. */
export function verifySigned(envelope: Envelope | Record<string, unknown>, raw?: string, options: VerifyOptions = {}): SignatureVerdict {
  const { signature, certificate, topic } = envelope as { signature?: unknown; certificate?: unknown; topic?: unknown };
  if (typeof signature !== 'string' || typeof certificate !== 'string') return { ok: false, reason: 'unsigned', detail: 'unsigned: no signature and certificate' };
  let cert: X509Certificate;
  try {
    cert = decodeCertificate(certificate);
  } catch (error) {
    return { ok: false, reason: 'bad-certificate', detail: `bad certificate: ${(error as Error).message}` };
  }
  let signed: string;
  try {
    signed = signedText(raw !== undefined ? withoutDatanommerFields(parseJsonKeepingNumbers(raw)) : normaliseDatagrepperRecord(envelope));
  } catch (error) {
    return { ok: false, reason: 'cannot-canonicalise', detail: `cannot canonicalise: ${(error as Error).message}` };
  }
  const signer = signerName(cert);
  const ok = verifySignature('sha1', Buffer.from(signed, 'utf8'), cert.publicKey as KeyObject, Buffer.from(signature.replace(/\s+/g, ''), 'base64'));
  if (!ok) return { ok: false, reason: 'bad-signature', detail: 'the signature does not verify', signer };
  let warning: CrlWarning | undefined;
  if (options.trust) {
    const chain = checkChain(cert, options.trust, options.now ?? new Date());
    if (chain.problem) return { ok: false, ...chain.problem, signer };
    if (chain.crl && (options.crlStale ?? 'refuse') === 'refuse') return { ok: false, ...chain.crl, signer };
    warning = chain.crl;
  }
  if (options.routing) {
    const refusal = routingRefusal(typeof topic === 'string' ? topic : '', signer, options.routing);
    if (refusal) return { ok: false, ...refusal, signer };
  }
  return { ok: true, signer, ...(warning ? { warning } : {}) };
}

/** fedmsg's validate_policy: a listed topic needs a listed signer; an unlisted one passes unless nitpicky. */
export function routingRefusal(topic: string, signer: string, policy: RoutingPolicy): ChainProblem | undefined {
  if (Object.hasOwn(policy.topics, topic)) {
    const allowed = policy.topics[topic]!;
    if (allowed.includes(signer)) return undefined;
    return { reason: 'routing-policy', detail: `routing_policy: ${signer || '(no CN)'} may not send ${topic} (allowed: ${allowed.join(', ') || 'nobody'})` };
  }
  return policy.nitpicky ? { reason: 'routing-nitpicky', detail: `routing_nitpicky: routing_policy lists no senders for ${topic}` } : undefined;
}

/** Datagrepper copies: drop what datanommer added, as fedmsg's fix_datagrepper_message does. */
function withoutDatanommerFields(value: RawJson): RawJson {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof JsonNumber) return value;
  if (value.source_name !== 'datanommer') return value;
  const copy = { ...value };
  delete copy.source_name;
  delete copy.source_version;
  const headers = copy.headers;
  if (headers === null || (typeof headers === 'object' && !Array.isArray(headers) && !(headers instanceof JsonNumber) && Object.keys(headers).length === 0)) delete copy.headers;
  if (copy.timestamp instanceof JsonNumber) copy.timestamp = new JsonNumber(String(Math.trunc(Number(copy.timestamp.lexeme))));
  return copy;
}

function checkChain(leaf: X509Certificate, trust: TrustStore, now: Date): { problem?: ChainProblem; crl?: CrlWarning } {
  const chain: X509Certificate[] = [leaf];
  let crlWarning: CrlWarning | undefined;
  for (let cert = leaf; ; ) {
    const expired = inForce(cert, now);
    if (expired) return { problem: expired };
    const issuer = trust.cas.find((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey));
    if (!issuer) return { problem: { reason: 'untrusted', detail: `certificate ${subjectText(cert)} is not issued by a trusted CA` } };
    const crls = trust.crls.filter((crl) => crl.issuer.fingerprint256 === issuer.fingerprint256);
    for (const crl of crls) {
      // Even a stale CRL still proves what it revoked.
      if (crl.revoked.has(normaliseSerial(cert.serialNumber))) return { problem: { reason: 'revoked', detail: `certificate serial ${cert.serialNumber} is revoked` } };
      if (crl.nextUpdate && now > crl.nextUpdate) crlWarning ??= { reason: 'crl-stale', detail: `the CRL of ${subjectText(issuer)} is stale: its nextUpdate was ${crl.nextUpdate.toISOString()}` };
    }
    if (crls.length === 0 && trust.crlRequired && trust.crls.length === 0) crlWarning ??= { reason: 'crl-unavailable', detail: 'no CRL loaded yet' };
    if (issuer.fingerprint256 === cert.fingerprint256 || issuer.checkIssued(issuer)) {
      const rootExpired = inForce(issuer, now);
      return rootExpired ? { problem: rootExpired } : crlWarning ? { crl: crlWarning } : {};
    }
    if (chain.includes(issuer)) return { problem: { reason: 'untrusted', detail: 'certificate chain loops' } };
    chain.push(issuer);
    cert = issuer;
  }
}

export function readTrustStore(caFile: string, crlFile?: string): TrustStore {
  const cas = readCertificates(readFileSync(caFile, 'latin1'));
  if (cas.length === 0) throw new Error(`${caFile}: no PEM certificate in it`);
  const crls = crlFile ? [readRevocationList(readFileSync(crlFile), cas)] : [];
  return { cas, crls };
}

/** The `verify` hook of ingest's intake, from files read once. Without a CA only the signature itself is checked. */
export function signatureVerifier(options: { caFile?: string; crlFile?: string }) {
  const trust = options.caFile ? readTrustStore(options.caFile, options.crlFile) : undefined;
  return (envelope: Envelope, raw: Buffer | undefined) => verifyEnvelope(envelope, raw?.toString('utf8'), trust ? { trust } : {});
}
