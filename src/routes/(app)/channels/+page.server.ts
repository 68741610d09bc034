import { fail } from '@sveltejs/kit';
import type { Actions, PageServerLoad } from './$types';
import { getApp } from '$lib/server/runtime';
import { requireRole } from '$lib/server/http/require-role';
import { InputError, NotFoundError } from '$lib/server/services/deps';
import { addDays, dayStartMs, formatDay, parseDay, preset, rangeMs, type PresetName } from '$lib/components/channels/date-range';

const PRESETS: PresetName[] = ['this_month', 'last_month', 'last_90_days'];

export const load: PageServerLoad = async ({ locals, url }) => {
  requireRole(locals.user, 'admin', 'marketer');
  const app = getApp();
  const now = app.deps.clock.now();
  const fallback = preset('this_month', now);
  const presets = PRESETS.map((name) => {
    const p = preset(name, now);
    return { name, from: formatDay(p.from), to: formatDay(p.to) };
  });
  const fromParam = url.searchParams.get('from');
  const toParam = url.searchParams.get('to');
  const from = fromParam ? parseDay(fromParam) : fallback.from;
  const to = toParam ? parseDay(toParam) : fallback.to;
  const range = from && to ? rangeMs(from, to) : null;
  const [channels, spend] = await Promise.all([app.services.channels.list(), app.services.channels.listSpend()]);
  return {
    presets,
    from: from ? formatDay(from) : (fromParam ?? ''),
    to: to ? formatDay(to) : (toParam ?? ''),
    rangeError: range ? null : !from || !to ? ('invalid' as const) : ('end_before_start' as const),
    stats: range ? await app.services.channels.stats(range.from, range.to) : [],
    channels: channels.map((c) => ({ id: c.id, name: c.name, kind: c.kind, utmSource: c.utm_source, utmMedium: c.utm_medium })),
    spend: spend.map((s) => ({
      id: s.id,
      channelId: s.channel_id,
      periodStart: s.period_start,
      periodEnd: s.period_end,
      amount: s.amount_minor / 100,
      currency: s.currency,
      note: s.note
    }))
  };
};

const text = (data: FormData, key: string) => String(data.get(key) ?? '').trim();
const issuesOf = (e: InputError) => Object.fromEntries(e.issues.map((i) => [i.field, i.message]));

/** "15 000,50" and "15000.50" both mean fifteen thousand rubles fifty kopecks. */
function parseAmount(raw: string): number | null {
  const n = Number(raw.replace(/[\s\u00a0₽]/g, '').replace(',', '.'));
  return raw !== '' && Number.isFinite(n) ? n : null;
}

export const actions: Actions = {
  createChannel: async ({ locals, request }) => {
    const { actor } = requireRole(locals.user, 'admin', 'marketer');
    const data = await request.formData();
    const values = {
      name: text(data, 'name'),
      kind: text(data, 'kind') as 'named',
      utmSource: text(data, 'utmSource') || undefined,
      utmMedium: text(data, 'utmMedium') || undefined
    };
    try {
      await getApp().services.channels.create(actor, values);
    } catch (e) {
      if (e instanceof InputError) return fail(400, { createChannel: { values, errors: issuesOf(e) } });
      throw e;
    }
    return { createChannel: { created: values.name } };
  },

  addSpend: async ({ locals, request }) => {
    const { actor } = requireRole(locals.user, 'admin', 'marketer');
    const data = await request.formData();
    const channelId = text(data, 'channelId');
    const values = { start: text(data, 'periodStart'), end: text(data, 'periodEnd'), amount: text(data, 'amount'), note: text(data, 'note') };
    const start = parseDay(values.start);
    const end = parseDay(values.end);
    const amount = parseAmount(values.amount);
    const errors: Record<string, string> = {};
    if (!start) errors.periodStart = 'is not a date';
    if (!end) errors.periodEnd = 'is not a date';
    if (amount === null) errors.amount = 'is not a number';
    if (start && end && amount !== null) {
      try {
        await getApp().services.channels.addSpend(actor, {
          channelId,
          periodStart: dayStartMs(start),
          // The end day is inclusive on screen: the period runs to the next midnight.
          periodEnd: dayStartMs(addDays(end, 1)),
          amount,
          note: values.note || undefined
        });
        return { addSpend: { channelId, added: true } };
      } catch (e) {
        if (e instanceof InputError) Object.assign(errors, issuesOf(e));
        else if (e instanceof NotFoundError) errors.channelId = e.message;
        else throw e;
      }
    }
    return fail(400, { addSpend: { channelId, values, errors } });
  },

  deleteSpend: async ({ locals, request }) => {
    const { actor } = requireRole(locals.user, 'admin', 'marketer');
    const data = await request.formData();
    await getApp().services.channels.deleteSpend(actor, text(data, 'id'));
    return { deleteSpend: { channelId: text(data, 'channelId') } };
  }
};
