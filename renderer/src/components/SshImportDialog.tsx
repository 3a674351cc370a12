// "Import from ~/.ssh/config": the engine reads the file (this window cannot), saves a profile for
// every Host with forwards, and says what it did with each: added, updated, unchanged, or skipped
// with the reason (no forwards, ProxyCommand, a bad value…).
import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { MethodResult } from '../../../app/shared/contract.js';

type Result = MethodResult<'importSshConfig'>;

interface Props {
  open: boolean;
  onImport(path: string | undefined): Promise<Result>;
  onClose(): void;
}

export const DEFAULT_SSH_CONFIG = '~/.ssh/config';

export function SshImportDialog({ open, onImport, onClose }: Props) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [path, setPath] = useState(DEFAULT_SSH_CONFIG);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<Result>();
  const [failure, setFailure] = useState<string>();

  useEffect(() => {
    const el = dialog.current;
    if (!el) return;
    if (open && !el.open) {
      setResult(undefined);
      setFailure(undefined);
      el.showModal();
    }
    if (!open && el.open) el.close();
  }, [open]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setFailure(undefined);
    try {
      const trimmed = path.trim();
      setResult(await onImport(trimmed === '' || trimmed === DEFAULT_SSH_CONFIG ? undefined : trimmed));
    } catch (err) {
      setFailure(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  const report = result?.ok ? result.report : undefined;
  return (
    <dialog
      ref={dialog}
      className="prompt import-dialog"
      aria-labelledby="import-title"
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <form className="prompt-body" onSubmit={submit}>
        <h2 id="import-title">Import from ~/.ssh/config</h2>
        <p className="muted">Every Host with LocalForward, RemoteForward or DynamicForward becomes a tunnel; one already saved under the same id is updated.</p>
        <div className="field">
          <label className="field-label" htmlFor="ssh-config-path">
            ssh config file
          </label>
          <input id="ssh-config-path" value={path} spellCheck={false} onChange={(e) => setPath(e.target.value)} />
        </div>
        {(failure ?? (result && !result.ok ? result.error : undefined)) && (
          <p className="field-error" role="alert">
            {failure ?? (result && !result.ok ? result.error : '')}
          </p>
        )}
        {report && result?.ok && (
          <section className="import-report" aria-label="Import report" role="status">
            <p>
              Read <code>{result.path}</code>: {report.added.length} added, {report.updated.length} updated, {report.unchanged.length} unchanged, {report.skipped.length} skipped.
            </p>
            <dl>
              {(
                [
                  ['Added', report.added],
                  ['Updated', report.updated],
                  ['Unchanged', report.unchanged],
                ] as const
              ).map(([label, ids]) =>
                ids.length > 0 ? (
                  <div key={label} className="report-row">
                    <dt>{label}</dt>
                    <dd>{ids.join(', ')}</dd>
                  </div>
                ) : null,
              )}
              {report.skipped.length > 0 && (
                <div className="report-row">
                  <dt>Skipped</dt>
                  <dd>
                    <ul className="skipped">
                      {report.skipped.map((s) => (
                        <li key={s.entry}>
                          <strong>{s.entry}</strong>: {s.reason}
                        </li>
                      ))}
                    </ul>
                  </dd>
                </div>
              )}
            </dl>
          </section>
        )}
        <div className="dialog-actions">
          <button type="button" onClick={onClose}>
            {report ? 'Close' : 'Cancel'}
          </button>
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Importing…' : report ? 'Import again' : 'Import'}
          </button>
        </div>
      </form>
    </dialog>
  );
}
