// Pure helpers behind the i18n store (kept rune-free so they unit-test in Node).
import en from './en.json';
import zhCN from './zh-CN.json';

export type MessageKey = keyof typeof en;
export type Messages = Record<MessageKey, string>;
export type Params = Record<string, string | number>;

/** Keys that come in plural forms: "catalog.count" for "catalog.count.one"/".other". */
export type PluralKey = MessageKey extends infer K
  ? K extends `${infer B}.other`
    ? B
    : never
  : never;

export const SUPPORTED_LOCALES = ['en', 'zh-CN'] as const;
export type Locale = (typeof SUPPORTED_LOCALES)[number];

/** Names are shown in their own language, so they are not translated. */
export const LOCALE_NAMES: Record<Locale, string> = {
  en: 'English',
  'zh-CN': '简体中文',
};

const zh: Messages = zhCN;
export const CATALOGS: Record<Locale, Messages> = { en, 'zh-CN': zh };

/** Map any locale tag to a supported UI locale; unknown or empty → "en". */
export function resolveLocale(tag: string | null | undefined): Locale {
  const t = (tag ?? '').trim().toLowerCase().replace(/_/g, '-');
  if (t === 'zh' || t === 'zh-cn' || t.startsWith('zh-hans') || t === 'zh-sg') return 'zh-CN';
  return 'en';
}

/** Replace {name} placeholders; unknown placeholders are left as they are. */
export function interpolate(template: string, params?: Params): string {
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (m, name: string) =>
    Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : m,
  );
}

export function translate(locale: Locale, key: MessageKey, params?: Params): string {
  const msg = CATALOGS[locale][key] ?? CATALOGS.en[key] ?? key;
  return interpolate(msg, params);
}

const pluralRules = new Map<Locale, Intl.PluralRules>();

export function pluralKey(locale: Locale, base: PluralKey, count: number): MessageKey {
  let rules = pluralRules.get(locale);
  if (!rules) {
    rules = new Intl.PluralRules(locale);
    pluralRules.set(locale, rules);
  }
  const candidate = `${base}.${rules.select(count)}`;
  return (candidate in CATALOGS.en ? candidate : `${base}.other`) as MessageKey;
}

export function isMessageKey(key: string): key is MessageKey {
  return key in CATALOGS.en;
}
