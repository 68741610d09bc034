import { router } from '../init';

// Placeholder until the CSV import procedures land (issue 3).
export const importsRouter = router({});
