export type ToastKind = 'success' | 'info' | 'error';
export type Toast = { id: number; kind: ToastKind; text: string };

let nextId = 1;
export const toasts = $state<{ items: Toast[] }>({ items: [] });

export function dismissToast(id: number): void {
  toasts.items = toasts.items.filter((t) => t.id !== id);
}

export function showToast(text: string, kind: ToastKind = 'success', ms = kind === 'error' ? 8000 : 4000): number {
  const id = nextId++;
  toasts.items = [...toasts.items.slice(-3), { id, kind, text }];
  if (ms > 0) setTimeout(() => dismissToast(id), ms);
  return id;
}
