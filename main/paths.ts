// Where the built app's parts are, relative to this bundle (out/main/index.js).
import { join } from 'node:path';

const OUT = join(import.meta.dirname, '..');

/** What app:// serves (main/protocol.ts). */
export const RENDERER_DIR = join(OUT, 'renderer');
export { APP_URL } from '../app/host/appProtocol.js';
export const PRELOAD = join(OUT, 'preload', 'index.cjs');
export const ENGINE_ENTRY = join(OUT, 'engine', 'engineProcess.cjs');
