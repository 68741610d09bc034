import type { Migration } from 'kysely';
import * as foundation from './20261125T0900_foundation';
import * as workflows from './20261125T1000_workflows';
import * as email from './20261125T1100_email';
import * as emailDelivery from './20261125T1110_email_delivery';
import * as scoring from './20261125T1150_scoring';
import * as flowLive from './20261125T1250_flow_live';
import * as segments from './20261125T1400_segments';
import * as segmentActivity from './20261125T1410_segment_activity';
import * as workflowDrafts from './20261125T1200_workflow_drafts';
import * as handoffs from './20261125T1300_handoffs';
import * as scoringLab from './20261125T1350_scoring_lab';
import * as analytics from './20261125T1500_analytics';
import * as analyticsIndexes from './20261125T1510_analytics_indexes';
import * as eventStatsByDispatcher from './20261125T1600_event_stats_by_dispatcher';
import * as segmentRecentDays from './20261125T1700_segment_recent_days';
import * as analyticsLeadReach from './20261125T1710_analytics_lead_reach';
import * as segmentCountersClustered from './20261125T1720_segment_counters_clustered';
import * as segmentDaysClustered from './20261125T1730_segment_days_clustered';
import * as scoreLedgerOneLeadIndex from './20261125T1740_score_ledger_one_lead_index';

/**
 * Migrations are listed here rather than discovered on disk, so the same list works in the
 * bundled server, the CLI and the tests. Names sort by their timestamp.
 */
export const migrations: Record<string, Migration> = {
  '20261125T0900_foundation': foundation,
  '20261125T1000_workflows': workflows,
  '20261125T1100_email': email,
  '20261125T1110_email_delivery': emailDelivery,
  '20261125T1150_scoring': scoring,
  '20261125T1200_workflow_drafts': workflowDrafts,
  '20261125T1250_flow_live': flowLive,
  '20261125T1300_handoffs': handoffs,
  '20261125T1350_scoring_lab': scoringLab,
  '20261125T1400_segments': segments,
  '20261125T1410_segment_activity': segmentActivity,
  '20261125T1500_analytics': analytics,
  '20261125T1510_analytics_indexes': analyticsIndexes,
  '20261125T1600_event_stats_by_dispatcher': eventStatsByDispatcher,
  '20261125T1700_segment_recent_days': segmentRecentDays,
  '20261125T1710_analytics_lead_reach': analyticsLeadReach,
  '20261125T1720_segment_counters_clustered': segmentCountersClustered,
  '20261125T1730_segment_days_clustered': segmentDaysClustered,
  '20261125T1740_score_ledger_one_lead_index': scoreLedgerOneLeadIndex
};
