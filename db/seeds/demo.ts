import type { App } from '../../src/lib/server/app';
import { usersRepo } from '../../src/lib/server/repositories/users.repo';
import { parseLeadInput } from '../../src/lib/server/services/capture.service';
import { systemActor } from '../../src/lib/server/services/deps';
import { seedDemoHistory } from './demo-history';

/** Documented in the README: the demo seed's sign-ins. */
export const DEMO_USERS = [
  { email: 'admin@nurture.demo', password: 'demo-admin-2026', name: 'Анна Админова', role: 'admin' as const },
  { email: 'marketer@nurture.demo', password: 'demo-marketer-2026', name: 'Мария Маркетова', role: 'marketer' as const },
  { email: 'sales@nurture.demo', password: 'demo-sales-2026', name: 'Сергей Продажин', role: 'sales' as const, territory: 'Москва', specializations: ['CRM'] },
  { email: 'manager@nurture.demo', password: 'demo-manager-2026', name: 'Olga Manager', role: 'sales' as const, isManager: true, territory: 'Санкт-Петербург', specializations: ['Analytics'] }
];

const FIRST_RU = ['Иван', 'Алексей', 'Дмитрий', 'Сергей', 'Андрей', 'Ольга', 'Елена', 'Наталья', 'Татьяна', 'Мария', 'Павел', 'Юлия'];
const LAST_RU = ['Иванов', 'Смирнов', 'Кузнецов', 'Попов', 'Васильев', 'Петров', 'Соколов', 'Михайлов', 'Новиков', 'Фёдоров'];
const FIRST_EN = ['John', 'Emma', 'Oliver', 'Sophia', 'Liam', 'Ava', 'Noah', 'Mia'];
const LAST_EN = ['Smith', 'Brown', 'Taylor', 'Wilson', 'Clark', 'Walker'];
const COMPANIES = ['ООО «Ромашка»', 'АО «Вектор»', 'ПАО «СеверСталь»', 'ООО «Техносфера»', 'ИП Сидоров', 'Acme Corp', 'Globex', 'ООО «Логистик Плюс»', 'АО «Медиагруппа»', 'Initech'];
const TITLES = ['Генеральный директор', 'Коммерческий директор', 'Менеджер по закупкам', 'Маркетолог', 'IT-директор', 'Head of Marketing', 'CTO', 'Бухгалтер'];
const CITIES = [['Москва', 'Москва'], ['Санкт-Петербург', 'Санкт-Петербург'], ['Казань', 'Татарстан'], ['Новосибирск', 'Новосибирская область'], ['Екатеринбург', 'Свердловская область']];
const TRANSLIT: Record<string, string> = { а: 'a', б: 'b', в: 'v', г: 'g', д: 'd', е: 'e', ё: 'e', ж: 'zh', з: 'z', и: 'i', й: 'y', к: 'k', л: 'l', м: 'm', н: 'n', о: 'o', п: 'p', р: 'r', с: 's', т: 't', у: 'u', ф: 'f', х: 'h', ц: 'c', ч: 'ch', ш: 'sh', щ: 'sch', ы: 'y', ь: '', ъ: '', э: 'e', ю: 'yu', я: 'ya' };

