import type { Db } from '../db/database';
import type { WorkflowDraftsTable } from '../db/schema';

/** SQL of the designer's drafts: one working copy per flow, saved with a revision check. */
export const workflowDraftsRepo = {
  find(db: Db, workflowId: string) {
    return db.selectFrom('workflow_drafts').selectAll().where('workflow_id', '=', workflowId).executeTakeFirst();
  },
  /** The draft with who saved it last (their name, when they still exist). */
  findWithAuthor(db: Db, workflowId: string) {
    return db
      .selectFrom('workflow_drafts as d')
      .leftJoin('users as u', 'u.id', 'd.updated_by')
      .selectAll('d')
      .select(['u.name as author_name', 'u.email as author_email'])
      .where('d.workflow_id', '=', workflowId)
      .executeTakeFirst();
  },
  async insert(db: Db, row: WorkflowDraftsTable) {
    await db.insertInto('workflow_drafts').values(row).execute();
  },
  /**
   * Writes a new revision only if the stored one is still `baseRevision`: answers false when
   * someone saved in between, so the caller can refuse instead of overwriting their work.
   */
  async updateIfRevision(db: Db, workflowId: string, baseRevision: number, patch: Pick<WorkflowDraftsTable, 'definition' | 'revision' | 'updated_by' | 'updated_label' | 'updated_at'>) {
    const r = await db.updateTable('workflow_drafts').set(patch).where('workflow_id', '=', workflowId).where('revision', '=', baseRevision).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }
};
