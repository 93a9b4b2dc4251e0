import { newRequestId } from './llm-context.storage';

describe('newRequestId', () => {
  it('makes random version-4 UUIDs, none twice, across its batches', () => {
    const ids = Array.from({ length: 300 }, () => newRequestId());
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });
});
