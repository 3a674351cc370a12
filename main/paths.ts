// Where the built app's parts are, relative to this bundle (out/main/index.js).
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const OUT = join(import.meta.dirname, '..');

export const RENDERER_HTML = join(OUT, 'renderer', 'index.html');
export const RENDERER_DIR_URL = pathToFileURL(join(OUT, 'renderer')).href;
export const APP_URL = pathToFileURL(RENDERER_HTML).href;
export const PRELOAD = join(OUT, 'preload', 'index.cjs');
export const ENGINE_ENTRY = join(OUT, 'engine', 'engineProcess.cjs');
