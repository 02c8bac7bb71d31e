// Throughline tracker: the one script a site includes.
//   <script async src="https://collector.example/t.js" data-site="my-site"></script>
import { readIds } from './ids.js';
import { send } from './transport.js';

function eventId(): string {
  return (Date.now().toString(36) + Math.random().toString(36).slice(2, 12)).slice(0, 20);
}

try {
  const script = document.currentScript as HTMLScriptElement | null;
  if (script) {
    const endpoint = new URL('hit', script.src).href;
    const site = script.getAttribute('data-site') || location.hostname;
    const ids = readIds();
    send(endpoint, { s: site, k: 'visit', e: eventId(), t: Date.now(), u: location.href, r: document.referrer, g: ids.g, y: ids.y });
  }
} catch {
  // Never throw into the host page.
}
