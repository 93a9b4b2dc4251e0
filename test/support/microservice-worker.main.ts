// A test worker as its own process, so a test can send it a real SIGTERM: the RMQ or TCP
// microservice of llm-microservice-app.ts with Nest's shutdown hooks, events as JSON lines.
import { startWorker } from './llm-microservice-app';

async function main(): Promise<void> {
  const env = process.env;
  const app = await startWorker({
    transport: env.WORKER_TRANSPORT === 'tcp' ? 'tcp' : 'rmq',
    rmqUrl: env.WORKER_RMQ_URL,
    tcpPort: Number(env.WORKER_TCP_PORT),
    queue: env.WORKER_QUEUE,
    upstreamUrl: env.WORKER_UPSTREAM_URL!,
  });
  app.enableShutdownHooks(['SIGTERM']);
  process.stdout.write('worker ready\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`worker failed: ${String(error)}\n`);
  process.exit(1);
});
