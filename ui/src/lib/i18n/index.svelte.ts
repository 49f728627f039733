// A tiny reactive i18n store: `t()` reads the current locale ($state), so
// any template calling it re-renders when the locale changes.
import {
  type Locale,
  type MessageKey,
  type Params,
  type PluralKey,
  pluralKey,
  resolveLocale,
  translate,
} from './translate';

export { LOCALE_NAMES, SUPPORTED_LOCALES, isMessageKey, resolveLocale } from './translate';
export type { Locale, MessageKey, Params, PluralKey } from './translate';

const state = $state<{ locale: Locale }>({ locale: 'en' });

export function setLocale(tag: string | null | undefined): Locale {
  const locale = resolveLocale(tag);
  state.locale = locale;
  if (typeof document !== 'undefined') document.documentElement.lang = locale;
  return locale;
}

export function getLocale(): Locale {
  return state.locale;
}

export function t(key: MessageKey, params?: Params): string {
  return translate(state.locale, key, params);
}

/** Plural-aware: tn("catalog.count", 3) uses "catalog.count.other" with {count}. */
export function tn(base: PluralKey, count: number, params?: Params): string {
  return translate(state.locale, pluralKey(state.locale, base, count), { count, ...params });
}
