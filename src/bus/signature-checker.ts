// fedmsg's validate_signatures as a long-running process needs it: the CA and CRL kept current in the
// background (src/bus/crl.ts), the stale-CRL policy, routing_policy, and every verdict counted by
// reason so an operator sees in metrics why messages are refused.
import type { X509Certificate } from 'node:crypto';
import { crlRefreshAfterMs, isUrl, TrustFile, type BusLogger } from './crl.js';
import type { Envelope } from './envelope.js';
import { readCertificates, readRevocationList, verifySigned, type CrlStalePolicy, type RevocationList, type RoutingPolicy, type SignatureVerdict, type TrustStore } from './signatures.js';

export interface SignatureCheckerOptions {
  /** CA bundle, PEM: a file or an http(s) URL (fedmsg's ca_cert_location). */
  ca: string;
  /** Where a fetched CA is kept (fedmsg's ca_cert_cache). */
  caCache?: string;
  /** Seconds before the CA is fetched again; 0: never (fedmsg's ca_cert_cache_expiry). */
  caCacheExpirySeconds?: number;
  /** CRL, PEM or DER: a file or an http(s) URL (fedmsg's crl_location). */
  crl?: string;
  crlCache?: string;
  /** Seconds before the CRL is fetched again, whatever its nextUpdate (fedmsg's crl_cache_expiry). */
  crlCacheExpirySeconds?: number;
  crlStale?: CrlStalePolicy;
  routingPolicy?: Readonly<Record<string, readonly string[]>>;
  routingNitpicky?: boolean;
  log: BusLogger;
  now?: () => number;
  /** First retry after a failed fetch; doubles up to maxBackoffMs. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  fetchTimeoutMs?: number;
}

// One warning per reason per minute is enough to notice; the counter has the exact number.
const WARN_INTERVAL_MS = 60_000;

export class SignatureChecker {
  readonly ca: TrustFile<X509Certificate[]>;
  readonly crl: TrustFile<RevocationList> | undefined;
  private readonly counts: Record<string, number> = Object.create(null) as Record<string, number>;
  private readonly routing: RoutingPolicy | undefined;
  private readonly now: () => number;
  private readonly warned = new Map<string, { at: number; suppressed: number }>();

  private constructor(private readonly options: SignatureCheckerOptions) {
    this.now = options.now ?? Date.now;
    const count = (name: string) => this.add(name);
    const common = {
      log: options.log,
      count,
      now: this.now,
      ...(options.minBackoffMs !== undefined ? { minBackoffMs: options.minBackoffMs } : {}),
      ...(options.maxBackoffMs !== undefined ? { maxBackoffMs: options.maxBackoffMs } : {}),
      ...(options.fetchTimeoutMs !== undefined ? { timeoutMs: options.fetchTimeoutMs } : {}),
    };
    const caExpiry = options.caCacheExpirySeconds ?? 0;
    this.ca = new TrustFile({
      ...common,
      what: 'ca',
      location: options.ca,
      ...(options.caCache ? { cacheFile: options.caCache } : {}),
      parse: (data) => {
        const cas = readCertificates(data.toString('latin1'));
        if (cas.length === 0) throw new Error(`${options.ca}: no PEM certificate in it`);
        return cas;
      },
      refreshAfterMs: () => (caExpiry > 0 ? caExpiry * 1000 : undefined),
    });
    if (options.crl) {
      const crlExpiry = options.crlCacheExpirySeconds ?? 3600;
      this.crl = new TrustFile({
        ...common,
        what: 'crl',
        location: options.crl,
        ...(options.crlCache ? { cacheFile: options.crlCache } : {}),
        // Checked against the CA loaded now: a CRL the CA did not sign is refused and the old one kept.
        parse: (data) => {
          const crl = readRevocationList(data, this.ca.current ?? []);
          // An older CRL (a rolled-back mirror, a replayed response) could un-revoke a certificate.
          const loaded = this.crl?.current;
          if (loaded && crl.issuer.fingerprint256 === loaded.issuer.fingerprint256 && crl.thisUpdate < loaded.thisUpdate) {
            throw new Error(`the CRL served is older (thisUpdate ${crl.thisUpdate.toISOString()}) than the one loaded (${loaded.thisUpdate.toISOString()})`);
          }
          return crl;
        },
        refreshAfterMs: (crl, now) => crlRefreshAfterMs(crl.nextUpdate, crlExpiry, now),
        outdated: (crl, now) => crl.nextUpdate !== undefined && now > crl.nextUpdate.getTime(),
      });
    }
    const policy = options.routingPolicy ?? {};
    if (Object.keys(policy).length > 0 || options.routingNitpicky) this.routing = { topics: policy, nitpicky: options.routingNitpicky ?? false };
  }

  /**
   * Loads the CA (required: without it nothing can be verified) and the CRL (a CRL that cannot be
   * fetched yet leaves the stale policy in charge while fetching is retried).
   */
  static async open(options: SignatureCheckerOptions): Promise<SignatureChecker> {
    const checker = new SignatureChecker(options);
    await checker.ca.open();
    if (!checker.ca.current) {
      checker.close();
      throw new Error(`ca_cert ${options.ca}: no CA certificate could be loaded${isUrl(options.ca) ? ' (not from the URL, not from ca_cert_cache)' : ''}`);
    }
    await checker.crl?.open();
    return checker;
  }

