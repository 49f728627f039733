// Every post the window knows of, shared by the Post screen, the product editor and the
// account settings: filled from history requests, command replies and `post-update` events,
// so a post sent while another screen is open is current wherever it is shown next.
import { api, type Post } from '../../lib/api';
import { HISTORY_LIMIT, mergePosts, type HistoryScope } from './posts';

export const outbox = $state<{ posts: Post[] }>({ posts: [] });

let listening: Promise<void> | null = null;

/** Starts following the engine's post updates (once for the life of the window). */
export function followPostUpdates(): Promise<void> {
  listening ??= api
    .onPostUpdate((post) => applyPosts([post]))
    .then(() => {})
    .catch(() => {
      listening = null; // no event bridge (tests, a failed start): try again next time
    });
  return listening;
}

/** Records posts from a reply or an event; an older snapshot never replaces a newer one. */
export function applyPosts(posts: readonly Post[]): void {
  // The cache holds several scopes' pages; the limit only stops it growing without end.
  outbox.posts = mergePosts(outbox.posts, posts, HISTORY_LIMIT * 4);
}

/** Loads one scope's history from the engine into the shared list. */
export async function loadHistory(scope: HistoryScope): Promise<void> {
  await followPostUpdates();
  const posts = await api.postHistory(scope.productId ?? null, scope.accountId ?? null);
  applyPosts(posts);
}
