import type { GatedStage, StageFields, StageRequirements } from '../../shared/handoff';

/** Pure: which required fields a stage change is missing, each named so the form can mark it. */
export function missingStageFields(to: string, fields: StageFields, req: StageRequirements): { field: string; message: string }[] {
  const required = req[to as GatedStage] ?? [];
  const issues: { field: string; message: string }[] = [];
  for (const f of required) {
    const v = fields[f];
    const empty = v === undefined || (typeof v === 'string' && v.trim() === '');
    if (empty) issues.push({ field: `fields.${f}`, message: `is required to move the lead to ${to}` });
  }
  return issues;
}
