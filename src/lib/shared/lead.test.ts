import { describe, expect, it } from 'vitest';
import { normalizeEmail, normalizePhone, leadInputSchema } from './lead';

describe('lead normalization', () => {
  it('lower-cases and trims email', () => {
    expect(normalizeEmail('  Ivan@Example.RU ')).toEqual({ ok: true, value: 'ivan@example.ru' });
    expect(normalizeEmail('ivan@').ok).toBe(false);
  });
  it('turns Russian phone spellings into E.164 with RU as the default region', () => {
    for (const p of ['8 (916) 123-45-67', '+7 916 123 45 67', '9161234567', '+7(916)1234567'])
      expect(normalizePhone(p)).toEqual({ ok: true, value: '+79161234567' });
    expect(normalizePhone('+44 20 7946 0958')).toEqual({ ok: true, value: '+442079460958' });
    expect(normalizePhone('123').ok).toBe(false);
  });
  it('names the field of each problem', () => {
    const r = leadInputSchema.safeParse({ email: 'bad', phone: '1', timezone: 'Mars/Base' });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path[0]).sort()).toEqual(['email', 'phone', 'timezone']);
  });
});
