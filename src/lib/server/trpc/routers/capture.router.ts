import { z } from 'zod';
import { allow, anyRole, router } from '../init';
import type { FormDefinitionInput } from '../../../shared/forms';
import { channelSchema, spendSchema } from '../../services/channels-admin.service';

const formInput = z.custom<FormDefinitionInput>((v) => typeof v === 'object' && v !== null, 'expected a form definition');

export const formsRouter = router({
  list: allow('admin', 'marketer').query(({ ctx }) => ctx.app.services.forms.list()),
  get: allow('admin', 'marketer')
    .input(z.object({ id: z.string().min(1) }))
    .query(({ ctx, input }) => ctx.app.services.forms.get(input.id)),
  // The definition is checked by the service (not here) so its refusals come back as InputError
  // issues with paths like `fields.2.label`, which the builder shows beside each input.
  create: allow('admin', 'marketer')
    .input(formInput)
    .mutation(({ ctx, input }) => ctx.app.services.forms.create(ctx.actor, input)),
  update: allow('admin', 'marketer')
    .input(z.object({ id: z.string().min(1), form: formInput }))
    .mutation(({ ctx, input }) => ctx.app.services.forms.update(ctx.actor, input.id, input.form))
});

export const channelsRouter = router({
  list: anyRole().query(({ ctx }) => ctx.app.services.channels.list()),
  stats: allow('admin', 'marketer')
    .input(z.object({ from: z.number().int(), to: z.number().int() }).refine((r) => r.to > r.from, { message: 'must be after from', path: ['to'] }))
    .query(({ ctx, input }) => ctx.app.services.channels.stats(input.from, input.to)),
  create: allow('admin', 'marketer')
    .input(channelSchema)
    .mutation(({ ctx, input }) => ctx.app.services.channels.create(ctx.actor, input)),
  spend: allow('admin', 'marketer')
    .input(z.object({ channelId: z.string().optional() }).optional())
    .query(({ ctx, input }) => ctx.app.services.channels.listSpend(input?.channelId)),
  addSpend: allow('admin', 'marketer')
    .input(spendSchema)
    .mutation(({ ctx, input }) => ctx.app.services.channels.addSpend(ctx.actor, input)),
  deleteSpend: allow('admin', 'marketer')
    .input(z.object({ id: z.string().min(1) }))
    .mutation(({ ctx, input }) => ctx.app.services.channels.deleteSpend(ctx.actor, input.id))
});
