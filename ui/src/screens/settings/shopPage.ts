// Settings → Shop page without Svelte: the port as typed, and the status line in the
// owner's language.
import type { ShopPageView } from '../../lib/bindings';
import { translate, type Locale } from '../../lib/i18n/translate';

/** The port as typed: a whole number from 1024 to 65535 (lower ones need administrator rights). */
export function parsePort(text: string): number | null {
  const trimmed = text.trim();
  if (!/^\d{1,5}$/.test(trimmed)) return null;
  const port = Number(trimmed);
  return port >= 1024 && port <= 65535 ? port : null;
}

/**
 * What the shop page is doing: off; running (where, which address links use, how many
 * requests and when the last came); or switched on but not running, and why.
 */
export function statusLines(view: ShopPageView, locale: Locale, time: (ms: number) => string): string[] {
  const running = view.running;
  if (running) {
    return [
      translate(locale, 'shopPage.listening', { listening: running.listening, publicUrl: running.publicUrl }),
      running.lastRequestAt == null
        ? translate(locale, 'shopPage.noRequests')
        : translate(locale, 'shopPage.requests', { count: running.requests, time: time(running.lastRequestAt) }),
    ];
  }
  if (view.settings.enabled && view.problem) return [translate(locale, 'shopPage.notRunning', { problem: view.problem })];
  return [translate(locale, 'shopPage.off')];
}
