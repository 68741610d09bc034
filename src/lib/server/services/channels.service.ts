import type { Db } from '../db/database';
import { channelsRepo } from '../repositories/channels.repo';
import type { Touch } from '../../shared/lead';
import type { Deps } from './deps';

const DEFAULT_CHANNEL_BY_SOURCE: Record<string, { name: string; kind: string }> = {
  form: { name: 'Website', kind: 'direct' },
  api: { name: 'API', kind: 'api' },
  import: { name: 'Import', kind: 'import' },
  manual: { name: 'Offline', kind: 'offline' }
};

export function kindForMedium(medium: string | undefined): string {
  const m = (medium ?? '').toLowerCase();
  if (/^(cpc|ppc|paid|cpm|display|banner|paid_social|paidsocial)/.test(m)) return 'paid';
  if (m === 'email' || m === 'newsletter') return 'email';
  if (/social/.test(m)) return 'social';
  if (m === 'organic') return 'organic';
  return 'referral';
}

/**
 * Picks the channel a lead came through: a channel named by the caller, else utm_source/medium,
 * else the default for its source. Creates channels on first sight so no lead is unattributed.
 */
export function createChannelResolver(deps: Pick<Deps, 'clock' | 'ids'>) {
  const cache = new Map<string, string>();

  async function ensure(db: Db, name: string, kind: string, utm?: { source?: string; medium?: string }) {
    const hit = cache.get(name);
    if (hit) return hit;
    let row = await channelsRepo.findByName(db, name);
    if (!row) {
      await channelsRepo.insert(db, {
        id: deps.ids.newId(),
        name,
        kind,
        utm_source: utm?.source ?? null,
        utm_medium: utm?.medium ?? null,
        created_at: deps.clock.now()
      });
      row = await channelsRepo.findByName(db, name);
    }
    cache.set(name, row!.id);
    return row!.id;
  }

  return {
    async resolve(db: Db, args: { source: string; channelName?: string; channelId?: string; touch?: Touch }) {
      if (args.channelId) return args.channelId;
      const named = args.channelName?.trim() || args.touch?.channel?.trim();
      if (named) return ensure(db, named, 'named');
      const src = args.touch?.utm_source?.trim().toLowerCase();
      if (src) {
        const medium = args.touch?.utm_medium?.trim().toLowerCase() || undefined;
        // A channel a marketer declared for these tags wins over one made up from them.
        const key = `utm:${src}/${medium ?? ''}`;
        const cachedId = cache.get(key);
        if (cachedId) return cachedId;
        const declared = await channelsRepo.findByUtm(db, src, medium);
        if (declared) {
          cache.set(key, declared.id);
          return declared.id;
        }
        const name = medium ? `${src} / ${medium}` : src;
        return ensure(db, name, kindForMedium(medium), { source: src, medium });
      }
      const d = DEFAULT_CHANNEL_BY_SOURCE[args.source] ?? DEFAULT_CHANNEL_BY_SOURCE.api;
      return ensure(db, d.name, d.kind);
    },
    /** Forget cached ids, e.g. after a test resets the database. */
    clear() {
      cache.clear();
    }
  };
}

export type ChannelResolver = ReturnType<typeof createChannelResolver>;
