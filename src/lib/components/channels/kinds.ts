import { m } from '$lib/paraglide/messages';

/** The channel kinds the service accepts (channelSchema), with their labels. */
export const CHANNEL_KINDS = ['paid', 'organic', 'social', 'email', 'referral', 'direct', 'api', 'import', 'offline', 'named'] as const;

const LABELS: Record<string, () => string> = {
  paid: () => m.channels_kind_paid(),
  organic: () => m.channels_kind_organic(),
  social: () => m.channels_kind_social(),
  email: () => m.channels_kind_email(),
  referral: () => m.channels_kind_referral(),
  direct: () => m.channels_kind_direct(),
  api: () => m.channels_kind_api(),
  import: () => m.channels_kind_import(),
  offline: () => m.channels_kind_offline(),
  named: () => m.channels_kind_named()
};

export function kindLabel(kind: string): string {
  return LABELS[kind]?.() ?? kind;
}
