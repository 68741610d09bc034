import type { App } from '../app';
import type { Actor } from '../services/deps';
import { InputError } from '../services/deps';

/** Whatever the CLI does is recorded in the audit log under this actor. */
const CLI_ACTOR: Actor = { id: null, label: 'cli' };

const USAGE = `usage:
  npm run cli -- api-key create --name <name>   prints the new key once
  npm run cli -- api-key list
  npm run cli -- api-key revoke <id>`;

/**
 * `npm run cli -- api-key <create|list|revoke>`. The key is printed once, as a plain
 * `key: nrt_...` line a script can grep; only its SHA-256 is stored.
 */
export async function run(app: App, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const keys = app.services.apiKeys;
  try {
    switch (sub) {
      case 'create': {
        const name = optionValue(rest, '--name');
        if (name === undefined) return usage('--name <name> is required');
        const k = await keys.create(CLI_ACTOR, name);
        console.log(`id: ${k.id}`);
        console.log(`name: ${k.name}`);
        console.log(`key: ${k.key}`);
        console.log('Store the key now: it is shown only this once.');
        return 0;
      }
      case 'list': {
        const rows = await keys.list();
        if (!rows.length) console.log('no API keys');
        for (const r of rows) {
          const state = r.revoked_at ? `revoked ${iso(r.revoked_at)}` : 'active';
          console.log(`${r.id}  ${r.prefix}…  ${JSON.stringify(r.name)}  created ${iso(r.created_at)}  last used ${r.last_used_at ? iso(r.last_used_at) : 'never'}  ${state}`);
        }
        return 0;
      }
      case 'revoke': {
        const id = rest[0];
        if (!id) return usage('the key id is required');
        if (!(await keys.revoke(CLI_ACTOR, id))) {
          console.error(`no active API key with id ${id}`);
          return 1;
        }
        console.log(`revoked ${id}`);
        return 0;
      }
      default:
        return usage(sub ? `unknown subcommand "${sub}"` : undefined);
    }
  } catch (e) {
    if (e instanceof InputError) {
      console.error(e.message);
      return 1;
    }
    throw e;
  }
}

/** `--name value` or `--name=value`. */
function optionValue(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  if (i >= 0) return args[i + 1];
  return args.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);
}

function usage(problem?: string) {
  if (problem) console.error(problem);
  console.error(USAGE);
  return 2;
}

const iso = (ms: number) => new Date(ms).toISOString();
