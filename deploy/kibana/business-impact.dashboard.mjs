// The Business impact dashboard: its data view, its panels and where they sit (48-column grid,
// the most urgent question first). build-saved-objects.mjs turns it into business-impact.ndjson.
import { charts as c } from './business-impact.panels.mjs';
import { kpis as k } from './business-impact.kpis.mjs';
import { DATA_VIEW_ID } from './business-impact.queries.mjs';
import { dashboard, dataView } from './saved-objects.mjs';

export const DASHBOARD_ID = 'llm-business-impact';

/** Every saved object, in import order: data view, visualizations, then the dashboard. */
export const savedObjects = () => [
  dataView({ id: DATA_VIEW_ID, name: 'LLM calls', pattern: 'logs-llm.calls-*' }),
  ...Object.values(k),
  ...Object.values(c),
  dashboard({
    id: DASHBOARD_ID,
    title: 'Business impact',
    description:
      'Which features and how many users LLM failures hurt, since when, and whether it is the provider or us.',
    panels: [
      { lens: k.errorRate, x: 0, y: 0, w: 12, h: 6 },
      { lens: k.usersAffected, x: 12, y: 0, w: 12, h: 6 },
      { lens: k.featuresAffected, x: 24, y: 0, w: 12, h: 6 },
      { lens: k.requestsHurt, x: 36, y: 0, w: 12, h: 6 },
      { lens: c.errorRateByFeature, x: 0, y: 6, w: 24, h: 13 },
      { lens: c.usersByFeature, x: 24, y: 6, w: 24, h: 13 },
      { lens: c.errorKinds, x: 0, y: 19, w: 24, h: 13 },
      { lens: c.breakerStates, x: 24, y: 19, w: 24, h: 13 },
      { lens: c.topFailingUsers, x: 0, y: 32, w: 24, h: 15 },
      { lens: c.requestOutcomes, x: 24, y: 32, w: 24, h: 15 },
      { lens: c.latency, x: 0, y: 47, w: 16, h: 13 },
      { lens: c.tokens, x: 16, y: 47, w: 16, h: 13 },
      { lens: c.savedByRetries, x: 32, y: 47, w: 16, h: 13 },
      { lens: c.jobQueueWait, x: 0, y: 60, w: 24, h: 13 },
      { lens: c.messages, x: 24, y: 60, w: 24, h: 13 },
    ],
  }),
];
