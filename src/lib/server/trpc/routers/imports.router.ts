import { z } from 'zod';
import { TRPCError } from '@trpc/server';
import { allow, router } from '../init';
import { importMappingSchema, type ImportMapping } from '../../../shared/import';
import { uploadStoreFor } from '../../services/import-uploads';

const importers = () => allow('admin', 'marketer');
const uploadId = z.uuid();
const importId = z.string().min(1).max(64);

export const importsRouter = router({
  /** Headers, the first rows and a suggested mapping of an uploaded file. */
  preview: importers()
    .input(z.object({ uploadId }))
    .query(async ({ ctx, input }) => {
      const upload = await uploadStoreFor(ctx.app).get(input.uploadId);
      const preview = await ctx.app.services.imports.preview(upload.path);
      return { ...preview, filename: upload.filename, size: upload.size };
    }),
  /** Starts the import in the background; poll `status` for progress. */
  start: importers()
    .input(z.object({ uploadId, mapping: importMappingSchema, channelName: z.string().trim().max(100).optional() }))
    .mutation(async ({ ctx, input }) => {
      const uploads = uploadStoreFor(ctx.app);
      const upload = await uploads.get(input.uploadId);
      const { importId, done } = await ctx.app.services.imports.start({
        filePath: upload.path,
        filename: upload.filename,
        mapping: input.mapping as ImportMapping,
        channelName: input.channelName || undefined,
        actor: ctx.actor
      });
      // The file is only needed until the import is through; the report lives in the database.
      void done.finally(() => uploads.remove(upload.id)).catch((e) => console.error('[import]', e));
      return { importId };
    }),
  status: importers()
    .input(z.object({ id: importId }))
    .query(async ({ ctx, input }) => {
      const s = await ctx.app.services.imports.status(input.id);
      if (!s) throw new TRPCError({ code: 'NOT_FOUND', message: 'No such import' });
      return s;
    }),
  list: importers()
    .input(z.object({ limit: z.number().int().min(1).max(100).default(20) }).optional())
    .query(({ ctx, input }) => ctx.app.services.imports.list(input?.limit ?? 20)),
  rejects: importers()
    .input(z.object({ id: importId, limit: z.number().int().min(1).max(1000).default(100) }))
    .query(({ ctx, input }) => ctx.app.services.imports.rejects(input.id, input.limit))
});
