import { putHeader } from './header-list';

describe('putHeader', () => {
  it('appends a new name and replaces one already there in any case, in its place', () => {
    const list: (string | number)[] = ['Content-Type', 'text/plain', 'x-a', '1'];
    putHeader(list, 'content-type', 'application/json');
    putHeader(list, 'content-length', 2);
    putHeader(list, 'X-A', '2');
    expect(list).toEqual(['content-type', 'application/json', 'X-A', '2', 'content-length', 2]);
  });
});
