import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';

async function start() {
  // In `vite dev` in a plain browser (no Tauri), use an in-memory mock backend.
  // `import.meta.env.DEV` is false in `vite build`, so none of it ships.
  if (import.meta.env.DEV && !('__TAURI_INTERNALS__' in window && 'invoke' in (window as any).__TAURI_INTERNALS__)) {
    const { installMockBackend } = await import('./dev/mockBackend');
    installMockBackend(new URLSearchParams(location.search));
  }
  mount(App, { target: document.getElementById('app')! });
}

void start();
