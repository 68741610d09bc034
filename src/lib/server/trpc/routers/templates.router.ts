import { z } from 'zod';
import { allow, router } from '../init';
import { templateDraft, templateInput, templateSlug, templatesOf } from '../../services/templates.service';

/** Email templates are the marketers' tool; admins edit them too. */
const writers = () => allow('admin', 'marketer');
const leadId = z.string().min(1).max(64).nullable().default(null);

export const templatesRouter = router({
  list: writers().query(({ ctx }) => templatesOf(ctx.app).list()),
  get: writers()
    .input(z.object({ slug: templateSlug }))
    .query(({ ctx, input }) => templatesOf(ctx.app).get(input.slug)),
  create: writers()
    .input(templateInput)
    .mutation(({ ctx, input }) => templatesOf(ctx.app).create(ctx.actor, input)),
  update: writers()
    .input(z.object({ slug: templateSlug, template: templateInput.omit({ slug: true }) }))
    .mutation(({ ctx, input }) => templatesOf(ctx.app).update(ctx.actor, input.slug, input.template)),
  /** Liquid errors with line and column while the marketer types. */
  validate: writers()
    .input(templateDraft)
    .query(({ ctx, input }) => templatesOf(ctx.app).validate(input)),
  preview: writers()
    .input(z.object({ draft: templateDraft, leadId }))
    .query(({ ctx, input }) => templatesOf(ctx.app).preview(input.draft, input.leadId)),
  searchLeads: writers()
    .input(z.object({ q: z.string().max(100).default('') }))
    .query(({ ctx, input }) => templatesOf(ctx.app).searchLeads(input.q)),
  sendTest: writers()
    .input(z.object({ draft: templateDraft, slug: templateSlug.nullable().default(null), leadId, to: z.email().max(254) }))
    .mutation(({ ctx, input }) => templatesOf(ctx.app).sendTest(ctx.actor, input))
});
