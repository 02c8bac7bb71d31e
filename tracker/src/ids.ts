// Ids the tracker reads from cookies other analytics tools set, and the
// Throughline visitor id the collector issues: the shared contract's rules
// (contract/ids.ts), which the collector reads them back with.
export { gaClientId, metrikaId as ymUid, VISITOR_ID_DAYS, visitorId } from '../../contract/ids.js';
