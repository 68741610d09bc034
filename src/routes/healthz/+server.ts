import { json } from '@sveltejs/kit';
import { getApp } from '$lib/server/runtime';

export const GET = async () => {
  const app = getApp();
  await app.database.db.selectFrom('users').select('id').limit(1).execute();
  return json({ ok: true });
};
