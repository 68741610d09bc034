import { error } from '@sveltejs/kit';
import type { Role, User } from '../repositories/users.repo';
import type { Actor } from '../services/deps';

/**
 * For SvelteKit loads and form actions: the signed-in user if their role is allowed, else a 403
 * (401 when signed out). tRPC procedures use `allow(...)` instead; pages and actions call this.
 */
export function requireRole(user: User | null, ...roles: Role[]): { user: User; actor: Actor } {
  if (!user) error(401, { message: 'Sign in first' });
  if (!roles.includes(user.role)) error(403, { message: `Your role (${user.role}) may not open this page` });
  return { user, actor: { id: user.id, label: user.email } };
}
