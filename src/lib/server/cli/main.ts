/**
 * `npm run cli -- <command> ...`: operations outside the web UI, on the same services.
 * Each command module exports `run(app, args)` and prints its result as JSON or text.
 */
import { createApp } from '../app';
import { loadConfig } from '../config';
import { run as runImport } from './import.command';
import { run as runApiKey } from './api-key.command';
import { run as runWorkflow } from './workflow.command';
import { run as runWorker } from './worker.command';

type Command = (app: Awaited<ReturnType<typeof createApp>>, args: string[]) => Promise<number>;

const commands: Record<string, Command> = {
  import: runImport,
  'api-key': runApiKey,
  workflow: runWorkflow,
  worker: runWorker
};

async function main() {
  const [name, ...args] = process.argv.slice(2);
  const cmd = name ? commands[name] : undefined;
  if (!cmd) {
    console.error(`usage: npm run cli -- <${Object.keys(commands).join('|')}> ...`);
    return 2;
  }
  const app = await createApp({ config: loadConfig() });
  try {
    return await cmd(app, args);
  } finally {
    await app.close();
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  }
);
