import type { Cookies } from '@sveltejs/kit';

export const SESSION_COOKIE = 'nurture_session';

export function setSessionCookie(cookies: Cookies, token: string, expiresAt: number, secure: boolean) {
  cookies.set(SESSION_COOKIE, token, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure,
    expires: new Date(expiresAt)
  });
}
