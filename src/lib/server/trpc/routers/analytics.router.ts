import { router } from '../init';

export const analyticsRouter = router({});
