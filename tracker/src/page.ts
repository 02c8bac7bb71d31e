// The page's globals under short names: each is written once in the bundle
// instead of at every use (the tracker pays for every byte).
export const w = window as Window & { throughline?: import('./hooks/inner.js').PageApi };
export const d = document;
export const loc = location;
