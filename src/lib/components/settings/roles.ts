import { m } from '$lib/paraglide/messages';

export const ROLES = ['admin', 'marketer', 'sales'] as const;

export function roleLabel(role: string): string {
  return role === 'admin' ? m.role_admin() : role === 'marketer' ? m.role_marketer() : role === 'sales' ? m.role_sales() : role;
}
