// Tests run with immer's auto-freeze on, so any mutation of a produced state throws at once.
import { setAutoFreeze } from 'immer';

setAutoFreeze(true);
