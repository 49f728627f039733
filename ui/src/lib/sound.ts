// The till's "paid" chime: two short sine tones made with Web Audio (no sound files).
// Browsers only let a page make sound after a click, so the till calls `unlockSound()`
// when the owner starts a charge and `chime()` when the payment arrives.

let context: AudioContext | null = null;

function audio(): AudioContext | null {
  if (context) return context;
  try {
    const Ctor = globalThis.AudioContext ?? (globalThis as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext;
    context = Ctor ? new Ctor() : null;
  } catch {
    context = null; // no audio device: the till stays silent
  }
  return context;
}

/** Call from a click so that a later `chime()` may play. */
export function unlockSound(): void {
  const ctx = audio();
  if (ctx && ctx.state === 'suspended') void ctx.resume().catch(() => {});
}

/** A short rising two-note beep. Never throws. */
export function chime(): void {
  const ctx = audio();
  if (!ctx) return;
  try {
    if (ctx.state === 'suspended') void ctx.resume().catch(() => {});
    const start = ctx.currentTime + 0.01;
    [880, 1320].forEach((frequency, i) => {
      const at = start + i * 0.14;
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = 'sine';
      osc.frequency.value = frequency;
      // A quick fade in and out avoids clicks.
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.25, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.12);
      osc.connect(gain).connect(ctx.destination);
      osc.start(at);
      osc.stop(at + 0.13);
    });
  } catch {
    // Sound is a nicety; the screen already says "Paid".
  }
}