/** Channels, their monthly spend (rubles) and how many leads each brings: one is cheap and plentiful, one converts better. */
const CHANNELS = [
  { name: 'Яндекс Директ', kind: 'paid', utmSource: 'yandex', utmMedium: 'cpc', spend: 180000, share: 0.45 },
  { name: 'Конференции', kind: 'offline', spend: 250000, share: 0.15 },
  { name: 'VK Реклама', kind: 'paid', utmSource: 'vk', utmMedium: 'cpc', spend: 90000, share: 0.2 },
  { name: 'Website', kind: 'direct', spend: 0, share: 0.2 }
];

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Seeds an empty base with demo users, channels with spend, a form and leads. Does nothing on a base with users. */
export async function seedDemo(app: App, opts: { leads?: number } = {}): Promise<{ leads: number } | null> {
  const { db, clock } = app.deps;
  if ((await usersRepo.count(db)) > 0) return null;
  const actor = systemActor;
  const userIds: string[] = [];
  for (const u of DEMO_USERS) {
    userIds.push(await app.services.auth.createUser(actor, { ...u, locale: 'ru' }));
  }
  const now = clock.now();
  const DAY = 86_400_000;
  const channelIds: string[] = [];
  for (const c of CHANNELS) {
    const id = await app.services.channels.create(actor, { name: c.name, kind: c.kind as 'paid', utmSource: c.utmSource, utmMedium: c.utmMedium });
    channelIds.push(id);
    for (let m = 0; m < 3 && c.spend > 0; m++) {
      const start = new Date(now - m * 30 * DAY);
      const periodStart = Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), 1);
      const periodEnd = Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1);
      await app.services.channels.addSpend(actor, { channelId: id, periodStart, periodEnd, amount: c.spend, note: 'Демо-бюджет' });
    }
  }
  await app.services.forms.create(actor, {
    name: 'Заявка на демо',
    slug: 'demo-request',
    title: 'Запишитесь на демонстрацию',
    fields: [
      { key: 'name', label: 'Имя', type: 'text', required: true },
      { key: 'email', label: 'Email', type: 'email', required: true },
      { key: 'phone', label: 'Телефон', type: 'tel', required: false },
      { key: 'company', label: 'Компания', type: 'text', required: false }
    ],
    consentText: 'Я согласен на обработку персональных данных и получение писем',
    thankYouText: 'Спасибо! Мы свяжемся с вами в течение часа.',
    channelId: channelIds[3]
  });

  const rand = rng(42);
  const pick = <T>(a: T[]) => a[Math.floor(rand() * a.length)];
  const count = opts.leads ?? 240;
  for (let i = 0; i < count; i++) {
    const ru = rand() < 0.75;
    const first = ru ? pick(FIRST_RU) : pick(FIRST_EN);
    let last = ru ? pick(LAST_RU) : pick(LAST_EN);
    if (ru && /[ая]$/.test(first)) last = `${last}а`;
    const latin = `${first}.${last}`.toLowerCase().replace(/[а-яё]/g, (ch) => TRANSLIT[ch] ?? '');
    const [city, region] = pick(CITIES);
    let r = rand();
    let ci = 0;
    while (ci < CHANNELS.length - 1 && r > CHANNELS[ci].share) r -= CHANNELS[ci++].share;
    const ch = CHANNELS[ci];
    const phone = rand() < 0.7 ? `+7 9${String(10 + Math.floor(rand() * 89))} ${String(100 + i).padStart(3, '0')}-${String(Math.floor(rand() * 90) + 10)}-${String(Math.floor(rand() * 90) + 10)}` : undefined;
    const input = parseLeadInput({
      name: `${first} ${last}`,
      email: `${latin}${i}@example.${ru ? 'ru' : 'com'}`,
      phone,
      company: pick(COMPANIES),
      job_title: pick(TITLES),
      city,
      region,
      country: ru ? 'Россия' : 'United Kingdom',
      consent_marketing: rand() < 0.8,
      consent_tracking: rand() < 0.6
    });
    const occurredAt = now - Math.floor(rand() * 85 * DAY);
    await app.services.capture.capture({
      input,
      source: ch.name === 'Конференции' ? 'manual' : ch.name === 'Website' ? 'form' : 'api',
      channelId: channelIds[ci],
      touch: ch.utmSource ? { utm_source: ch.utmSource, utm_medium: ch.utmMedium, utm_campaign: rand() < 0.5 ? 'spring_sale' : 'crm_webinar' } : undefined,
      actor,
      occurredAt
    });
  }
  // Spread creation times over the last quarter so lists and channel reports look lived-in.
  const leads = await db.selectFrom('leads').select(['id']).execute();
  for (const l of leads) {
    const created = now - Math.floor(rand() * 85 * DAY);
    await db.updateTable('leads').set({ created_at: created, updated_at: created }).where('id', '=', l.id).execute();
    await db.updateTable('events').set({ occurred_at: created }).where('lead_id', '=', l.id).where('type', '=', 'lead_created').execute();
  }
  await seedDemoHistory(app);
  return { leads: leads.length };
}
