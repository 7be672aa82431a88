/**
 * healthCheck's output schema as registerTool takes it: the zod definition
 * (health-check-output-zod.ts) checked per call by the validator compiled from it at build time.
 */
import { compiledSchema } from '../compiled-schema.js';
import { healthCheckOutput } from './health-check-output-zod.js';
import validateHealthCheckOutput from './health-check-output.validate.js';

export { healthCheckOutput };

export const healthCheckOutputSchema = compiledSchema(
  healthCheckOutput,
  validateHealthCheckOutput,
  'healthCheck output',
);
