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
}

export interface RevocationList {
  /** Serial numbers, upper-case hex without leading zeros. */
  revoked: Set<string>;
  /** The CA that signed it. */
  issuer: X509Certificate;
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
  return { revoked, issuer, ...(nextUpdate ? { nextUpdate } : {}) };
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

function inForce(cert: X509Certificate, now: Date): string | undefined {
  if (now < new Date(cert.validFrom)) return `certificate ${cert.subject.replace(/\n/g, ', ')} is not valid before ${cert.validFrom}`;
  if (now > new Date(cert.validTo)) return `certificate ${cert.subject.replace(/\n/g, ', ')} expired ${cert.validTo}`;
  return undefined;
}

export interface VerifyOptions {
  /** Without a trust store only the signature itself is checked (the embedded key verifies it). */
  trust?: TrustStore;
  now?: Date;
}

/**
 * Checks one envelope. `raw` is the received JSON text when there is one: its number lexemes are
 * what was signed (Python writes 3.0 where JavaScript parses 3). Returns why it fails, or undefined.
 */
export function verifyEnvelope(envelope: Envelope | Record<string, unknown>, raw?: string, options: VerifyOptions = {}): string | undefined {
  const { signature, certificate } = envelope as { signature?: unknown; certificate?: unknown };
  if (typeof signature !== 'string' || typeof certificate !== 'string') return 'unsigned: no signature and certificate';
  let cert: X509Certificate;
  try {
    cert = decodeCertificate(certificate);
  } catch (error) {
    return `bad certificate: ${(error as Error).message}`;
  }
  let signed: string;
  try {
    signed = signedText(raw !== undefined ? withoutDatanommerFields(parseJsonKeepingNumbers(raw)) : normaliseDatagrepperRecord(envelope));
  } catch (error) {
    return `cannot canonicalise: ${(error as Error).message}`;
  }
  const ok = verifySignature('sha1', Buffer.from(signed, 'utf8'), cert.publicKey as KeyObject, Buffer.from(signature.replace(/\s+/g, ''), 'base64'));
  if (!ok) return 'the signature does not verify';
  if (!options.trust) return undefined;
  return checkChain(cert, options.trust, options.now ?? new Date());
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

function checkChain(leaf: X509Certificate, trust: TrustStore, now: Date): string | undefined {
  const chain: X509Certificate[] = [leaf];
  for (let cert = leaf; ; ) {
    const expired = inForce(cert, now);
    if (expired) return expired;
    const issuer = trust.cas.find((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey));
    if (!issuer) return `certificate ${cert.subject.replace(/\n/g, ', ')} is not issued by a trusted CA`;
    for (const crl of trust.crls) {
      if (crl.issuer.fingerprint256 === issuer.fingerprint256 && crl.revoked.has(normaliseSerial(cert.serialNumber))) {
        return `certificate serial ${cert.serialNumber} is revoked`;
      }
    }
    if (issuer.fingerprint256 === cert.fingerprint256 || issuer.checkIssued(issuer)) {
      const rootExpired = inForce(issuer, now);
      return rootExpired;
    }
    if (chain.includes(issuer)) return 'certificate chain loops';
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

/** The `verify` hook of ingest's intake. Without a CA only the signature itself is checked. */
export function signatureVerifier(options: { caFile?: string; crlFile?: string }) {
  const trust = options.caFile ? readTrustStore(options.caFile, options.crlFile) : undefined;
  return (envelope: Envelope, raw: Buffer | undefined) => verifyEnvelope(envelope, raw?.toString('utf8'), trust ? { trust } : {});
}
