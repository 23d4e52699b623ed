import { createSecureContext, type SecureContext } from 'node:tls';
import { issueLeaf, LEAF_VALIDITY_MS, openCaSigner, type CaPem, type CaSigner } from './ca-create.js';

/**
 * TLS server contexts for intercepted hosts, one per host name, made on first
 * use and kept in a bounded LRU. The cache holds the *promise* of a context,
 * so a burst of CONNECTs to a cold host shares one signing instead of racing
 * to make many; a failed signing is forgotten so the next request retries.
 */

export interface LeafCacheOptions {
  /**
   * Hosts kept (default 1000). A context is a few KB of native memory; 1000
   * covers the distinct hosts of a busy service's outbound traffic while a
   * crawler-like client cannot grow the proxy without bound.
   */
  maxHosts?: number;
  now?: () => number;
}

export interface LeafCacheStats {
  /** Leaf certificates signed. */
  issued: number;
  /** Requests answered from the cache (including ones that joined a signing in progress). */
  hits: number;
  /** Contexts dropped to stay within maxHosts. */
  evicted: number;
}

interface Entry {
  context: Promise<SecureContext>;
  /** Re-issue after this time (ms): a day before the leaf expires. */
  renewAt: number;
}

// A day's margin: a long-running proxy never presents a leaf about to lapse.
const RENEW_MARGIN_MS = 86_400_000;

export class LeafCertCache {
  readonly stats: LeafCacheStats = { issued: 0, hits: 0, evicted: 0 };
  private readonly entries = new Map<string, Entry>();
  private readonly maxHosts: number;
  private readonly now: () => number;

  constructor(
    private readonly signer: CaSigner,
    options: LeafCacheOptions = {},
  ) {
    this.maxHosts = Math.max(1, options.maxHosts ?? 1000);
    this.now = options.now ?? Date.now;
  }

  /**
   * A cache over a CA given as PEM (validated: see openCaSigner).
   *
   * @example
   * const leaves = await LeafCertCache.open(await loadCa());
   * const ctx = await leaves.contextFor('example.com');
   */
  static async open(ca: CaPem, options: LeafCacheOptions & { where?: string } = {}): Promise<LeafCertCache> {
    return new LeafCertCache(await openCaSigner(ca, options.where), options);
  }

  /** The TLS context presenting a leaf for `host` (lower-cased DNS name or bare IP literal). */
  contextFor(host: string): Promise<SecureContext> {
    const key = host.toLowerCase();
    const now = this.now();
    const hit = this.entries.get(key);
    if (hit && hit.renewAt > now) {
      // Re-insert to mark as most recently used (Map keeps insertion order).
      this.entries.delete(key);
      this.entries.set(key, hit);
      this.stats.hits++;
      return hit.context;
    }
    const context = this.issue(key);
    this.entries.delete(key);
    this.entries.set(key, { context, renewAt: now + LEAF_VALIDITY_MS - RENEW_MARGIN_MS });
    context.catch(() => {
      if (this.entries.get(key)?.context === context) this.entries.delete(key);
    });
    while (this.entries.size > this.maxHosts) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
      this.stats.evicted++;
    }
    return context;
  }

  /** Hosts currently cached. */
  get size(): number {
    return this.entries.size;
  }

  private async issue(host: string): Promise<SecureContext> {
    const leaf = await issueLeaf(this.signer, host, new Date(this.now()));
    this.stats.issued++;
    return createSecureContext({ cert: leaf.cert, key: leaf.key });
  }
}
