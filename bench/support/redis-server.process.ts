import { Redis } from 'ioredis';
import { RedisServer } from './redis-server';
import { trackChild } from './child-processes';

export { redisServerAvailable } from './redis-server';

/**
 * The tests' throw-away redis-server (loopback, no persistence, `stop` plays a crash and
 * `restart` brings back an empty server on the same port), with every process it starts tracked
 * so a benchmark never leaves one behind, on Ctrl-C too.
 */
export function startRedisServer(): Promise<RedisServer> {
  return RedisServer.start({ onSpawn: trackChild });
}

/** Keys in the server's database: proof that a client really kept its state there. */
export async function countRedisKeys(url: string): Promise<number> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    return await client.dbsize();
  } finally {
    client.disconnect();
  }
}
