import { isUntracedPath, UNTRACED_PATHS } from './telemetry.http-server';

describe('isUntracedPath', () => {
  it('says what UNTRACED_PATHS says, for the paths it skips and those next to them', () => {
    const urls = [
      '/health',
      '/health/live',
      '/health?verbose=1',
      '/healthz',
      '/metrics',
      '/metrics/',
      '/metrics?name[]=x',
      '/metricsx',
      '/h',
      '/m',
      '/',
      '',
      '/v1/chat/completions',
      '/v1/models?x=/health',
      '/Health',
    ];
    for (const url of urls)
      expect([url, isUntracedPath(url)]).toEqual([url, UNTRACED_PATHS.test(url)]);
    expect(urls.filter((url) => isUntracedPath(url))).toEqual([
      '/health',
      '/health/live',
      '/health?verbose=1',
      '/metrics',
      '/metrics/',
      '/metrics?name[]=x',
    ]);
  });

  it('traces a request without a URL, as the expression on an empty one does', () => {
    expect(isUntracedPath(undefined)).toBe(false);
  });
});
