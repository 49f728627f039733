import { describe, expect, it } from 'vitest';
import { bytesToBase64 } from './base64';
import { mediaUrl } from './media';
import { PageCache, pagesFor, scrollToReveal, visibleRange } from './virtual';
import { CATALOGS, interpolate, pluralKey, resolveLocale, translate } from './i18n/translate';

describe('bytesToBase64', () => {
  it('matches Node for empty, tiny and chunk-boundary sizes', () => {
    for (const n of [0, 1, 2, 3, 4, 49151, 49152, 49153, 100_000]) {
      const bytes = new Uint8Array(n);
      for (let i = 0; i < n; i++) bytes[i] = (i * 7 + 3) & 0xff;
      expect(bytesToBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
    }
  });
  it('handles a 21 MB buffer without a stack overflow', () => {
    const bytes = new Uint8Array(21 * 1024 * 1024).fill(0xab);
    const out = bytesToBase64(bytes);
    expect(out.length).toBe(Math.ceil(bytes.length / 3) * 4);
    expect(out.slice(0, 8)).toBe(Buffer.from(bytes.subarray(0, 6)).toString('base64'));
  });
});

describe('mediaUrl', () => {
  const linux = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/605.1.15';
  const mac = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15';
  const win = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120 Edg/120';
  it('uses media://localhost on Linux and macOS', () => {
    expect(mediaUrl('abc123', 'full', linux)).toBe('media://localhost/abc123');
    expect(mediaUrl('abc123', 'thumb', mac)).toBe('media://localhost/abc123/thumb');
  });
  it('uses http://media.localhost on Windows', () => {
    expect(mediaUrl('abc123', 'full', win)).toBe('http://media.localhost/abc123');
    expect(mediaUrl('abc123', 'thumb', win)).toBe('http://media.localhost/abc123/thumb');
  });
});

describe('virtual list math', () => {
  it('computes the visible window with overscan, clamped to the data', () => {
    expect(visibleRange(0, 600, 60, 100_000, 5)).toEqual({ start: 0, end: 16 });
    expect(visibleRange(60_000, 600, 60, 100_000, 5)).toEqual({ start: 995, end: 1016 });
    expect(visibleRange(6_000_000, 600, 60, 100_000, 5)).toEqual({ start: 99_995, end: 100_000 });
    expect(visibleRange(0, 600, 60, 3, 5)).toEqual({ start: 0, end: 3 });
    expect(visibleRange(0, 600, 60, 0, 5)).toEqual({ start: 0, end: 0 });
  });
  it('never renders more than a screenful plus overscan, however big the list', () => {
    const r = visibleRange(3_000_000, 800, 60, 100_000, 6);
    expect(r.end - r.start).toBeLessThanOrEqual(Math.ceil(800 / 60) + 1 + 12);
  });
  it('maps a window to page offsets', () => {
    expect(pagesFor({ start: 0, end: 16 }, 100)).toEqual([0]);
    expect(pagesFor({ start: 95, end: 116 }, 100)).toEqual([0, 100]);
    expect(pagesFor({ start: 5, end: 5 }, 100)).toEqual([]);
  });
  it('scrolls just enough to reveal a row', () => {
    expect(scrollToReveal(0, 120, 600, 60)).toBe(0);
    expect(scrollToReveal(5, 0, 600, 60)).toBe(0);
    expect(scrollToReveal(10, 0, 600, 60)).toBe(60);
    expect(scrollToReveal(3, 300, 600, 60)).toBe(180);
  });
});

describe('PageCache', () => {
  it('claims each missing page once and ignores answers for old queries', () => {
    const c = new PageCache<number>(100);
    const gen = c.generation;
    expect(c.claimMissing({ start: 90, end: 120 })).toEqual([0, 100]);
    expect(c.claimMissing({ start: 90, end: 120 })).toEqual([]); // pending
    expect(c.put(gen, 0, [1, 2, 3])).toBe(true);
    expect(c.get(1)).toBe(2);
    const gen2 = c.reset();
    expect(c.put(gen, 100, [9])).toBe(false); // stale answer dropped
    expect(c.get(100)).toBeUndefined();
    expect(c.claimMissing({ start: 0, end: 10 })).toEqual([0]);
    c.release(gen2, 0);
    expect(c.claimMissing({ start: 0, end: 10 })).toEqual([0]);
  });
  it('keeps showing rows after invalidate until fresh pages arrive', () => {
    const c = new PageCache<string>(2);
    c.claimMissing({ start: 0, end: 2 });
    c.put(c.generation, 0, ['a', 'b']);
    const gen = c.invalidate();
    expect(c.get(0)).toBe('a');
    expect(c.has(0)).toBe(false);
    expect(c.claimMissing({ start: 0, end: 2 })).toEqual([0]);
    c.put(gen, 0, ['A', 'B']);
    expect(c.get(0)).toBe('A');
    expect(c.has(0)).toBe(true);
  });
  it('evicts far pages to bound memory', () => {
    const c = new PageCache<number>(10);
    for (let off = 0; off < 200; off += 10) {
      c.claimMissing({ start: off, end: off + 1 });
      c.put(c.generation, off, [off]);
    }
    c.evictFar({ start: 0, end: 10 }, 5, 195);
    expect(c.size).toBe(5);
    expect(c.has(0)).toBe(true);
    expect(c.has(190)).toBe(true); // pinned (the focused row's page)
    expect(c.has(180)).toBe(false);
  });
});

describe('i18n', () => {
  const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

  it('has the same keys in every language', () => {
    expect(Object.keys(CATALOGS['zh-CN']).sort()).toEqual(Object.keys(CATALOGS.en).sort());
  });
  it('uses the same placeholders in every language and no empty strings', () => {
    for (const [key, en] of Object.entries(CATALOGS.en)) {
      const zh = CATALOGS['zh-CN'][key as keyof typeof CATALOGS.en];
      expect(zh.trim(), key).not.toBe('');
      expect(placeholders(zh), key).toEqual(placeholders(en));
    }
  });
  it('really is translated', () => {
    expect(translate('zh-CN', 'nav.catalog')).toBe('商品目录');
    expect(translate('en', 'nav.catalog')).toBe('Catalog');
  });
  it('interpolates and picks plural forms', () => {
    expect(interpolate('No products match “{search}”.', { search: 'xyz' })).toBe('No products match “xyz”.');
    expect(interpolate('{a} {b}', { a: 1 })).toBe('1 {b}');
    expect(translate('en', pluralKey('en', 'catalog.count', 1), { count: 1 })).toBe('1 product');
    expect(translate('en', pluralKey('en', 'catalog.count', 100000), { count: 100000 })).toBe('100000 products');
    expect(translate('zh-CN', pluralKey('zh-CN', 'catalog.count', 1), { count: 1 })).toBe('共 1 件商品');
  });
  it('resolves locales', () => {
    expect(resolveLocale('zh-CN')).toBe('zh-CN');
    expect(resolveLocale('zh_CN')).toBe('zh-CN');
    expect(resolveLocale('zh-Hans-CN')).toBe('zh-CN');
    expect(resolveLocale('en-GB')).toBe('en');
    expect(resolveLocale('de')).toBe('en');
    expect(resolveLocale('')).toBe('en');
    expect(resolveLocale(null)).toBe('en');
  });
});
