// The tray icon: each profile with its state (click to start or stop it), the app's own switches,
// and the way back to the window. Rebuilt whenever a tunnel's state or the profiles change.
import { Menu, Tray, type MenuItemConstructorOptions } from 'electron';
import type Conf from 'conf';
import type { Preferences } from '../app/host/preferences.js';
import type { TunnelBoard } from '../app/host/tunnelBoard.js';
import type { TunnelClient } from '../app/shared/contract.js';
import { trayIcon } from './icon.js';

export interface TrayActions {
  showWindow(): void;
  quit(): void;
  report(err: unknown): void;
}

export function createTray(board: TunnelBoard, client: TunnelClient, prefs: Conf<Preferences>, actions: TrayActions): Tray {
  const tray = new Tray(trayIcon());
  const toggle = (key: 'closeToTray' | 'startAtLogin') => () => prefs.set(key, !prefs.get(key));
  const rebuild = () => {
    const items = board.items();
    const open = items.filter((i) => i.state === 'open').length;
    tray.setToolTip(`Tunnelvision — ${open} of ${items.length} open`);
    const notifications = prefs.get('notifications');
    const template: MenuItemConstructorOptions[] = [
      ...items.map(
        (item): MenuItemConstructorOptions => ({
          label: item.label,
          type: 'checkbox',
          checked: item.running,
          click: () => void (item.running ? client.stop(item.profileId) : client.start(item.profileId)).catch(actions.report),
        }),
      ),
      ...(items.length ? [{ type: 'separator' as const }] : []),
      { label: 'Open Tunnelvision', click: actions.showWindow },
      { type: 'separator' },
      { label: 'Keep tunnels running when the window closes', type: 'checkbox', checked: prefs.get('closeToTray'), click: toggle('closeToTray') },
      { label: 'Start at login', type: 'checkbox', checked: prefs.get('startAtLogin'), click: toggle('startAtLogin') },
      { label: 'Notify when a tunnel drops or recovers', type: 'checkbox', checked: notifications.drop, click: () => prefs.set('notifications', { ...notifications, drop: !notifications.drop, recover: !notifications.drop }) },
      { label: 'Notify when a tunnel fails', type: 'checkbox', checked: notifications.fail, click: () => prefs.set('notifications', { ...notifications, fail: !notifications.fail }) },
      { type: 'separator' },
      { label: 'Quit (closes every tunnel)', click: actions.quit },
    ];
    tray.setContextMenu(Menu.buildFromTemplate(template));
  };
  board.on('changed', rebuild);
  prefs.onDidAnyChange(rebuild);
  tray.on('click', actions.showWindow);
  rebuild();
  return tray;
}
