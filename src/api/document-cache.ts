import type { DocumentNode } from 'graphql';

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
  private readonly entries = new Map<string, DocumentNode>();
  private chars = 0;

  async get(key: string): Promise<DocumentNode | undefined> {
    const document = this.entries.get(key);
    if (document) {
      // Refresh recency.
      this.entries.delete(key);
      this.entries.set(key, document);
    }
    return document;
  }

  async set(key: string, document: DocumentNode): Promise<void> {
    const size = length(document);
    if (size > MAX_CACHED_DOCUMENT_CHARS || this.entries.has(key)) return;
    while (this.chars + size > DOCUMENT_CACHE_CHARS && this.entries.size) {
      const [oldest, evicted] = this.entries.entries().next().value!;
      this.entries.delete(oldest);
      this.chars -= length(evicted);
    }
    this.entries.set(key, document);
    this.chars += size;
  }

  async delete(key: string): Promise<boolean> {
    const document = this.entries.get(key);
    if (!document) return false;
    this.entries.delete(key);
    this.chars -= length(document);
    return true;
  }
}

function length(document: DocumentNode): number {
  return document.loc?.source.body.length ?? MAX_CACHED_DOCUMENT_CHARS;
}
