import type { WorkflowInput } from '$lib/shared/workflow';
import type { CheckProblem } from '$lib/shared/workflow-check';

/** A node's live figures: leads in it now and passed; email steps add their sends and reactions. */
export interface NodeCounts {
  now: number;
  passed: number;
  email?: { sent: number; delivered: number; opens: number; clicks: number; unsubscribes: number; bounces: number };
}

/** The flow canvas's props: FlowCanvas takes them and hands them on to CanvasInner. */
export interface CanvasProps {
  workflow: WorkflowInput;
  readonly?: boolean;
  problems?: CheckProblem[];
  counts?: Record<string, NodeCounts>;
  onCountClick?: (nodeId: string, metric: string) => void;
  /** Editing: the canvas never changes `workflow` itself; it hands the edited copy here. */
  onchange?: (wf: WorkflowInput) => void;
  onselect?: (ids: string[]) => void;
  /** Template names, so a new email step starts with one picked. */
  templates?: string[];
}
