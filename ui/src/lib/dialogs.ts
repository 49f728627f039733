// The native open and save dialogs. They open from Rust (`pickOpenFile`, `pickSaveFile`), which
// grants the chosen path to the file commands for this run: a path the page makes up itself is
// refused (path_not_allowed). The end-to-end tests' door: WebDriver cannot reach a GTK dialog, so
// a test queues answers on `window.__shopcastE2E` (see tests/e2e/helpers.js); each answer goes to
// Rust (`answerDialogForE2e`), which takes it only when the app was started by tests/e2e/run.sh
// (SHOPCAST_E2E_DIALOGS=1, not something a page can set).
import { api } from './api';
import { t } from './i18n/index.svelte';
import { showToast } from './toast.svelte';

export type SaveOptions = { defaultPath?: string; filters?: { name: string; extensions: string[] }[] };

/** What a test puts on `window`: paths to answer the next dialogs with, and what they asked. */
type DialogAnswers = { savePaths: string[]; asked: SaveOptions[] };

/** The next queued test answer, if a test queued one; `undefined` otherwise. */
async function queuedAnswer(options: SaveOptions): Promise<string | undefined> {
  const answers = (globalThis as { __shopcastE2E?: DialogAnswers }).__shopcastE2E;
  if (!answers || !Array.isArray(answers.savePaths) || answers.savePaths.length === 0) return undefined;
  answers.asked?.push(options);
  const path = answers.savePaths.shift() as string;
  await api.answerDialogForE2e(path);
  return path;
}

const forRust = (options: SaveOptions) => ({ defaultPath: options.defaultPath ?? null, filters: options.filters ?? [] });

/** The path the owner chose to write to, or null when they closed the dialog. */
export async function askSavePath(options: SaveOptions): Promise<string | null> {
  return (await queuedAnswer(options)) ?? api.pickSaveFile(forRust(options));
}

/** The file the owner chose to read, or null when they closed the dialog. */
export async function askOpenPath(options: SaveOptions): Promise<string | null> {
  return (await queuedAnswer(options)) ?? api.pickOpenFile(forRust(options));
}

/**
 * The native save dialog for the catalog export, signs and QR images: the chosen path, or null
 * when the owner closed it or it could not open (then a toast says so).
 */
export async function pickSavePath(options: SaveOptions): Promise<string | null> {
  try {
    return await askSavePath(options);
  } catch {
    showToast(t('csv.dialogFailed'), 'error');
    return null;
  }
}
