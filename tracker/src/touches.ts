// The touches (where a visitor came from): the contract's rule (contract/touches.ts),
// which the collector applies too in first-party mode, and the query reading.
export { campaign, nextTouches, TOUCH_DAYS, TOUCH_HREF_MAX, TOUCH_REFERRER_MAX, type Touch } from '../../contract/touches.js';

/** The query parameters that make a campaign: UTM tags, then ad click ids (the contract's list, which the collector reads). */
export { CAMPAIGN_PARAMS as CAMPAIGN, UTM_TAGS as UTM } from '../../contract/campaign.js';

/** Query parameters of a URL or of a touch's landing URL: the contract's reading, which the collector shares. */
export { queryOf as params } from '../../contract/campaign.js';
