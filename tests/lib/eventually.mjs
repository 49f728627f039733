// What the JavaScript test suites (tests/e2e, tests/shoppage) share, free of any package.

/**
 * Retry `fn` (which asserts or throws) until it passes; on timeout rethrow its last error,
 * so the failure says what was seen, not just "timed out".
 */
export async function eventually(fn, { timeout = 10_000, interval = 100 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() >= deadline) {
        if (err instanceof Error) err.message = `after ${timeout} ms: ${err.message}`;
        throw err;
      }
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}
