import { z } from 'zod';
import { SOURCES, STAGES } from './lead';

/** The lead list's query: used by the tRPC procedure, the URL and the CSV export alike. */
export const leadListQuerySchema = z.object({
  search: z.string().trim().max(200).optional(),
  stage: z.array(z.enum(STAGES)).optional(),
  ownerId: z.string().max(64).optional(),
  channelId: z.string().max(64).optional(),
  /** Members of a segment or static list (segment_members). */
  segmentId: z.string().max(64).optional(),
  source: z.enum(SOURCES).optional(),
  createdFrom: z.number().int().optional(),
  createdTo: z.number().int().optional(),
  sort: z.enum(['created', 'updated', 'name', 'email', 'company', 'stage', 'fit', 'engagement']).default('created'),
  dir: z.enum(['asc', 'desc']).default('desc'),
  page: z.number().int().min(1).default(1),
  pageSize: z.number().int().min(1).max(200).default(50)
});
export type LeadListQuery = z.output<typeof leadListQuerySchema>;
export type LeadListQueryInput = z.input<typeof leadListQuerySchema>;
