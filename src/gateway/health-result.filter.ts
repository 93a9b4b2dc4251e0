import { ArgumentsHost, Catch, ExceptionFilter, ServiceUnavailableException } from '@nestjs/common';
import type { Response } from 'express';

/**
 * Keeps terminus' own 503 body, the check result with every breaker's details: monitors and
 * orchestrators read `status` and `details`, not OpenAI's error shape the API routes use.
 */
@Catch(ServiceUnavailableException)
export class HealthResultFilter implements ExceptionFilter {
  catch(exception: ServiceUnavailableException, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    res.status(exception.getStatus()).json(exception.getResponse());
  }
}
