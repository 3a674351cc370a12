// A labelled form field with its messages: the schema's errors for its path, a warning, a hint,
// each tied to the input with aria-describedby.
import type { ReactNode } from 'react';
import type { FieldErrors } from './draft.js';

export const inputId = (path: string) => `field-${path.replace(/[^A-Za-z0-9]+/g, '-')}`;

interface FieldProps {
  path: string;
  label: string;
  errors: FieldErrors;
  hint?: string;
  warning?: string;
  className?: string;
  children(props: { id: string; 'aria-invalid': boolean; 'aria-describedby': string | undefined }): ReactNode;
}

export function Field({ path, label, errors, hint, warning, className, children }: FieldProps) {
  const id = inputId(path);
  const messages = errors[path] ?? [];
  const notes = [messages.length ? `${id}-error` : '', warning ? `${id}-warning` : '', hint ? `${id}-hint` : ''].filter(Boolean).join(' ');
  return (
    <div className={`field${messages.length ? ' invalid' : ''}${className ? ` ${className}` : ''}`}>
      <label className="field-label" htmlFor={id}>
        {label}
      </label>
      {children({ id, 'aria-invalid': messages.length > 0, 'aria-describedby': notes || undefined })}
      {messages.length > 0 && (
        <span className="field-error" id={`${id}-error`}>
          {messages.join('; ')}
        </span>
      )}
      {warning && (
        <span className="field-warning" id={`${id}-warning`}>
          {warning}
        </span>
      )}
      {hint && (
        <span className="field-hint" id={`${id}-hint`}>
          {hint}
        </span>
      )}
    </div>
  );
}

