import { router } from '../init';

export const handoffRouter = router({});
