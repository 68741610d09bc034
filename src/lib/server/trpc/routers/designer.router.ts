import { router } from '../init';

export const designerRouter = router({});
