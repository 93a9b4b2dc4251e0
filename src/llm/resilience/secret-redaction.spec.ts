import { maskUrlPasswords, redactSecrets } from './secret-redaction';

describe('redactSecrets', () => {
  it('masks every occurrence of a given secret', () => {
    expect(redactSecrets('key 0123abcd, again 0123abcd', ['0123abcd'])).toBe('key ***, again ***');
  });

  it('masks the longer of two overlapping secrets whole', () => {
    expect(redactSecrets('token abcd-efgh-ijkl', ['abcd', 'abcd-efgh-ijkl'])).toBe('token ***');
  });

  it('ignores undefined, empty and too-short secrets', () => {
    expect(redactSecrets('a b abc', [undefined, '', 'abc'])).toBe('a b abc');
  });

  it('treats a secret as text, not as a regular expression', () => {
    expect(redactSecrets('p.a+s$s and pxaas', ['p.a+s$s'])).toBe('*** and pxaas');
  });

  it('masks an OpenAI key that was not given', () => {
    expect(redactSecrets('bad key sk-abcdEFGH1234_xyz here')).toBe('bad key sk-*** here');
  });

  it('masks a project key', () => {
    expect(redactSecrets('sk-proj-Ab3_dE-fGh1jKlMn0pQ')).toBe('sk-***');
  });

  it("masks OpenAI's masked echo of a key, keeping the sentence", () => {
    const message = 'Incorrect API key provided: sk-proj-************************abcd. See docs.';
    expect(redactSecrets(message)).toBe('Incorrect API key provided: sk-***. See docs.');
  });

  it('masks a short masked form such as sk-ab*****cdef', () => {
    expect(redactSecrets('got sk-ab*****cdef')).toBe('got sk-***');
  });

  it('leaves words that merely contain sk- alone', () => {
    expect(redactSecrets('task-scheduler-queue and sk-short')).toBe(
      'task-scheduler-queue and sk-short',
    );
  });

  it('masks a bearer token, stopping at a quote', () => {
    expect(redactSecrets('{"authorization":"Bearer abc.def.ghi","x":1}')).toBe(
      '{"authorization":"Bearer ***","x":1}',
    );
  });

  it('masks a bearer token in any case', () => {
    expect(redactSecrets('authorization: bearer tok123')).toBe('authorization: bearer ***');
  });

  it('masks api-key header values and api_key query parameters', () => {
    expect(redactSecrets('api-key: 0f1e2d3c4b5a and /v1?api_key=zzz999&x=1')).toBe(
      'api-key: *** and /v1?api_key=***&x=1',
    );
  });

  it('is idempotent', () => {
    const once = redactSecrets('Bearer sk-abcdefgh12345678 and sk-abcdefgh12345678');
    expect(redactSecrets(once)).toBe(once);
    expect(once).toBe('Bearer *** and sk-***');
  });

  describe('parts of a given key', () => {
    // Built at run time: nothing key-shaped sits in the source.
    const key = ['Zq7', 'Wm2Rt9Xv', 'Lp4Kd8Hs', 'Nf3Gb6Jc'].join('');

    it('masks its last 12 characters, as a provider might echo them', () => {
      expect(redactSecrets(`key ****${key.slice(-12)} rejected`, [key])).toBe(
        'key ******* rejected',
      );
    });

    it('masks any run of 8 characters of it, wherever it stands', () => {
      expect(redactSecrets(`id=req${key.slice(5, 13)}x`, [key])).toBe('id=req***x');
    });

    it('masks its last 5 characters when they stand alone', () => {
      expect(redactSecrets(`ends in ${key.slice(-5)}.`, [key])).toBe('ends in ***.');
    });

    it('keeps its last 4 characters, as providers show them', () => {
      expect(redactSecrets(`ends in ${key.slice(-4)}.`, [key])).toBe(`ends in ${key.slice(-4)}.`);
    });
  });
});

describe('maskUrlPasswords', () => {
  it('masks the password of every URL, keeping user and host', () => {
    expect(maskUrlPasswords('at redis://app:pw1@cache:6379 and http://u:p%40ss@h/v1')).toBe(
      'at redis://app:***@cache:6379 and http://u:***@h/v1',
    );
  });

  it('leaves URLs without a password alone', () => {
    expect(maskUrlPasswords('http://host:8080/v1 and http://user@host')).toBe(
      'http://host:8080/v1 and http://user@host',
    );
  });
});
