// URLs of images served by the Rust `media` custom protocol.
//   Linux / macOS:    media://localhost/<hash>        media://localhost/<hash>/thumb
//   Windows/Android:  http://media.localhost/<hash>   http://media.localhost/<hash>/thumb
export type MediaVariant = 'full' | 'thumb';

/** Whether custom protocols are reached as http://<scheme>.localhost (WebView2, Android). */
export function usesHttpSchemeHost(userAgent: string = typeof navigator !== 'undefined' ? navigator.userAgent : ''): boolean {
  return /Windows|Android/i.test(userAgent);
}

let override: ((hash: string, variant: MediaVariant) => string) | null = null;

/** Dev-only hook (mock backend in the browser); production never sets it. */
export function setMediaUrlOverride(fn: ((hash: string, variant: MediaVariant) => string) | null): void {
  override = fn;
}

export function mediaUrl(hash: string, variant: MediaVariant = 'full', userAgent?: string): string {
  if (override) return override(hash, variant);
  const base = usesHttpSchemeHost(userAgent) ? 'http://media.localhost/' : 'media://localhost/';
  const path = encodeURIComponent(hash);
  return variant === 'thumb' ? `${base}${path}/thumb` : `${base}${path}`;
}
