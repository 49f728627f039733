// What every form of the shop keeps per field: touched, refused by the engine, shown error,
// plus the banner for errors that name no field. Product editor and shop settings share it.
import { routeError } from './errors';
import { t, type MessageKey } from './i18n/index.svelte';
import type { FieldErrors } from './validation';

/** An error sentence for a banner, with the engine's detail when it helps. */
export type Problem = { text: string; detail: string | null };

/** Focus the first field marked invalid inside `root` (after the DOM caught up). */
export function focusFirstInvalid(root: HTMLElement | undefined) {
  root?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
}

export class FormFields<F extends string> {
  submitted = $state(false);
  touched = $state<Partial<Record<F, boolean>>>({});
  serverErrors = $state<Partial<Record<F, string>>>({});
  banner = $state<Problem | null>(null);

  /**
   * `idPrefix` names the inputs (`editor-name`, `settings-currency`); `checks` is the
   * form's own validation, read lazily so it follows the draft.
   */
  constructor(
    private readonly idPrefix: string,
    private readonly fields: readonly F[],
    private readonly checks: () => FieldErrors<F>,
    private readonly aliases: Partial<Record<string, F>> = {},
  ) {}

  id(f: F): string {
    return `${this.idPrefix}-${f}`;
  }

  /** The engine's word wins; the form's own check shows once the field was left or submitted. */
  error(f: F): string | null {
    const server = this.serverErrors[f];
    if (server) return server;
    const key: MessageKey | undefined = this.checks()[f];
    return key && (this.submitted || this.touched[f]) ? t(key) : null;
  }

  describedBy(f: F): string {
    return this.error(f) ? `${this.id(f)}-error` : `${this.id(f)}-hint`;
  }

  touch(f: F) {
    this.touched[f] = true;
  }

  clearServer(f: F) {
    if (this.serverErrors[f]) this.serverErrors = { ...this.serverErrors, [f]: undefined };
  }

  /** Id, test id and error wiring of an input; `onLeave` runs before the field counts as touched. */
  input(f: F, onLeave?: () => void) {
    return {
      id: this.id(f),
      'data-testid': this.id(f),
      'aria-invalid': !!this.error(f),
      'aria-describedby': this.describedBy(f),
      oninput: () => this.clearServer(f),
      onblur: () => {
        onLeave?.();
        this.touch(f);
      },
    };
  }

  /** Forget earlier refusals before a new attempt. */
  startAttempt() {
    this.banner = null;
    this.serverErrors = {};
  }

  /** Put an engine error on its field, or on the banner; true when a field took it. */
  refuse(err: unknown): boolean {
    const routed = routeError(err, this.fields, this.aliases);
    if ('detail' in routed) {
      this.banner = { text: routed.text, detail: routed.detail };
      return false;
    }
    this.serverErrors = { [routed.field]: routed.text } as Partial<Record<F, string>>;
    return true;
  }

  /** A fresh start after the draft was (re)loaded or saved. */
  reset() {
    this.touched = {};
    this.submitted = false;
    this.serverErrors = {};
  }
}
