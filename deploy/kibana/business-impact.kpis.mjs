// The headline numbers at the top of the Business impact dashboard: how bad is it, right now.
import { count, metric, ratioFormula } from './lens-columns.mjs';
import { CALLS, FAILED_CALLS, FAILURE, panel, REQUESTS } from './business-impact.queries.mjs';
import { metricVis } from './saved-objects.mjs';

/** No failures reads 0, not an empty panel. */
const ZERO = { emptyAsNull: false };

/** A headline number; `columns` holds the column `value` (and a formula's helper columns). */
const kpi = (id, title, description, query, columns) =>
  panel({
    id,
    title,
    description,
    visualizationType: 'lnsMetric',
    query,
    columns,
    visualization: metricVis('value'),
  });

export const kpis = {
  errorRate: kpi(
    'llm-kpi-call-error-rate',
    'LLM calls failed (%)',
    'Share of logical LLM calls (after retries and fallbacks) that failed in the selected time range.',
    CALLS,
    ratioFormula('value', 'Failed calls', FAILURE),
  ),
  usersAffected: kpi(
    'llm-kpi-users-affected',
    'Users affected',
    'Distinct users (user.id) who had at least one failed LLM call.',
    FAILED_CALLS,
    { value: metric('unique_count', 'user.id', 'Users affected', ZERO) },
  ),
  featuresAffected: kpi(
    'llm-kpi-features-affected',
    'Features affected',
    'Distinct features (llm.feature) with at least one failed LLM call.',
    FAILED_CALLS,
    { value: metric('unique_count', 'llm.feature', 'Features affected', ZERO) },
  ),
  requestsHurt: kpi(
    'llm-kpi-requests-hurt',
    'Requests failed or degraded',
    'Inbound requests whose LLM calls failed (failure) or partly failed while the request still answered (degraded).',
    `${REQUESTS} and llm.request.outcome : ("failure" or "degraded")`,
    { value: count('Requests failed or degraded', undefined, ZERO) },
  ),
};
