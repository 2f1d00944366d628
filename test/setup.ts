// Tests deep-freeze every state a step takes and returns (src/protocol/cow.ts), so a write to an
// object the step did not copy throws at once.
import { setStateFreezing } from '../src/protocol/cow.ts';

setStateFreezing(true);
