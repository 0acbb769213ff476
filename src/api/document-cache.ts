import type { DocumentNode } from 'graphql';
import { LRUCache } from 'lru-cache';

/** Parsed documents kept for reuse, counted in query characters (a parsed document takes about 60 bytes of heap per character). */
export const DOCUMENT_CACHE_CHARS = 1024 * 1024;
/** Documents longer than this are parsed each time, not cached: clients repeat small documents. */
export const MAX_CACHED_DOCUMENT_CHARS = 16 * 1024;

/**
 * Apollo's document store, bounded by the text it holds. Apollo's default
 * (30 MiB as measured by JSON.stringify of the AST) lets large documents
 * pin hundreds of MB of syntax trees.
 */
export class DocumentCache {
  private readonly entries = new LRUCache<string, DocumentNode>({
    maxSize: DOCUMENT_CACHE_CHARS,
    maxEntrySize: MAX_CACHED_DOCUMENT_CHARS,
    sizeCalculation: length,
  });

  async get(key: string): Promise<DocumentNode | undefined> {
    return this.entries.get(key);
  }

  async set(key: string, document: DocumentNode): Promise<void> {
    this.entries.set(key, document);
  }

  async delete(key: string): Promise<boolean> {
    return this.entries.delete(key);
  }
}

/** A document without its source text counts as the largest cacheable one. */
function length(document: DocumentNode): number {
  return Math.max(1, document.loc?.source.body.length ?? MAX_CACHED_DOCUMENT_CHARS);
}
