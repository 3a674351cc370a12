// Short notices at the bottom of the window: copied, saved, deleted (with Undo), and errors.
import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from 'react';

export interface ToastInput {
  text: string;
  tone?: 'info' | 'error';
  action?: { label: string; run: () => void };
}

interface Toast extends ToastInput {
  id: number;
}

type Notify = (toast: ToastInput) => void;

const ToastContext = createContext<Notify>(() => {});

export const useToast = (): Notify => useContext(ToastContext);

/** Long enough to reach for Undo; errors stay until dismissed. */
const SHOW_MS = 8_000;

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const next = useRef(1);
  const dismiss = useCallback((id: number) => setToasts((all) => all.filter((t) => t.id !== id)), []);
  const notify = useCallback<Notify>(
    (toast) => {
      const id = next.current++;
      setToasts((all) => [...all.slice(-3), { ...toast, id }]);
      if (toast.tone !== 'error') setTimeout(() => dismiss(id), SHOW_MS);
    },
    [dismiss],
  );
  const value = useMemo(() => notify, [notify]);
  return (
    <ToastContext.Provider value={value}>
      {children}
      <div className="toasts" role="status" aria-live="polite">
        {toasts.map((t) => (
          <div key={t.id} className={`toast toast-${t.tone ?? 'info'}`}>
            <span className="toast-text">{t.text}</span>
            {t.action && (
              <button
                type="button"
                onClick={() => {
                  dismiss(t.id);
                  t.action!.run();
                }}
              >
                {t.action.label}
              </button>
            )}
            <button type="button" className="icon" aria-label="Dismiss notice" onClick={() => dismiss(t.id)}>
              ×
            </button>
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
