import { maskUrlPasswords, redactSecrets, secretRedactor } from './secret-redaction';

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

  it("masks OpenAI's masked echo of the given key whole, its last characters too", () => {
    const key = ['sk-proj-', 'SECRETab', 'cdef0123', '456789XYZ'].join('');
    const message = 'Incorrect API key provided: sk-proj-****9XYZ. You can find your API key at';
    const masked = redactSecrets(message, [key]);
    expect(masked).toBe('Incorrect API key provided: sk-***. You can find your API key at');
    expect(secretRedactor([key])(message)).toBe(masked);
  });

  it('masks an echo that elides the middle with dots, keeping a full stop after it', () => {
    const key = ['sk-proj-', 'SECRETab', 'cdef0123', '456789XYZ'].join('');
    expect(redactSecrets('Key sk-proj-...9XYZ rejected.', [key])).toBe('Key sk-*** rejected.');
    expect(redactSecrets('Incorrect API key provided: sk-abcd...wxyz.')).toBe(
      'Incorrect API key provided: sk-***.',
    );
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

describe('secretRedactor', () => {
  // Built at run time: nothing key-shaped sits in the source.
  const key = ['Zq7', 'Wm2Rt9Xv', 'Lp4Kd8Hs', 'Nf3Gb6Jc'].join('');
  const pieces = [
    'req_',
    key,
    key.slice(3, 11),
    key.slice(-12),
    key.slice(-7),
    key.slice(-6),
    key.slice(-5),
    key.slice(-4),
    ' ',
    '-',
    '****',
    'sk-proj-AbCdEfGh12',
    'Bearer tok.en',
    'bearer x',
    'api_key=zz9',
    'x-api-key: q1',
    'application/json',
    'Thu, 26 Nov 2026 17:00:00 GMT',
    '0123456789abcdef',
  ];

  it('masks exactly as the mask-everything-each-time reference does, on 5,000 mixed texts', () => {
    let seed = 7;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const redact = secretRedactor([key, undefined, 'abc']);
    for (let i = 0; i < 5000; i++) {
      const text = Array.from({ length: 1 + next(6) }, () => pieces[next(pieces.length)]).join(
        next(2) ? '' : ' ',
      );
      expect({ text, out: redact(text) }).toEqual({ text, out: reference(text, [key]) });
    }
  });

  it('masks as the reference does with a project-length key and a second secret: runs of it at any offset, back to back, at either end', () => {
    let seed = 11;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const randomText = (length: number): string =>
      Array.from({ length }, () => alphabet[next(alphabet.length)]).join('');
    const long = `sk-proj-${randomText(156)}`;
    const other = randomText(20);
    const redact = secretRedactor([long, other]);
    for (let i = 0; i < 5000; i++) {
      const parts = Array.from({ length: 1 + next(5) }, () => {
        const from = next(long.length - 7);
        switch (next(4)) {
          case 0:
            return long.slice(from, from + 7 + next(12)); // 7 characters: not masked as a run
          case 1:
            return other.slice(next(12));
          case 2:
            return randomText(next(10));
          default:
            return long.slice(from, from + 8 + next(30));
        }
      });
      const text = parts.join(next(3) ? '' : ' ');
      expect({ text, out: redact(text) }).toEqual({ text, out: reference(text, [long, other]) });
    }
  });

  it('passes text that holds nothing secret through unchanged', () => {
    const redact = secretRedactor([key]);
    for (const text of ['application/json', 'Thu, 26 Nov 2026 17:00:00 GMT', 'req_0123', '']) {
      expect(redact(text)).toBe(text);
    }
  });
});

/** The implementation before masks were compiled once per set of secrets: the reference. */
function reference(text: string, secrets: string[]): string {
  const given = secrets.filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  let result = text;
  for (const secret of given) result = result.split(secret).join('***');
  // OpenAI-style keys (and their masked echoes) before the fragments, and again after them.
  result = result.replace(
    /(?<![A-Za-z0-9])sk-(?=[A-Za-z0-9_*.-]{8})[A-Za-z0-9_*-]*(?:\.+[A-Za-z0-9_*-]+)*/g,
    'sk-***',
  );
  for (const secret of given) {
    if (secret.length > 8 && result.length >= 8) {
      const grams = new Set<string>();
      for (let i = 0; i + 8 <= secret.length; i++) grams.add(secret.slice(i, i + 8));
      const out: string[] = [];
      let copied = 0;
      for (let i = 0; i + 8 <= result.length;) {
        if (!grams.has(result.slice(i, i + 8))) {
          i++;
          continue;
        }
        let end = i + 8;
        while (end < result.length && secret.includes(result.slice(i, end + 1))) end++;
        out.push(result.slice(copied, i), '***');
        copied = end;
        i = end;
      }
      out.push(result.slice(copied));
      result = out.join('');
    }
    for (let length = 7; length >= 5; length--) {
      if (secret.length <= length + 4) continue;
      const tail = secret.slice(-length).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      result = result.replace(new RegExp(`(?<![A-Za-z0-9])${tail}(?![A-Za-z0-9])`, 'g'), '***');
    }
  }
  return result
    .replace(
      /(?<![A-Za-z0-9])sk-(?=[A-Za-z0-9_*.-]{8})[A-Za-z0-9_*-]*(?:\.+[A-Za-z0-9_*-]+)*/g,
      'sk-***',
    )
    .replace(/\b(Bearer)\s+[^\s"',;]+/gi, '$1 ***')
    .replace(/\b((?:x-)?api[-_]?key["']?\s*[:=]\s*["']?)[^\s"',;&]+/gi, '$1***');
}

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
