// The native save dialog behind one function, with a door for the end-to-end tests: WebDriver
// cannot reach a GTK dialog, so a test queues the answers on `window.__shopcastE2E` (see
// tests/e2e/helpers.js). A script in this page can call every command anyway, so the door
// grants nothing new; without a queued answer the real dialog opens.
import { save } from '@tauri-apps/plugin-dialog';
import { t } from './i18n/index.svelte';
import { showToast } from './toast.svelte';

export type SaveOptions = { defaultPath?: string; filters?: { name: string; extensions: string[] }[] };

/** What a test puts on `window`: paths to answer the next save dialogs with, and what they asked. */
type DialogAnswers = { savePaths: string[]; asked: SaveOptions[] };

/** The path the owner chose, or null when they closed the dialog. */
export async function askSavePath(options: SaveOptions): Promise<string | null> {
  const answers = (globalThis as { __shopcastE2E?: DialogAnswers }).__shopcastE2E;
  if (answers && Array.isArray(answers.savePaths) && answers.savePaths.length > 0) {
    answers.asked?.push(options);
    return answers.savePaths.shift() ?? null;
  }
  return save(options);
}

/**
 * The native save dialog for the catalog export, signs and QR images: the chosen path, or null
 * when the owner closed it or it could not open (then a toast says so).
 */
export async function pickSavePath(options: SaveOptions): Promise<string | null> {
  try {
    return await save(options);
  } catch {
    showToast(t('csv.dialogFailed'), 'error');
    return null;
  }
}
