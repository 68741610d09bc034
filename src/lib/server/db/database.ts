import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { CompiledQuery, Kysely, Migrator, SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver, type Migration, type MigrationProvider, type SqliteDialectConfig } from 'kysely';
import { migrations } from '../../../../db/migrations/index';
import type { DB } from './schema';

export type Db = Kysely<DB>;

export interface Database {
  db: Db;
  /** The raw handle, for pragmas and the rare hot path measured to need it. */
  sqlite: SQLite.Database;
  close(): Promise<void>;
}

/** Opens SQLite with the settings measured to work here: WAL, NORMAL sync, a busy timeout, FKs on. */
export function openDatabase(file: string): Database {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const sqlite = new SQLite(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('cache_size = -32000');
  const db = new Kysely<DB>({ dialect: new ImmediateSqliteDialect({ database: reusingStatements(sqlite) }) });
  let closed = false;
  return {
    db,
    sqlite,
    async close() {
      if (closed) return;
      closed = true;
      // Kysely waits for the connection mutex, so an open transaction finishes before we close.
      await db.destroy();
    }
  };
}

/**
 * Every Kysely transaction starts with BEGIN IMMEDIATE. The workflow worker writes from its own
 * connection (a thread or process of its own); a deferred BEGIN that reads and then writes while
 * the other connection has committed fails at once with SQLITE_BUSY, where IMMEDIATE takes the
 * write lock up front and waits for it under busy_timeout.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}
class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}

/**
 * Kysely's SQLite driver prepares every query afresh; reusing the prepared statement per SQL text
 * cut the server's CPU per `POST /api/v1/events` by about a tenth (bench/api.bench.ts). Only
 * Kysely's statements are shared (it never switches a statement's mode, and its one connection
 * runs one query at a time); code that uses the raw handle still prepares its own. The cache is
 * dropped when it grows large, since batch inserts of varying size each make a new SQL text.
 */
function reusingStatements(sqlite: SQLite.Database) {
  const statements = new Map<string, SQLite.Statement>();
  return {
    prepare(sql: string) {
      let stmt = statements.get(sql);
      if (!stmt) {
        if (statements.size >= 1000) statements.clear();
        stmt = sqlite.prepare(sql);
        statements.set(sql, stmt);
      }
      return stmt;
    },
    close() {
      statements.clear();
      sqlite.close();
    }
  };
}

class StaticMigrationProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations;
  }
}

export async function migrateToLatest(db: Db): Promise<string[]> {
  // Several features land in one release with timestamps that interleave with ones a base already
  // ran; each migration touches only its own tables, so running a missed one late is safe.
  const migrator = new Migrator({ db, provider: new StaticMigrationProvider(), allowUnorderedMigrations: true });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
