import type { Config } from './config';
import { migrateToLatest, openDatabase, type Database } from './db/database';
import { cryptoRandom, systemClock, uuidIds, type Clock, type Ids, type Random } from './ports';
import type { Deps } from './services/deps';
import { createAuthService } from './services/auth.service';
import { createChannelResolver } from './services/channels.service';
import { createCaptureService } from './services/capture.service';
import { createLeadsService } from './services/leads.service';
import { createApiKeysService } from './services/api-keys.service';
import { createEventsService } from './services/events.service';
import { createChannelsAdminService } from './services/channels-admin.service';
import { createFormsService } from './services/forms.service';
import { createImportService } from './services/import.service';
import { createAuditService } from './services/audit.service';
import { createEngine, type EngineOptions } from './engine/engine';
import { createTrackingService } from './services/tracking.service';
import { createTemplatesService } from './services/templates.service';
import { createEmailChannel } from './email/channel';
import type { Transport } from './email/contract';
import { createScoringService } from './services/scoring.service';
import { createLiveBus } from './live-bus';
import { createFlowRuntime } from './services/flow-runtime.service';
import { createHandoffService } from './services/handoff.service';
import { createStaffMailer } from './services/handoff-mail';
import { createSegmentsService } from './services/segments.service';
import { createScoringLabService } from './services/scoring-lab.service';
import { createAnalyticsService } from './services/analytics.service';
import { createWorkflowDrafts } from './services/workflow-drafts.service';

export interface AppOptions {
  config: Config;
  clock?: Clock;
  ids?: Ids;
  random?: Random;
  /** An already-open database (tests pass an in-memory one). */
  database?: Database;
  engine?: Partial<EngineOptions>;
  /** The email transport (tests pass one); default SMTP when SMTP_URL is set, else the Mailbox. */
  transport?: Transport;
}

/** The composition root: config + database + ports -> services. Built once per process. */
export async function createApp(opts: AppOptions) {
  const { config } = opts;
  const database = opts.database ?? openDatabase(config.databasePath);
  await migrateToLatest(database.db);
  const deps: Deps = {
    db: database.db,
    clock: opts.clock ?? systemClock,
    ids: opts.ids ?? uuidIds,
    random: opts.random ?? cryptoRandom
  };
  const channelResolver = createChannelResolver(deps);
  const capture = createCaptureService(deps, channelResolver);
  const tracking = createTrackingService(
    deps,
    { secret: config.TRACKING_SECRET, publicUrl: config.PUBLIC_URL ?? `http://localhost:${config.PORT}` },
    database.sqlite
  );
  const email = createEmailChannel(deps, config, tracking, { transport: opts.transport });
  const scoring = createScoringService(deps);
  // One channel per database file: the serving thread and the worker thread of one server meet
  // on it; test apps (each on its own in-memory base) never hear each other.
  const live = createLiveBus(
    `nurture-live:${config.databasePath === ':memory:' ? deps.ids.newId() : config.databasePath}`
  );
  const handoff = createHandoffService(deps, {
    mailer: createStaffMailer(deps, config, email.delivery),
    publicUrl: config.PUBLIC_URL ?? `http://localhost:${config.PORT}`,
    live
  });
  // Enrollment is bound late: the engine is built below and itself feeds events to segments.
  const segments = createSegmentsService(deps, {
    enroll: (actor, slug, leadIds) => services.engine.enroll(actor, slug, leadIds)
  });
  const services = {
    auth: createAuthService(deps, { sessionTtlDays: config.SESSION_TTL_DAYS }),
    capture,
    leads: createLeadsService(deps),
    apiKeys: createApiKeysService(deps),
    events: createEventsService(deps, database.sqlite),
    channels: createChannelsAdminService(deps),
    forms: createFormsService(deps, capture),
    imports: createImportService(deps, channelResolver, database.sqlite),
    audit: createAuditService(deps),
    tracking,
    templates: createTemplatesService(deps, config, (t) => email.sendTest(t)),
    email,
    scoring,
    handoff,
    segments,
    lab: createScoringLabService(deps, scoring, database.sqlite),
    analytics: createAnalyticsService(deps),
    designer: createWorkflowDrafts(deps),
    flowRuntime: createFlowRuntime(deps, config, (): ReturnType<typeof createEngine> => services.engine),
    engine: createEngine(deps, {
      webhookAllowHosts: config.WEBHOOK_ALLOW_HOSTS,
      email,
      scoring,
      segments,
      handoff,
      ...opts.engine
    })
  };
  return {
    config,
    database,
    deps,
    services,
    live,
    async close() {
      live.close();
      await services.lab.close();
      await email.close();
      await database.close();
    }
  };
}

export type App = Awaited<ReturnType<typeof createApp>>;
