import type { ChannelResolver } from './channels.service';
import type { Deps } from './deps';

// Placeholder: the CSV import service is being written (issue 3); see tests/integration/import.test.ts.
export function createImportService(deps: Deps, channels: ChannelResolver) {
  void deps;
  void channels;
  return {};
}
export type ImportService = ReturnType<typeof createImportService>;
