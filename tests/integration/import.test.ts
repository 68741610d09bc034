import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import SQLite from 'better-sqlite3';
import { createTestApp, type TestApp } from '../support/test-app';
import { parseLeadInput } from '../../src/lib/server/services/capture.service';
import { InputError } from '../../src/lib/server/services/deps';
import { suggestMapping, type ImportMapping } from '../../src/lib/shared/import';
import { createImportService } from '../../src/lib/server/services/import.service';
import { createChannelResolver } from '../../src/lib/server/services/channels.service';

let app: TestApp;
let dir: string;
const actor = { id: null, label: 'test' };

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nurture-import-test-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
beforeEach(async () => {
  app = await createTestApp({ DATA_DIR: dir });
});
afterEach(async () => {
  await app.close();
});

function writeCsv(name: string, text: string) {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

/**
 * Row numbers are a spreadsheet's: the header is row 1. Row 2 spans two lines (a quoted newline)
 * and is still one row. Row 7 repeats row 2's email in other case; row 9 matches a lead already
 * in the base by phone only.
 */
const RU_CSV =
  '\uFEFFИмя;E-mail;Телефон;Компания;Должность;Город;Заметка\n' +
  'Иван Петров;ivan@example.ru;+7 916 123-45-67;"ООО ""Ромашка""; филиал";Директор;Москва;"первая строка\nвторая строка"\n' +
  'Мария Иванова;MARIA@example.ru;;=HYPERLINK("http://evil.test","click");Маркетолог;Казань;\n' +
  'Анна Смирнова;anna@example.ru;8 (916) 000-00-01;Вектор;CEO;Санкт-Петербург;\n' +
  'Плохой Email;foo@;;X;;;\n' +
  'Плохой Телефон;bad.phone@example.ru;12;Y;;;\n' +
  'Иван П.;IVAN@Example.ru;;;Генеральный директор;;\n' +
  '<script>alert(1)</script>;script@example.ru;;<img src=x onerror=alert(1)>;;;\n' +
  ';;+7 999 111-22-33;Обновлено;;;\n';

async function leadByEmail(email: string) {
  return app.database.db.selectFrom('leads').selectAll().where('email', '=', email).executeTakeFirstOrThrow();
}

describe('CSV import', () => {
  it.each([
    ['one batch', 2000, 'sqlite'],
    ['batches of two rows', 2, 'sqlite'],
    ['the portable Kysely writer', 3, 'kysely']
  ])('imports a BOM + ; + quoted + Cyrillic file with dedupe and rejects (%s)', async (_label, batchSize, path) => {
    // The app wires the raw SQLite hot path; the portable writer (for PostgreSQL) must agree with it.
    const imports = path === 'kysely' ? createImportService(app.deps, createChannelResolver(app.deps)) : app.services.imports;
    const existing = await app.services.capture.capture({
      input: parseLeadInput({ email: 'old@example.ru', phone: '+79991112233', name: 'Старый Клиент' }),
      source: 'form',
      actor
    });
    const file = writeCsv(`ru-${batchSize}.csv`, RU_CSV);

    const preview = await imports.preview(file);
    expect(preview.headers).toEqual(['Имя', 'E-mail', 'Телефон', 'Компания', 'Должность', 'Город', 'Заметка']);
    expect(preview.rows[0][3]).toBe('ООО "Ромашка"; филиал');
    expect(preview.rows[0][6]).toBe('первая строка\nвторая строка');
    expect(preview.suggested).toEqual({
      Имя: 'name',
      'E-mail': 'email',
      Телефон: 'phone',
      Компания: 'company',
      Должность: 'job_title',
      Город: 'city',
      Заметка: 'skip'
    });

    const mapping: ImportMapping = { ...preview.suggested, Заметка: 'attr:note' };
    const summary = await imports.run({ filePath: file, filename: 'ru.csv', mapping, channelName: 'Выставка 2026', actor, batchSize });
    expect(summary).toMatchObject({ status: 'done', total: 8, created: 4, updated: 2, rejected: 2, progress: 1, stoppedAtRow: null });

    const rejects = await imports.rejects(summary.id);
    expect(rejects.map(({ row, field, reason }) => ({ row, field, reason }))).toEqual([
      { row: 5, field: 'E-mail', reason: '"foo@" is not a valid email address' },
      { row: 6, field: 'Телефон', reason: '"12" is not a valid phone number' }
    ]);
    expect(rejects[0].raw).toEqual(['Плохой Email', 'foo@', '', 'X', '', '', '']);
    // A rejected row stores nothing.
    expect(await app.database.db.selectFrom('leads').select('id').where('email', '=', 'bad.phone@example.ru').execute()).toEqual([]);

    const ivan = await leadByEmail('ivan@example.ru');
    expect(ivan).toMatchObject({
      name: 'Иван П.',
      phone: '+79161234567',
      company: 'ООО "Ромашка"; филиал',
      job_title: 'Генеральный директор',
      city: 'Москва',
      source: 'import'
    });
    expect(JSON.parse(ivan.attributes)).toEqual({ note: 'первая строка\nвторая строка' });
    const channel = await app.database.db.selectFrom('channels').selectAll().where('id', '=', ivan.channel_id!).executeTakeFirstOrThrow();
    expect(channel.name).toBe('Выставка 2026');

    // Formula and script stay the text they were; neutralizing is the export's job.
    expect((await leadByEmail('maria@example.ru')).company).toBe('=HYPERLINK("http://evil.test","click")');
    expect(await leadByEmail('script@example.ru')).toMatchObject({ name: '<script>alert(1)</script>', company: '<img src=x onerror=alert(1)>' });

    // The lead already in the base was updated, not twinned, and keeps its email and source.
    const old = await app.database.db.selectFrom('leads').selectAll().where('id', '=', existing.leadId).executeTakeFirstOrThrow();
    expect(old).toMatchObject({ email: 'old@example.ru', company: 'Обновлено', source: 'form' });
    const count = await app.database.db.selectFrom('leads').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(5);

    const ivanTimeline = await app.services.leads.timeline(ivan.id);
    expect(ivanTimeline.map((e) => [e.type, e.source, e.properties.importId, e.properties.row])).toEqual([
      ['lead_captured', 'import', summary.id, 7],
      ['lead_created', 'import', summary.id, 2]
    ]);
    const oldTimeline = await app.services.leads.timeline(existing.leadId);
    expect(oldTimeline[0]).toMatchObject({ type: 'lead_captured', source: 'import', properties: { importId: summary.id, row: 9 } });

    expect(await app.services.imports.lastMapping()).toEqual(mapping);
    expect((await app.services.imports.list()).map((i) => i.id)).toEqual([summary.id]);
  });

  it('auto-detects a comma file without BOM and suggests English headers', async () => {
    const file = writeCsv(
      'en.csv',
      'Name,Email,Phone,Company,Job Title,City,Favourite colour\r\n' +
        '"Smith, John",john@example.com,+44 20 7946 0958,"Acme, Inc.",CTO,London,blue\r\n' +
        'Jane Doe,jane@example.com,,Globex,CEO,Berlin,green\r\n'
    );
    const preview = await app.services.imports.preview(file);
    expect(preview.suggested).toEqual({
      Name: 'name',
      Email: 'email',
      Phone: 'phone',
      Company: 'company',
      'Job Title': 'job_title',
      City: 'city',
      'Favourite colour': 'skip'
    });
    const summary = await app.services.imports.run({ filePath: file, filename: 'en.csv', mapping: preview.suggested, actor });
    expect(summary).toMatchObject({ status: 'done', created: 2, rejected: 0 });
    expect(await leadByEmail('john@example.com')).toMatchObject({ name: 'Smith, John', company: 'Acme, Inc.', phone: '+442079460958' });
    // The next preview of a file with the same headers offers the remembered choice first.
    const next = await app.services.imports.preview(writeCsv('en2.csv', 'Favourite colour;Email\nred;x@y.ru\n'));
    expect(next.suggested).toEqual({ 'Favourite colour': 'skip', Email: 'email' });
  });

  it('suggests mappings for Russian and English headers and prefers a remembered one', () => {
    expect(suggestMapping(['ФИО', 'Почта', 'Тел.', 'Организация', 'Должность', 'Город', 'Регион'])).toEqual({
      ФИО: 'name',
      Почта: 'email',
      'Тел.': 'phone',
      Организация: 'company',
      Должность: 'job_title',
      Город: 'city',
      Регион: 'region'
    });
    expect(suggestMapping(['E-Mail', 'Mobile', 'Position', 'utm_source'])).toEqual({
      'E-Mail': 'email',
      Mobile: 'phone',
      Position: 'job_title',
      utm_source: 'utm_source'
    });
    // Two columns never claim the same field; the remembered mapping wins over the word list.
    expect(suggestMapping(['Email', 'E-mail'])).toEqual({ Email: 'email', 'E-mail': 'skip' });
    expect(suggestMapping(['Email', 'Отдел'], { Отдел: 'attr:department', Email: 'skip' })).toEqual({ Email: 'skip', Отдел: 'attr:department' });
  });

  it('refuses a mapping without email or phone, or two columns on one field', async () => {
    const file = writeCsv('refuse.csv', 'Name;Email\nA;a@b.ru\n');
    await expect(app.services.imports.start({ filePath: file, filename: 'x.csv', mapping: { Name: 'name', Email: 'skip' }, actor })).rejects.toThrow(InputError);
    await expect(app.services.imports.start({ filePath: file, filename: 'x.csv', mapping: { Name: 'email', Email: 'email' }, actor })).rejects.toThrow(/both map to email/);
    expect(await app.services.imports.list()).toEqual([]);
  });

  it('keeps every committed batch when one fails mid-file and reports the row it stopped at', async () => {
    // A real database error, raised by SQLite itself when the fifth data row (row 6) is written.
    app.database.sqlite.exec(`CREATE TRIGGER import_boom BEFORE INSERT ON leads WHEN NEW.name = 'BOOM' BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`);
    const rows = ['a', 'b', 'c', 'd', 'BOOM', 'f', 'g'].map((n, i) => `${n};${n.toLowerCase()}${i}@example.ru`);
    const file = writeCsv('fail.csv', ['Name;Email', ...rows].join('\n'));
    const summary = await app.services.imports.run({ filePath: file, filename: 'fail.csv', mapping: { Name: 'name', Email: 'email' }, actor, batchSize: 2 });
    expect(summary).toMatchObject({ status: 'failed', stoppedAtRow: 6, created: 4, total: 4 });
    expect(summary.error).toContain('disk on fire');
    const names = await app.database.db.selectFrom('leads').select('name').orderBy('name').execute();
    expect(names.map((n) => n.name)).toEqual(['a', 'b', 'c', 'd']);
    // The failed batch left no half: no identity and no event of row 6 or 7.
    const events = await app.database.db.selectFrom('events').select('properties').execute();
    expect(events.map((e) => JSON.parse(e.properties).row).sort()).toEqual([2, 3, 4, 5]);
  });

  it('reports an import cut off by a restart as failed at the next row it had not committed', async () => {
    const file = writeCsv('restart.csv', 'Email\na@example.ru\nb@example.ru\nc@example.ru\n');
    const first = await app.services.imports.run({ filePath: file, filename: 'restart.csv', mapping: { Email: 'email' }, actor, batchSize: 2 });
    expect(first).toMatchObject({ status: 'done', stoppedAtRow: null });
    // What a crash after the first batch leaves behind: a running row owned by no process.
    await app.database.db
      .updateTable('imports')
      .set({ status: 'running', stopped_at_row: 4, finished_at: null })
      .where('id', '=', first.id)
      .execute();
    const after = createImportService(app.deps, createChannelResolver(app.deps), app.database.sqlite);
    expect(await after.status(first.id)).toMatchObject({ status: 'failed', stoppedAtRow: 4, error: 'the server stopped during the import' });
  });
});

describe('CLI import', () => {
  const exec = promisify(execFile);

  it('imports a file end to end and prints a JSON summary', async () => {
    const cliDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nurture-import-cli-'));
    try {
      const csv = path.join(cliDir, 'leads.csv');
      fs.writeFileSync(csv, '\uFEFFИмя;Почта;Телефон\nОльга;olga@example.ru;+7 916 555-44-33\nОльга 2;OLGA@example.ru;\nБез почты;nope;\n');
      const dbFile = path.join(cliDir, 'cli.db');
      const { stdout } = await exec('npx', ['tsx', 'src/lib/server/cli/main.ts', 'import', csv, '--channel', 'Партнёры'], {
        env: { ...process.env, DATABASE_URL: dbFile, DATA_DIR: cliDir, SEED: 'none' },
        timeout: 60_000
      });
      const out = JSON.parse(stdout);
      expect(out).toMatchObject({ total: 3, created: 1, updated: 1, rejected: 1, status: 'done' });
      expect(out.rejects).toEqual([{ row: 4, field: 'Почта', reason: '"nope" is not a valid email address' }]);
      const raw = new SQLite(dbFile, { readonly: true });
      try {
        const lead = raw.prepare(`SELECT l.name, l.phone, c.name AS channel FROM leads l JOIN channels c ON c.id = l.channel_id`).all();
        expect(lead).toEqual([{ name: 'Ольга 2', phone: '+79165554433', channel: 'Партнёры' }]);
      } finally {
        raw.close();
      }
    } finally {
      fs.rmSync(cliDir, { recursive: true, force: true });
    }
  });
});
