// When a message that could not be sent is tried again: exponential back-off
// with jitter. The delay doubles with each attempt from BASE up to CAP; half of
// it is fixed and half random ("equal jitter"), so a vendor that is down is
// never hammered, and the messages that failed together (a whole queue when the
// vendor went down) do not all come back together. A message is tried until it
// is sent, refused, or past its sender's time limit (GA4: 72 hours).

export const RETRY_BASE_MS = 1000;
export const RETRY_CAP_MS = 15 * 60_000;

/** Milliseconds to wait after the `attempts`-th failed try (1, 2, …); `random` in [0, 1). */
export function retryDelay(attempts: number, random: () => number = Math.random): number {
  const ceiling = Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** Math.min(Math.max(attempts, 1) - 1, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
