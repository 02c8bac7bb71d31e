// Sending a hit. sendBeacon with a string body is a text/plain POST, a "simple"
// request: the browser sends no CORS preflight, and the request survives page
// unload. When the browser refuses the beacon (its queue is full, or beacons
// are disabled), an image GET carries the same JSON in its query: p.gif?d=<hit>.
export type Hit = {
  s?: string;
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

export function send(base: string, hit: Hit, body = JSON.stringify(hit)): void {
  if (!navigator.sendBeacon(base + 'hit', body)) new Image().src = base + 'p.gif?d=' + encodeURIComponent(body);
}
