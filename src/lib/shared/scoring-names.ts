/**
 * The rules Nurture ships (migration 20261125T1150_scoring) are stored with English names. A rule
 * that still carries its shipped name is shown in the reader's language; one an admin renamed is
 * shown as they named it. Pure, so pages, emails and tests share it.
 */
const SHIPPED: Record<string, { en: string; ru: string }> = {
  'fit-title-exec': { en: 'Executive title', ru: 'Руководящая должность' },
  'fit-size-mid': { en: 'Company 50–999 people', ru: 'Компания 50–999 человек' },
  'fit-size-large': { en: 'Company 1000+ people', ru: 'Компания от 1000 человек' },
  'fit-industry': { en: 'Target industry', ru: 'Целевая отрасль' },
  'fit-region': { en: 'Served region', ru: 'Обслуживаемый регион' },
  'fit-work-email': { en: 'Work email (not a free mailbox)', ru: 'Рабочая почта (не бесплатный ящик)' },
  'fit-competitor': { en: 'Competitor domain', ru: 'Домен конкурента' },
  'fit-student': { en: 'Student email', ru: 'Студенческая почта' },
  'eng-open': { en: 'Email opened', ru: 'Открыл письмо' },
  'eng-click': { en: 'Email link clicked', ru: 'Перешёл по ссылке из письма' },
  'eng-form': { en: 'Form submitted', ru: 'Отправил форму' },
  'eng-pricing': { en: 'Visited the pricing page', ru: 'Смотрел страницу цен' },
  'eng-page': { en: 'Visited a page', ru: 'Посетил страницу сайта' },
  'eng-webinar': { en: 'Attended a webinar', ru: 'Был на вебинаре' },
  'eng-demo': { en: 'Requested a demo (API)', ru: 'Запросил демо (API)' },
  'eng-unsubscribed': { en: 'Unsubscribed', ru: 'Отписался' },
  'eng-jobs': { en: 'Job seeker (careers page)', ru: 'Ищет работу (страница вакансий)' }
};

export function ruleLabel(ruleId: string | null | undefined, name: string, locale: string): string {
  const shipped = ruleId ? SHIPPED[ruleId] : undefined;
  if (!shipped || name !== shipped.en) return name;
  return locale === 'ru' ? shipped.ru : shipped.en;
}
