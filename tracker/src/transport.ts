// Sending a hit: a text/plain POST is a "simple" request, so the browser sends
// no CORS preflight; sendBeacon (or fetch keepalive) survives page unload.
export function send(endpoint: string, hit: object): void {
  const body = JSON.stringify(hit);
  if (navigator.sendBeacon && navigator.sendBeacon(endpoint, body)) return;
  fetch(endpoint, { method: 'POST', body, keepalive: true, headers: { 'Content-Type': 'text/plain' } }).catch(() => {});
}
