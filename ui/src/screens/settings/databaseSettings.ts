// Settings → Shop database without Svelte: what a connection test found and what choosing
// did, as sentences in the owner's language.
import type { DatabaseCheck } from '../../lib/bindings';
import { pluralKey, translate, type Locale } from '../../lib/i18n/translate';

/** What a test found: an empty database Shopcast will set up, or a shop and its products. */
export function checkSentence(check: DatabaseCheck, locale: Locale): string {
  if (check.empty) return translate(locale, 'databaseSettings.checkEmpty');
  if (check.products == null) return translate(locale, 'databaseSettings.checkConnected', { address: check.address });
  return translate(locale, pluralKey(locale, 'databaseSettings.checkProducts', check.products), { count: check.products });
}

/** What choosing did; it only takes effect when Shopcast starts again. `toFile`: the shop file. */
export function chosenSentence(check: DatabaseCheck, toFile: boolean, locale: Locale): string {
  if (toFile) return translate(locale, 'databaseSettings.chosenFile');
  return translate(locale, 'databaseSettings.chosen', { address: check.address, found: checkSentence(check, locale) });
}
