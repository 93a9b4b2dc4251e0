/**
 * Loads an optional peer dependency when the feature that needs it is used, never when the
 * module is imported: an application that uses neither Redis, RabbitMQ, Elasticsearch nor Nest
 * microservices does not install ioredis, amqplib, @elastic/elasticsearch or
 * @nestjs/microservices. The error names the package and how to install it.
 *
 * @example
 * const { Redis } = loadOptionalPeer<typeof import('ioredis')>('ioredis', 'redis');
 */
export function loadOptionalPeer<T>(name: OptionalPeer, feature: string): T {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(name) as T;
  } catch (error) {
    if (isMissing(error, name)) {
      throw new Error(
        `${feature} needs the package '${name}', an optional peer dependency of ` +
          `nestjs-resilient-llm that is not installed. Install it: npm install ${name}`,
        { cause: error },
      );
    }
    throw error;
  }
}

/** The optional peers (package.json `peerDependenciesMeta`). */
export type OptionalPeer =
  'ioredis' | 'amqplib' | '@elastic/elasticsearch' | '@nestjs/microservices';

function isMissing(error: unknown, name: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (
    code === 'MODULE_NOT_FOUND' && typeof message === 'string' && message.includes(`'${name}'`)
  );
}
