import { z } from 'zod';
import { TRPCError } from '@trpc/server';
import { allow, anyRole, router } from '../init';
import { ForbiddenError } from '../../services/handoff.service';
import {
  acceptInputSchema,
  addTaskInputSchema,
  changeStageInputSchema,
  completeTaskInputSchema,
  handoffSettingsSchema,
  periodSchema,
  recycleInputSchema,
  rejectInputSchema
} from '../../../shared/handoff';

/** The service refuses another rep's hand-off or lead with ForbiddenError: the UI gets FORBIDDEN. */
async function scoped<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof ForbiddenError) throw new TRPCError({ code: 'FORBIDDEN', message: e.message, cause: e });
    throw e;
  }
}

const sales = () => allow('sales', 'admin');

export const handoffRouter = router({
  /** The signed-in rep's open hand-offs (score, then waiting time) and open tasks. */
  inbox: allow('sales', 'admin').query(({ ctx }) => ctx.app.services.handoff.inbox(ctx.user)),
  /** Managers and admins: every open hand-off, SLA state, each rep's load and shift. */
  board: allow('sales', 'admin').query(({ ctx }) => scoped(() => ctx.app.services.handoff.board(ctx.user))),
  rejectReasons: anyRole()
    .input(periodSchema)
    .query(({ ctx, input }) => scoped(() => ctx.app.services.handoff.rejectReasons(ctx.user, input))),
  settings: anyRole().query(({ ctx }) => ctx.app.services.handoff.settings()),
  updateSettings: allow('admin')
    .input(handoffSettingsSchema)
    .mutation(({ ctx, input }) => ctx.app.services.handoff.updateSettings(ctx.actor, input)),
  leadHandoffs: anyRole()
    .input(z.object({ leadId: z.string().min(1).max(64) }))
    .query(({ ctx, input }) => scoped(() => ctx.app.services.handoff.leadHandoffs(ctx.user, input.leadId))),

  accept: sales()
    .input(acceptInputSchema)
    .mutation(({ ctx, input }) => scoped(() => ctx.app.services.handoff.accept(ctx.user, input))),
  reject: sales()
    .input(rejectInputSchema)
    .mutation(({ ctx, input }) => scoped(() => ctx.app.services.handoff.reject(ctx.user, input))),
  recycle: sales()
    .input(recycleInputSchema)
    .mutation(({ ctx, input }) => scoped(() => ctx.app.services.handoff.recycle(ctx.user, input))),
  addTask: sales()
    .input(addTaskInputSchema)
    .mutation(({ ctx, input }) => scoped(() => ctx.app.services.handoff.addTask(ctx.user, input))),
  completeTask: sales()
    .input(completeTaskInputSchema)
    .mutation(({ ctx, input }) => scoped(() => ctx.app.services.handoff.completeTask(ctx.user, input))),
  /** A stage change from the card with the fields the stage requires (errors name each field). */
  changeStage: anyRole()
    .input(changeStageInputSchema)
    .mutation(({ ctx, input }) => scoped(() => ctx.app.services.handoff.changeStage(ctx.user, input)))
});
