// The shop settings, loaded once at start and shared by every screen.
import { api, type ShopSettings } from './api';
import { setLocale } from './i18n/index.svelte';

export const shop = $state<{ settings: ShopSettings | null }>({ settings: null });

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
