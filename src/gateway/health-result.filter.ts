import { ArgumentsHost, Catch, ExceptionFilter, ServiceUnavailableException } from '@nestjs/common';
import { rawResponse, sendJson, type PlatformResponse } from './http-exchange';

/**
 * Keeps terminus' own 503 body, the check result with every breaker's details: monitors and
 * orchestrators read `status` and `details`, not OpenAI's error shape the API routes use.
 */
@Catch(ServiceUnavailableException)
export class HealthResultFilter implements ExceptionFilter {
  catch(exception: ServiceUnavailableException, host: ArgumentsHost): void {
    const res = rawResponse(host.switchToHttp().getResponse<PlatformResponse>());
    sendJson(res, exception.getStatus(), exception.getResponse());
  }
}
