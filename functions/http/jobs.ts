import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { durableClientInput } from '../bridge/durable-registration.js';
import { callEngine } from '../bridge/engine-call.js';

/**
 * The `jobs` HTTP trigger: `GET|HEAD /jobs/{id}`, `GET|HEAD /jobs/{id}/result`, `DELETE /jobs/{id}`,
 * answered by the engine's job API (after admission). Its own function name gives job traffic its own
 * operation name in Application Insights. A successful cancel is also told to the job's orchestration,
 * so a request waiting for capacity stops waiting and releases its place.
 */
export async function jobs(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const { init, status, host } = await callEngine(request, context);
  const jobId = request.params['rest']?.split('/')[0];
  if (host !== undefined && request.method === 'DELETE' && status === 200 && jobId !== undefined && jobId !== '')
    await host.durable.jobCancelled(jobId);
  return init;
}

app.http('jobs', {
  route: 'jobs/{*rest}',
  methods: ['GET', 'HEAD', 'DELETE', 'POST', 'PUT', 'PATCH'],
  authLevel: 'anonymous',
  extraInputs: [durableClientInput()],
  handler: jobs,
});
