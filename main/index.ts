// Placeholder until the desktop shell lands: proves main/ type-checks against Electron's types.
import { app } from 'electron';

void app.whenReady().then(() => app.quit());
