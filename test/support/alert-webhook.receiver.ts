import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One alert of a notification (Alertmanager's webhook payload, version 4). */
export interface NotifiedAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
}

/** One notification Alertmanager sent, with the receiver it was addressed to. */
export interface AlertNotification {
  /** The last path segment of the webhook URL: the receiver's name in the test config. */
  receiver: string;
  status: 'firing' | 'resolved';
  /** The labels Alertmanager grouped the alerts by (the route's `group_by`). */
  groupLabels: Record<string, string>;
  alerts: NotifiedAlert[];
  /** Milliseconds since the receiver started. */
  at: number;
}

/**
 * A local stand-in for the SMS and phone-call bridges: an HTTP server that records every
 * Alertmanager webhook call, and lets a test wait for one that matches.
 *
 * @example
 * const hooks = await AlertWebhookReceiver.start();
 * // receivers: [{ name: 'page', webhook_configs: [{ url: `${hooks.url}/page` }] }]
 * await hooks.waitFor((n) => n.receiver === 'page' && n.status === 'firing', 20_000);
 */
export class AlertWebhookReceiver {
  readonly notifications: AlertNotification[] = [];
  private readonly started = Date.now();
  private waiters: (() => void)[] = [];

  private readonly server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      this.record(req.url ?? '', body);
      res.writeHead(200).end();
    });
  });

  private constructor() {}

  static async start(): Promise<AlertWebhookReceiver> {
    const receiver = new AlertWebhookReceiver();
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Resolves with the first notification (received before or after the call) that matches. */
  async waitFor(
    match: (n: AlertNotification) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<AlertNotification> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.notifications.find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) {
        const seen = this.notifications.map((n) => describeNotification(n)).join('\n  ');
        throw new Error(`No notification ${what} within ${timeoutMs} ms; received:\n  ${seen}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): Promise<void> {
    for (const wake of this.waiters.splice(0)) wake();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private record(path: string, body: string): void {
    const payload = JSON.parse(body) as Omit<AlertNotification, 'receiver' | 'at'>;
    this.notifications.push({
      receiver: path.split('/').pop() ?? '',
      status: payload.status,
      groupLabels: payload.groupLabels,
      alerts: payload.alerts.map(({ status, labels }) => ({ status, labels })),
      at: Date.now() - this.started,
    });
    for (const wake of this.waiters.splice(0)) wake();
  }
}

/** `page firing LlmErrorRatioHigh{severity=critical,llm_upstream=primary} @ 12.3 s` */
export function describeNotification(n: AlertNotification): string {
  const alerts = n.alerts.map(
    (a) =>
      `${a.labels.alertname}{severity=${a.labels.severity},llm_upstream=${a.labels.llm_upstream}} ${a.status}`,
  );
  return `${n.receiver} ${n.status} [${alerts.join(', ')}] @ ${(n.at / 1000).toFixed(1)} s`;
}