  close(): void {
    this.ca.close();
    this.crl?.close();
  }

  /** The trust store as loaded now. */
  trust(): TrustStore {
    const crl = this.crl?.current;
    return { cas: this.ca.current ?? [], crls: crl ? [crl] : [], crlRequired: this.crl !== undefined };
  }

  /** The whole verdict, counted. */
  check(envelope: Envelope | Record<string, unknown>, raw?: string): SignatureVerdict {
    const verdict = verifySigned(envelope, raw, {
      trust: this.trust(),
      now: new Date(this.now()),
      crlStale: this.options.crlStale ?? 'refuse',
      ...(this.routing ? { routing: this.routing } : {}),
    });
    if (!verdict.ok) this.add(`signature.refused.${verdict.reason}`);
    else if (verdict.warning) {
      this.add(`signature.accepted.${verdict.warning.reason}`);
      this.warnLimited(verdict.warning.reason, `accepted a message although ${verdict.warning.detail} (crl_stale: warn)`);
    } else this.add('signature.accepted');
    return verdict;
  }

  /** The intake's `verify` hook: the reason a message is refused, or undefined. */
  readonly verify = (envelope: Envelope, raw: Buffer | undefined): string | undefined => {
    const verdict = this.check(envelope, raw?.toString('utf8'));
    return verdict.ok ? undefined : `${verdict.reason}: ${verdict.detail}`;
  };

  /** Verdicts (`signature.accepted`, `signature.refused.<reason>`) and fetches (`crl.refreshed`, `crl.refresh-failed`, …). */
  counters(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.counts).sort(([a], [b]) => a.localeCompare(b)));
  }

  /** The loaded CRL's nextUpdate, unix seconds; 0 when none is loaded or it has none. */
  crlNextUpdate(): number {
    const next = this.crl?.current?.nextUpdate;
    return next ? next.getTime() / 1000 : 0;
  }

  /** True while a configured CRL is missing or past its nextUpdate. */
  crlStale(): boolean {
    if (!this.crl) return false;
    const next = this.crl.current?.nextUpdate;
    return !this.crl.current || (next !== undefined && this.now() > next.getTime());
  }

  private add(name: string): void {
    this.counts[name] = (this.counts[name] ?? 0) + 1;
  }

  private warnLimited(key: string, message: string): void {
    const now = this.now();
    const last = this.warned.get(key);
    if (last && now - last.at < WARN_INTERVAL_MS) {
      last.suppressed++;
      return;
    }
    const more = last && last.suppressed > 0 ? ` (${last.suppressed} more since the last warning)` : '';
    this.warned.set(key, { at: now, suppressed: 0 });
    this.options.log('warn', `${message}${more}`);
  }
}
