import { router } from '../init';

export const labRouter = router({});
