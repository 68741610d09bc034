import { z } from 'zod';
import { allow, router } from '../init';
import { LIVE_METRICS } from '../../services/workflow-live';
import { publishChoiceSchema } from '../../services/workflow-publish';
import { simEventSchema, simLeadSchema } from '../../services/workflow-simulator';

/** Running flows is the marketers' job; admins may do it too. */
const flowUsers = () => allow('admin', 'marketer');
const slug = z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'a workflow slug');
const nodeId = z.string().min(1).max(80);
/** A definition is checked by the services with the workflow schema, so problems come back by path. */
const definition = z.unknown().refine((v) => typeof v === 'object' && v !== null, 'a workflow definition');

export const flowRuntimeRouter = router({
  /** Runs a flow for one lead on a simulated clock; nothing is stored or sent. */
  simulate: flowUsers()
    .input(
      z
        .object({ slug, definition, leadId: z.string().min(1).max(64).optional(), sample: simLeadSchema.optional(), events: z.array(simEventSchema).max(50).default([]) })
        .refine((i) => !(i.leadId && i.sample), 'pick a lead or describe one, not both')
    )
    .mutation(({ ctx, input }) => ctx.app.services.flowRuntime.simulate(input)),

  /** The diff against the live version and the leads in each changed or removed node; problems instead when it cannot be published. */
  impact: flowUsers()
    .input(z.object({ slug, definition }))
    .mutation(({ ctx, input }) => ctx.app.services.flowRuntime.publish.impact(input.slug, input.definition)),

  /** Publishes a new version and keeps running leads where they are or moves them node by node. */
  publish: flowUsers()
    .input(z.object({ slug, definition, choice: publishChoiceSchema }))
    .mutation(({ ctx, input }) => ctx.app.services.flowRuntime.publish.publish(ctx.actor, input.slug, input.definition, input.choice)),

  /** Leads per node now and passed, and each email step's figures; the flow page polls this. */
  live: flowUsers()
    .input(z.object({ slug }))
    .query(({ ctx, input }) => ctx.app.services.flowRuntime.live.counts(input.slug)),

  /** The leads behind one count. */
  liveLeads: flowUsers()
    .input(z.object({ slug, nodeId, metric: z.enum(LIVE_METRICS), limit: z.number().int().min(1).max(500).default(100) }))
    .query(({ ctx, input }) => ctx.app.services.flowRuntime.live.leads(input.slug, input.nodeId, input.metric, input.limit)),

  /** One published version's definition (version history). */
  version: flowUsers()
    .input(z.object({ slug, version: z.number().int().min(1) }))
    .query(({ ctx, input }) => ctx.app.services.flowRuntime.publish.versionDefinition(input.slug, input.version)),

  /** The flow as a file: its definition and the email templates it sends. */
  exportFlow: flowUsers()
    .input(z.object({ slug, version: z.number().int().min(1).optional() }))
    .query(async ({ ctx, input }) => {
      const bundle = await ctx.app.services.flowRuntime.files.bundle(input.slug, input.version);
      await ctx.app.services.flowRuntime.audited(ctx.actor, 'workflow.export', input.slug, { version: input.version ?? null });
      return bundle;
    }),

  /** A published version becomes the flow's draft again. */
  restoreVersion: flowUsers()
    .input(z.object({ slug, version: z.number().int().min(1) }))
    .mutation(({ ctx, input }) => ctx.app.services.flowRuntime.restoreVersion(ctx.actor, input.slug, input.version)),

  /** Imports a flow file as a draft; problems by path and nothing stored when it does not check. */
  importFlow: flowUsers()
    .input(z.object({ file: z.unknown() }))
    .mutation(({ ctx, input }) => ctx.app.services.flowRuntime.importFlow(ctx.actor, input.file)),

  /** Checks an uploaded flow file without storing anything: the flow and templates it would bring, or problems by path. */
  checkImport: flowUsers()
    .input(z.object({ file: z.unknown() }))
    .mutation(async ({ ctx, input }) => {
      const r = await ctx.app.services.flowRuntime.files.check(input.file);
      return { slug: r.workflow.slug, name: r.workflow.name, nodes: Object.keys(r.workflow.nodes).length, templates: r.templates.map((t) => t.slug) };
    })
});
