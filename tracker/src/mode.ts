// Which build of the core this is. t.js, the default, writes the visitor id's
// cookie itself. f.js, the first-party build (the collector serves it at
// /fp/t.js, for the path a site's own server forwards: README, "First-party
// mode"), leaves it to the collector's Set-Cookie, which Safari does not cap:
// a write from the script would cap it again. rollup.config.mjs builds f.js with
// this constant true; the minifier drops what the other build does not run.
export const FIRST_PARTY: boolean = false;
