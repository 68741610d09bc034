import { z } from 'zod';
import { channelsRepo } from '../repositories/channels.repo';
import { auditRepo } from '../repositories/audit.repo';
import { InputError, NotFoundError, type Actor, type Deps } from './deps';

export const channelSchema = z.object({
  name: z.string().trim().min(1, 'is required').max(100),
  kind: z.enum(['paid', 'organic', 'social', 'email', 'referral', 'direct', 'api', 'import', 'offline', 'named']).default('named'),
  utmSource: z.string().trim().max(200).optional(),
  utmMedium: z.string().trim().max(200).optional()
});

export const spendSchema = z
  .object({
    channelId: z.string().min(1),
    periodStart: z.number().int(),
    periodEnd: z.number().int(),
    /** Whole rubles and kopecks as a decimal number, e.g. 15000.50. */
    amount: z.number().nonnegative().max(1e12),
    currency: z.string().length(3).default('RUB'),
    note: z.string().max(500).optional()
  })
  .refine((s) => s.periodEnd > s.periodStart, { message: 'must be after the start', path: ['periodEnd'] });

export function createChannelsAdminService(deps: Deps) {
  const { db, clock, ids } = deps;
  return {
    list: () => channelsRepo.list(db),

    async create(actor: Actor, raw: z.input<typeof channelSchema>) {
      const p = channelSchema.safeParse(raw);
      if (!p.success) throw new InputError(p.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message })));
      if (await channelsRepo.findByName(db, p.data.name)) throw new InputError([{ field: 'name', message: 'is taken by another channel' }]);
      const id = ids.newId();
      await channelsRepo.insert(db, { id, name: p.data.name, kind: p.data.kind, utm_source: p.data.utmSource ?? null, utm_medium: p.data.utmMedium ?? null, created_at: clock.now() });
      await auditRepo.record(db, ids.newId(), clock.now(), { actorId: actor.id, actorLabel: actor.label, action: 'channel.create', entity: 'channel', entityId: id, details: p.data });
      return id;
    },

    async addSpend(actor: Actor, raw: z.input<typeof spendSchema>) {
      const p = spendSchema.safeParse(raw);
      if (!p.success) throw new InputError(p.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message })));
      if (!(await channelsRepo.findById(db, p.data.channelId))) throw new NotFoundError('No such channel');
      const id = ids.newId();
      await channelsRepo.addSpend(db, {
        id,
        channel_id: p.data.channelId,
        period_start: p.data.periodStart,
        period_end: p.data.periodEnd,
        amount_minor: Math.round(p.data.amount * 100),
        currency: p.data.currency,
        note: p.data.note ?? null,
        created_at: clock.now()
      });
      await auditRepo.record(db, ids.newId(), clock.now(), { actorId: actor.id, actorLabel: actor.label, action: 'channel.spend_add', entity: 'channel', entityId: p.data.channelId, details: { amount: p.data.amount, currency: p.data.currency } });
      return id;
    },

    async deleteSpend(actor: Actor, id: string) {
      await channelsRepo.deleteSpend(db, id);
      await auditRepo.record(db, ids.newId(), clock.now(), { actorId: actor.id, actorLabel: actor.label, action: 'channel.spend_delete', entity: 'channel_spend', entityId: id });
    },

    listSpend: (channelId?: string) => channelsRepo.listSpend(db, channelId),

    /** Leads, spend and cost per lead per channel over [from, to). */
    async stats(from: number, to: number) {
      const [channels, s] = await Promise.all([channelsRepo.list(db), channelsRepo.stats(db, from, to)]);
      return channels.map((c) => {
        const leads = s.leads.get(c.id) ?? 0;
        const spendMinor = s.spend.get(c.id) ?? 0;
        return {
          id: c.id,
          name: c.name,
          kind: c.kind,
          leads,
          spend: spendMinor / 100,
          costPerLead: leads > 0 && spendMinor > 0 ? Math.round(spendMinor / leads) / 100 : null
        };
      });
    }
  };
}
