import type { MessageKey } from './i18n/translate';

export type SectionId = 'catalog' | 'post' | 'till' | 'payments' | 'signage' | 'reports' | 'settings';
export type Section = { id: SectionId; label: MessageKey; enabled: boolean };

/** Every section of the app; later ones stay hidden until they work. */
export const SECTIONS: readonly Section[] = [
  { id: 'catalog', label: 'nav.catalog', enabled: true },
  { id: 'post', label: 'nav.post', enabled: true },
  { id: 'till', label: 'nav.till', enabled: true },
  { id: 'payments', label: 'nav.payments', enabled: true },
  { id: 'signage', label: 'nav.signage', enabled: true },
  { id: 'reports', label: 'nav.reports', enabled: true },
  { id: 'settings', label: 'nav.settings', enabled: true },
];

export const ENABLED_SECTIONS = SECTIONS.filter((s) => s.enabled);
