// The engine's questions as modal dialogs. The native <dialog> traps focus and gives Escape, which
// cancels (answer null) exactly like the Cancel or Reject button.
import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { PromptAnswer, PromptRequest } from '../../../app/shared/contract.js';

interface Props {
  request: PromptRequest | undefined;
  profileName(id: string): string;
  onAnswer(id: string, answer: PromptAnswer): void;
}

export function PromptDialog({ request, profileName, onAnswer }: Props) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const el = dialog.current;
    if (!el) return;
    if (request && !el.open) el.showModal();
    if (!request && el.open) el.close();
  }, [request]);

  return (
    <dialog
      ref={dialog}
      className="prompt"
      aria-labelledby="prompt-title"
      aria-describedby="prompt-desc"
      onCancel={(e) => {
        e.preventDefault();
        if (request) onAnswer(request.id, null);
      }}
    >
      {request && <PromptBody key={request.id} request={request} profile={profileName(request.profileId)} onAnswer={(a) => onAnswer(request.id, a)} />}
    </dialog>
  );
}

function PromptBody({ request, profile, onAnswer }: { request: PromptRequest; profile: string; onAnswer(answer: PromptAnswer): void }) {
  if (request.kind === 'hostKey') return <HostKeyPrompt request={request} profile={profile} onAnswer={onAnswer} />;
  return <TextPrompt request={request} profile={profile} onAnswer={onAnswer} />;
}

function HostKeyPrompt({ request, profile, onAnswer }: { request: Extract<PromptRequest, { kind: 'hostKey' }>; profile: string; onAnswer(a: boolean | null): void }) {
  const otherType = request.otherTypes.length > 0;
  return (
    <div className="prompt-body">
      <h2 id="prompt-title">{otherType ? 'Host key of a different type' : 'Unknown host key'}</h2>
      <div id="prompt-desc">
        <p>
          <strong>{request.hop}</strong> ({profile}) is not in your known hosts{otherType ? ' with this key type' : ''}. Check the fingerprint with the
          server&apos;s administrator before you trust it.
        </p>
        {otherType && (
          <p className="warning-text" role="note">
            This host is known by another key type ({request.otherTypes.join(', ')}). A server that suddenly shows a new key type can be an
            impostor.
          </p>
        )}
      </div>
      <dl className="fingerprint">
        <dt>Key type</dt>
        <dd>
          <code>{request.keyType}</code>
        </dd>
        <dt>Fingerprint</dt>
        <dd>
          <code>{request.fingerprint}</code>
        </dd>
      </dl>
      <div className="dialog-actions">
        {/* Rejecting is the safe choice, so it has the focus. */}
        <button type="button" autoFocus onClick={() => onAnswer(false)}>
          Reject
        </button>
        <button type="button" className="primary" onClick={() => onAnswer(true)}>
          Trust and connect
        </button>
      </div>
    </div>
  );
}

type TextRequest = Exclude<PromptRequest, { kind: 'hostKey' }>;

function fieldsOf(request: TextRequest): Array<{ label: string; secret: boolean }> {
  if (request.kind === 'keyboardInteractive') return request.prompts.map((p) => ({ label: p.prompt.trim() || 'Response', secret: !p.echo }));
  return [{ label: request.kind === 'passphrase' ? 'Passphrase' : 'Password', secret: true }];
}

function heading(request: TextRequest): string {
  if (request.kind === 'passphrase') return 'Key passphrase';
  if (request.kind === 'password') return `Password for ${request.user}`;
  return request.name.trim() || 'The server asks';
}

function TextPrompt({ request, profile, onAnswer }: { request: TextRequest; profile: string; onAnswer(a: string | string[] | null): void }) {
  const fields = fieldsOf(request);
  const [values, setValues] = useState(() => fields.map(() => ''));
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const answer = request.kind === 'keyboardInteractive' ? values : values[0]!;
    // Keep no copy of a secret in the page once it is sent: a detached input can outlive the dialog,
    // holding its value attribute and React's value tracker (whose setter this assignment updates).
    for (const input of e.currentTarget.querySelectorAll('input')) {
      input.value = '';
      input.defaultValue = '';
    }
    setValues(fields.map(() => ''));
    onAnswer(answer);
  };
  const retry = request.kind !== 'keyboardInteractive' && request.retry;
  return (
    <form className="prompt-body" onSubmit={submit}>
      <h2 id="prompt-title">{heading(request)}</h2>
      <div id="prompt-desc">
        {retry && (
          <p className="error-text" role="alert">
            That did not work. Try again.
          </p>
        )}
        <p>
          {request.kind === 'passphrase' ? (
            <>
              To unlock <code>{request.keyFile}</code> for <strong>{request.hop}</strong> ({profile}).
            </>
          ) : (
            <>
              <strong>{request.hop}</strong> ({profile}) asks{request.kind === 'keyboardInteractive' && request.instructions ? `: ${request.instructions}` : '.'}
            </>
          )}
        </p>
      </div>
      {fields.map((f, i) => (
        <label key={i} className="field">
          <span className="field-label">{f.label}</span>
          <input
            type={f.secret ? 'password' : 'text'}
            autoComplete="off"
            autoFocus={i === 0}
            value={values[i]}
            onChange={(e) => setValues((all) => all.map((v, j) => (j === i ? e.target.value : v)))}
          />
        </label>
      ))}
      <div className="dialog-actions">
        <button type="button" onClick={() => onAnswer(null)}>
          Cancel
        </button>
        <button type="submit" className="primary">
          {request.kind === 'passphrase' ? 'Unlock' : 'Send'}
        </button>
      </div>
    </form>
  );
}
