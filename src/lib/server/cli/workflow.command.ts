import type { App } from '../app';

// Placeholder until the command lands (issue 4).
export async function run(_app: App, _args: string[]): Promise<number> {
  console.error('not implemented yet');
  return 2;
}
