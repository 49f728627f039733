// The shop settings, loaded once at start and shared by every screen.
import { api, type ShopSettings } from './api';
import { setLocale } from './i18n/index.svelte';

export const shop = $state<{
  settings: ShopSettings | null;
  /** This computer's till name (Settings → This till); null when it has none. */
  till: string | null;
  /** False while the shop's database server does not answer. */
  databaseReachable: boolean;
}>({ settings: null, till: null, databaseReachable: true });

/** Reads this computer's till name; a failure leaves the till unnamed. */
export async function loadTill(): Promise<string | null> {
  try {
    shop.till = await api.tillName();
  } catch {
    shop.till = null;
  }
  return shop.till;
}

export async function saveTill(name: string): Promise<string | null> {
  shop.till = await api.setTillName(name.trim() === '' ? null : name);
  return shop.till;
}

export async function loadSettings(): Promise<ShopSettings> {
  const s = await api.getSettings();
  applySettings(s);
  return s;
}

export async function saveSettings(next: ShopSettings): Promise<ShopSettings> {
  const s = await api.saveSettings(next);
  applySettings(s);
  return s;
}

export function applySettings(s: ShopSettings): void {
  shop.settings = s;
  setLocale(s.locale);
}

/** First start: the shop has no name yet. */
export function needsSetup(s: ShopSettings | null): boolean {
  return s !== null && s.name.trim() === '';
}
