// Pure logic behind the virtualized product list.

export type Range = { start: number; end: number }; // end is exclusive

/** Rows to render for a scroll position, with `overscan` extra rows each side. */
export function visibleRange(
  scrollTop: number,
  viewportHeight: number,
  rowHeight: number,
  total: number,
  overscan = 6,
): Range {
  if (total <= 0 || rowHeight <= 0) return { start: 0, end: 0 };
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const count = Math.ceil(Math.max(0, viewportHeight) / rowHeight) + 1;
  const start = Math.max(0, Math.min(first - overscan, total - 1));
  const end = Math.min(total, first + count + overscan);
  return { start, end: Math.max(start, end) };
}

/** Offsets of the pages (of `pageSize` rows) that cover `range`. */
export function pagesFor(range: Range, pageSize: number): number[] {
  if (range.end <= range.start) return [];
  const out: number[] = [];
  const first = Math.floor(range.start / pageSize) * pageSize;
  for (let off = first; off < range.end; off += pageSize) out.push(off);
  return out;
}

/** scrollTop that brings row `index` fully into view (unchanged if it already is). */
export function scrollToReveal(index: number, scrollTop: number, viewportHeight: number, rowHeight: number): number {
  const top = index * rowHeight;
  const bottom = top + rowHeight;
  if (top < scrollTop) return top;
  if (bottom > scrollTop + viewportHeight) return Math.max(0, bottom - viewportHeight);
  return scrollTop;
}

/**
 * Pages of rows cached by offset. A `generation` number ties fetched pages to
 * the query they were asked for: bump it (via reset) when the query changes
 * and late answers for the old query are ignored.
 */
export class PageCache<T> {
  readonly pageSize: number;
  private pages = new Map<number, T[]>();
  private pending = new Set<number>();
  private stale = new Set<number>();
  private gen = 0;

  constructor(pageSize = 100) {
    this.pageSize = pageSize;
  }

  get generation(): number {
    return this.gen;
  }

  /** Forget everything and start a new generation. */
  reset(): number {
    this.pages.clear();
    this.pending.clear();
    this.stale.clear();
    return ++this.gen;
  }

  /**
   * Start a new generation but keep showing the cached rows until fresh
   * pages replace them (no flicker when refreshing after an edit).
   */
  invalidate(): number {
    this.pending.clear();
    this.stale = new Set(this.pages.keys());
    return ++this.gen;
  }

  pageOffset(index: number): number {
    return Math.floor(index / this.pageSize) * this.pageSize;
  }

  get(index: number): T | undefined {
    const page = this.pages.get(this.pageOffset(index));
    return page?.[index - this.pageOffset(index)];
  }

  /** Whether a fresh (not stale) page is cached at `offset`. */
  has(offset: number): boolean {
    return this.pages.has(offset) && !this.stale.has(offset);
  }

  /** Offsets of `range` that are neither cached nor being fetched; marks them pending. */
  claimMissing(range: Range): number[] {
    const out: number[] = [];
    for (const off of pagesFor(range, this.pageSize)) {
      if ((this.pages.has(off) && !this.stale.has(off)) || this.pending.has(off)) continue;
      this.pending.add(off);
      out.push(off);
    }
    return out;
  }

  /** Store a fetched page; returns false (and drops it) if it belongs to an old generation. */
  put(gen: number, offset: number, items: T[]): boolean {
    if (gen !== this.gen) return false;
    this.pending.delete(offset);
    this.stale.delete(offset);
    this.pages.set(offset, items);
    return true;
  }

  /** A fetch failed: allow it to be claimed again. */
  release(gen: number, offset: number): void {
    if (gen === this.gen) this.pending.delete(offset);
  }

  /** Number of cached pages (for tests and limits). */
  get size(): number {
    return this.pages.size;
  }

  /** Drop cached pages far from `keep` (never the page of `pinnedIndex`) to bound memory. */
  evictFar(keep: Range, maxPages: number, pinnedIndex: number | null = null): void {
    if (this.pages.size <= maxPages) return;
    const centre = (keep.start + keep.end) / 2;
    const pinned = pinnedIndex === null ? -1 : this.pageOffset(pinnedIndex);
    const offsets = [...this.pages.keys()].filter((o) => o !== pinned).sort(
      (a, b) => Math.abs(b + this.pageSize / 2 - centre) - Math.abs(a + this.pageSize / 2 - centre),
    );
    while (this.pages.size > maxPages && offsets.length) {
      const off = offsets.shift()!;
      this.pages.delete(off);
      this.stale.delete(off);
    }
  }
}
