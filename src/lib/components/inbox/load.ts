/**
 * Whether a rep has too many open hand-offs: at or over their capacity when one is set, else more
 * than half again the team's average (and at least 3), so a manager sees whom to relieve.
 */
export function overloaded(rep: { open: number; capacity: number | null; onShift: boolean }, reps: { open: number; onShift: boolean }[]): boolean {
  if (rep.capacity !== null) return rep.open >= rep.capacity;
  const onShift = reps.filter((r) => r.onShift);
  const average = onShift.length ? onShift.reduce((s, r) => s + r.open, 0) / onShift.length : 0;
  return rep.open >= 3 && rep.open > average * 1.5;
}
