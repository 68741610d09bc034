import type { RoutingMode } from '../../shared/handoff';

/**
 * Pure routing: picks the rep for a hand-off from the reps on shift, by the workspace's chain of
 * modes. Nothing here reads the database; the service passes reps with their current load.
 */

export interface RoutingRep {
  id: string;
  territory: string | null;
  specializations: string[];
  /** Open hand-offs right now. */
  open: number;
  /** When the rep was last given a hand-off (0: never); round-robin picks the longest idle. */
  lastAssignedAt: number;
}

export interface RoutingLead {
  region: string | null;
  interest: string | null;
}

export interface RoutingPolicy {
  chain: RoutingMode[];
  capacity: number | null;
}

export type RoutingResult = { ownerId: string; rule: string } | { ownerId: null; rule: string };

const norm = (s: string | null | undefined) => (s ?? '').trim().toLowerCase();

/** Longest idle first; ties by id so the choice is deterministic. */
function roundRobin(reps: RoutingRep[]): RoutingRep | undefined {
  return [...reps].sort((a, b) => a.lastAssignedAt - b.lastAssignedAt || a.id.localeCompare(b.id))[0];
}

function candidates(mode: RoutingMode, reps: RoutingRep[], lead: RoutingLead): RoutingRep[] {
  switch (mode) {
    case 'territory': {
      const region = norm(lead.region);
      return region ? reps.filter((r) => norm(r.territory) !== '' && norm(r.territory) === region) : [];
    }
    case 'specialization': {
      const interest = norm(lead.interest);
      return interest ? reps.filter((r) => r.specializations.some((s) => norm(s) === interest)) : [];
    }
    case 'capacity': {
      // The least loaded reps; round-robin among equals.
      const min = Math.min(...reps.map((r) => r.open));
      return reps.filter((r) => r.open === min);
    }
    case 'round_robin':
      return reps;
  }
}

/**
 * Tries each mode of the chain in order; the first that yields a rep wins and names the rule
 * (`territory`, or `round_robin (fallback)` when an earlier mode found nobody). Reps at capacity
 * and excluded reps (who already had this lead) are never chosen.
 */
export function routeLead(lead: RoutingLead, reps: RoutingRep[], policy: RoutingPolicy, exclude: ReadonlySet<string> = new Set()): RoutingResult {
  const free = reps.filter((r) => !exclude.has(r.id) && (policy.capacity === null || r.open < policy.capacity));
  if (!free.length) return { ownerId: null, rule: reps.length ? 'all reps at capacity' : 'no reps on shift' };
  for (let i = 0; i < policy.chain.length; i++) {
    const mode = policy.chain[i];
    const pick = roundRobin(candidates(mode, free, lead));
    if (pick) return { ownerId: pick.id, rule: i === 0 ? mode : `${mode} (fallback)` };
  }
  return { ownerId: null, rule: `no rep matched ${policy.chain.join(' → ')}` };
}
