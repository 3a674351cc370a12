// The import review: before anything is saved, every incoming profile with what saving it does
// (added, updates a saved one, unchanged) and each field that changes what it trusts, reads,
// exposes or starts. Warnings are marked in words as well as colour. Import saves; Cancel saves nothing.
import { useEffect, useRef, useState } from 'react';
import type { ImportReviewData } from '../../../app/shared/contract.js';

interface Props {
  /** Where the profiles come from, for the heading: "profiles.json", "~/.ssh/config". */
  source: string;
  review: ImportReviewData;
  onImport(): Promise<void>;
  onCancel(): void;
}

const ACTION_TEXT = { add: 'New', update: 'Replaces a saved profile', unchanged: 'Unchanged' } as const;

export function ImportReview({ source, review, onImport, onCancel }: Props) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string>();

  useEffect(() => {
    const el = dialog.current;
    if (el && !el.open) el.showModal();
    return () => el?.close();
  }, []);

  const changes = review.entries.filter((e) => e.action !== 'unchanged').length;
  const warnings = review.entries.reduce((n, e) => n + e.findings.filter((f) => f.level === 'warning').length, 0);

  const confirm = async () => {
    setBusy(true);
    setFailure(undefined);
    try {
      await onImport();
    } catch (err) {
      setFailure(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  };

  return (
    <dialog
      ref={dialog}
      className="prompt import-dialog"
      aria-labelledby="review-title"
      aria-describedby="review-summary"
      onCancel={(e) => {
        e.preventDefault();
        onCancel();
      }}
    >
      <div className="prompt-body">
        <h2 id="review-title">Review import</h2>
        <p id="review-summary" className="muted">
          From {source}: {review.entries.length} profile{review.entries.length === 1 ? '' : 's'}, {changes} to save
          {warnings > 0 ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}. Nothing is saved until you choose Import. Imported profiles never bring saved passwords
          and never start by themselves.
        </p>
        <ul className="review-list" aria-label="Incoming profiles">
          {review.entries.map((entry) => (
            <li key={entry.id} className="review-entry">
              <div className="review-head">
                <strong>{entry.name}</strong> {entry.id !== entry.name && <code className="muted">{entry.id}</code>}
                <span className={`review-action action-${entry.action}`}>{ACTION_TEXT[entry.action]}</span>
              </div>
              <div className="review-destination">{entry.destination}</div>
              {entry.findings.length > 0 && (
                <ul className="findings" aria-label={`What ${entry.name} changes`}>
                  {entry.findings.map((f) => (
                    <li key={`${f.kind}:${f.field}`} className={`finding finding-${f.level}`}>
                      <span className="finding-level">{f.level === 'warning' ? 'Warning' : 'Note'}</span>
                      <span>
                        <code>{f.field}</code> {f.message}
                      </span>
                    </li>
                  ))}
                </ul>
              )}
            </li>
          ))}
        </ul>
        {review.entries.length === 0 && <p>There is nothing to import.</p>}
        {review.skipped.length > 0 && (
          <section className="import-report" aria-label="Not imported">
            <strong>Not imported</strong>
            <ul className="skipped">
              {review.skipped.map((s) => (
                <li key={s.entry}>
                  <strong>{s.entry}</strong>: {s.reason}
                </li>
              ))}
            </ul>
          </section>
        )}
        {review.notes.map((n) => (
          <p key={n} className="warning-box">
            {n}
          </p>
        ))}
        {failure && (
          <p className="field-error" role="alert">
            {failure}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
          <button type="button" className="primary" disabled={busy || changes === 0} onClick={() => void confirm()}>
            {busy ? 'Importing…' : 'Import'}
          </button>
        </div>
      </div>
    </dialog>
  );
}
