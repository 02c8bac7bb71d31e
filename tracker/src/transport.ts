// Sending a hit. A text/plain POST is a "simple" request: the browser sends no
// CORS preflight. sendBeacon (or fetch with keepalive) survives page unload.
// When both fail (a Content-Security-Policy that allows images but not
// connections, a beacon queue that is full), an image GET carries the same
// JSON in its query: p.gif?d=<hit>.
export type Hit = {
  s: string;
  k: 'visit' | 'lead' | 'tel';
  e: string;
  t: number;
  u: string;
  r: string;
  g: string;
  y: string;
  v: string;
  p?: Record<string, string>;
};

export function send(base: string, hit: Hit): void {
  const body = JSON.stringify(hit);
  navigator.sendBeacon(base + 'hit', body) ||
    fetch(base + 'hit', { method: 'POST', body, keepalive: true }).catch(() => {
      new Image().src = base + 'p.gif?d=' + encodeURIComponent(body);
    });
}
