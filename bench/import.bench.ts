/**
 * `npm run bench -- import [--rows N] [--batch N] [--keep]`: generates a CSV of N rows (default
 * 1,000,000; about a tenth repeat an earlier email or phone; Russian and English names), imports
 * it through the import service into a fresh migrated SQLite file and reports rows/s, wall time,
 * peak RSS and the created/updated/rejected counts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { createApp } from '../src/lib/server/app';
import { loadConfig } from '../src/lib/server/config';

const FIRST = ['Иван', 'Мария', 'Алексей', 'Ольга', 'Дмитрий', 'Анна', 'John', 'Emma', 'Oliver', 'Sophia', 'Сергей', 'Елена'];
const LAST = ['Петров', 'Иванова', 'Смирнов', 'Кузнецова', 'Smith', 'Brown', 'Волков', 'Johnson', 'Соколова', 'Miller'];
const CITIES = ['Москва', 'Санкт-Петербург', 'Казань', 'Новосибирск', 'London', 'Екатеринбург', 'Berlin'];
const TITLES = ['Директор', 'Маркетолог', 'CEO', 'Head of Sales', 'Руководитель отдела', 'CTO'];

function arg(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** A phone that libphonenumber accepts as a valid Russian mobile: +7 9xx xxx-xx-xx. */
function phoneOf(n: number) {
  const d = String(n).padStart(9, '0').slice(-9);
  return `+7 (9${d.slice(0, 2)}) ${d.slice(2, 5)}-${d.slice(5, 7)}-${d.slice(7, 9)}`;
}

/** Streams the file so generating a million rows costs no memory; honours backpressure. */
async function generateCsv(file: string, rows: number): Promise<void> {
  const out = fs.createWriteStream(file);
  out.write('\uFEFFИмя;E-mail;Телефон;Компания;Должность;Город\n');
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let i = 0; i < rows; i++) {
    // One row in ten repeats an earlier lead, half by email and half by phone only.
    const dup = i > 100 && rand() < 0.1;
    const n = dup ? Math.floor(rand() * i) : i;
    const email = dup && i % 2 === 0 ? '' : `lead${n}@example${n % 97}.ru`;
    const name = `${FIRST[n % FIRST.length]} ${LAST[(n >> 3) % LAST.length]}`;
    const line = `${name};${email};${phoneOf(n)};"ООО ""Компания ${n % 5000}""";${TITLES[n % TITLES.length]};${CITIES[n % CITIES.length]}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

function vmHwmMb(): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

export default async function importBench(args: string[]) {
  const rows = Number(arg(args, '--rows') ?? 1_000_000);
  const batchSize = arg(args, '--batch') ? Number(arg(args, '--batch')) : undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nurture-import-bench-'));
  const csv = path.join(dir, 'leads.csv');
  try {
    const g0 = performance.now();
    await generateCsv(csv, rows);
    const genMs = performance.now() - g0;
    const fileMb = fs.statSync(csv).size / 1048576;

    const app = await createApp({ config: loadConfig({ DATABASE_URL: path.join(dir, 'bench.db'), SEED: 'none', DATA_DIR: dir }) });
    const baselineRss = process.memoryUsage().rss;
    let peakRss = baselineRss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const summary = await app.services.imports.run({
      filePath: csv,
      filename: 'bench.csv',
      mapping: { Имя: 'name', 'E-mail': 'email', Телефон: 'phone', Компания: 'company', Должность: 'job_title', Город: 'city' },
      channelName: 'Bench import',
      actor: { id: null, label: 'bench' },
      batchSize
    });
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    clearInterval(sampler);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const leads = await app.database.db.selectFrom('leads').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    await app.close();

    const result = {
      rows,
      fileMb: Number(fileMb.toFixed(1)),
      generateSeconds: Number((genMs / 1000).toFixed(1)),
      status: summary.status,
      wallSeconds: Number((wallMs / 1000).toFixed(1)),
      rowsPerSecond: Math.round(rows / (wallMs / 1000)),
      // CPU time of this process: on a machine shared with other jobs, rows per CPU-second shows
      // what the import itself costs, apart from waiting for a core.
      cpuSeconds: Number(cpuSeconds.toFixed(1)),
      rowsPerCpuSecond: Math.round(rows / cpuSeconds),
      loadAverage1m: Number(os.loadavg()[0].toFixed(1)),
      baselineRssMb: Math.round(baselineRss / 1048576),
      peakRssMb: Math.round(peakRss / 1048576),
      vmHwmMb: vmHwmMb() !== undefined ? Math.round(vmHwmMb()!) : null,
      created: summary.created,
      updated: summary.updated,
      rejected: summary.rejected,
      leadsInBase: Number(leads.n),
      cores: os.cpus().length,
      node: process.version
    };
    console.log(JSON.stringify(result, null, 2));
    const ok = summary.status === 'done' && result.rowsPerSecond >= 10_000 && result.peakRssMb < 300;
    console.log(ok ? 'PASS: >= 10,000 rows/s and peak RSS < 300 MB' : 'BELOW TARGET: >= 10,000 rows/s and peak RSS < 300 MB');
  } finally {
    if (!args.includes('--keep')) fs.rmSync(dir, { recursive: true, force: true });
  }
}
