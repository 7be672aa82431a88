// A separate process asking for a reservation at the same moment as others.
//   node lease-requester.mjs <dist> <stateDir> <resourceType> <paramsJson> <goFile>
import { existsSync } from 'node:fs';
const [, , dist, stateDir, resourceType, paramsJson, goFile] = process.argv;
const { createOvernightContext } = await import(`${dist}/context.js`);
const { parseConfig } = await import(`${dist}/config/load.js`);
const ctx = await createOvernightContext({ config: parseConfig({ stateDir }) });
// Wait for the starting gun so that all requesters race; say so, so the test fires it once all wait.
process.stdout.write('ready\n');
while (!existsSync(goFile)) await new Promise((r) => setTimeout(r, 5));
const r = await ctx.resources.manageResources(resourceType, 'reserve', JSON.parse(paramsJson));
process.stdout.write(
  JSON.stringify({
    status: r.status,
    gpus: r.lease?.gpus ?? null,
    amount: r.lease?.amount ?? null,
    message: r.message,
  }),
);
ctx.gpu?.close();
await ctx.close();
process.exit(0);
