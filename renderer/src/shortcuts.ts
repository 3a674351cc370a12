// Window-wide keys: Ctrl/Cmd+N new tunnel, / or Ctrl/Cmd+F search, Space/Enter toggle the selected
// tunnel when no control has the focus. None fire while a dialog is open or while typing.
import { useEffect, useRef } from 'react';

export interface ShortcutHandlers {
  onNew(): void;
  onSearch(): void;
  onToggle(): void;
}

function typing(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));
}

export function useShortcuts(handlers: ShortcutHandlers): void {
  const latest = useRef(handlers);
  latest.current = handlers;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || document.querySelector('dialog[open]')) return;
      const mod = e.ctrlKey || e.metaKey;
      const key = e.key.toLowerCase();
      if (mod && key === 'n') {
        e.preventDefault();
        latest.current.onNew();
      } else if ((mod && key === 'f') || (e.key === '/' && !mod && !typing(e.target))) {
        e.preventDefault();
        latest.current.onSearch();
      } else if ((e.key === ' ' || e.key === 'Enter') && !mod && (e.target === document.body || e.target === document.documentElement)) {
        e.preventDefault();
        latest.current.onToggle();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);
}
