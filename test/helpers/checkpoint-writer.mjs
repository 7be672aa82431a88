// A child process that writes checkpoints as fast as it can and prints "ack <task> <completion>"
// after each write returns (that is, once the checkpoint is durable). Killed with SIGKILL by tests.
//   node checkpoint-writer.mjs <distIndex> <stateDir> <taskId> <startCompletionMillis>
const [, , dist, stateDir, taskId, start] = process.argv;
const { openDatabase } = await import(new URL('store/database.js', `file://${dist}/`).href);
const { ProgressTracker } = await import(new URL('progress/progress-tracker.js', `file://${dist}/`).href);
const { parseConfig } = await import(new URL('config/load.js', `file://${dist}/`).href);
const config = parseConfig({ stateDir });
const tracker = new ProgressTracker(openDatabase(stateDir), config, { now: () => Date.now() });
for (let i = Number(start); i < 1000; i++) {
  const c = i / 1000;
  await tracker.trackCodingProgress(taskId, [{ stage: 'work', completion: c }]);
  process.stdout.write(`ack ${taskId} ${c}\n`);
}
