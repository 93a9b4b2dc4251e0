import * as http from 'node:http';

/** What {@link postChat} read: the status, the headers and the whole body as text. */
export interface PostedChat {
  status?: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/**
 * One `POST` of a one-message chat request to `url` on a connection of its own, read to its end.
 * `requestTarget` replaces the request line's target (the URL's path), e.g. with an absolute URL.
 *
 * @example
 * const { status, text } = await postChat(`${gateway.url}/v1/chat/completions`, true);
 */
export function postChat(
  url: string | URL,
  stream: boolean,
  requestTarget?: string,
): Promise<PostedChat> {
  const body = JSON.stringify({
    model: 'gpt-4o-mini',
    stream,
    messages: [{ role: 'user', content: 'Hi' }],
  });
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        agent: false,
        ...(requestTarget === undefined ? {} : { path: requestTarget }),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (piece: string) => (text += piece));
        res.once('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
        res.once('error', reject);
      },
    );
    req.once('error', reject);
    req.end(body);
  });
}

/** The `data:` payloads of a server-sent events body, in order (`[DONE]` included). */
export function sseData(text: string): string[] {
  return text
    .split('\n\n')
    .filter((block) => block.startsWith('data: '))
    .map((block) => block.slice('data: '.length));
}
