// Create or edit a profile. The form is checked by the profile schema itself: each message sits
// next to the field it is about, and the engine checks the same way again when it saves.
import { useState } from 'react';
import { Field, inputId } from './Field.js';
import type { Profile, SshProfile } from '../../../app/profiles/schema.js';
import { parseJumpSpec } from '../../../app/profiles/forwardSpec.js';
import {
  bindWarning,
  checkDraft,
  emptyDraft,
  emptyEndpoint,
  emptyForward,
  forwardDraft,
  profileDraft,
  type AuthMethod,
  type EndpointDraft,
  type FieldErrors,
  type ForwardDraft,
  type ProfileDraft,
} from './draft.js';
import { EditorFoot, FormProblems, ProfileFieldset, useEditorForm, type SaveResult } from './editorForm.js';
import { parsePastedForwards } from './paste.js';

interface Props {
  base: SshProfile | undefined;
  taken: ReadonlySet<string>;
  onSave(profile: Profile): Promise<SaveResult>;
  onCancel(): void;
}

const AUTH_METHODS: Array<[AuthMethod, string]> = [
  ['auto', 'Automatic (agent, keys, then password)'],
  ['agent', 'SSH agent only'],
  ['key', 'Key files'],
  ['password', 'Password'],
  ['keyboard-interactive', 'Keyboard-interactive'],
];

const STRICT: Array<[ProfileDraft['strict'], string]> = [
  ['ask', 'Ask me about hosts I have not seen'],
  ['yes', 'Only hosts already in known_hosts'],
  ['accept-new', 'Trust new hosts on first use'],
  ['no', 'Accept new hosts silently'],
];

const FORWARD_TYPES: Array<[ForwardDraft['type'], string]> = [
  ['local', 'Local (-L)'],
  ['remote', 'Remote (-R)'],
  ['dynamic', 'SOCKS (-D)'],
];

/** Fields the form has an input for; errors on anything else are listed at the top. */
const SHOWN =
  /^(name|group|tags|server\.(host|port|user|auth\.keyFiles)|jumps\[\d+\]\.(host|port|user|auth\.keyFiles)|forwards(\[\d+\]\.(bindHost|bindPort|targetHost|targetPort))?|hostKey\.knownHostsFiles|keepalive\.(intervalSeconds|countMax)|reconnect\.(initialDelaySeconds|maxDelaySeconds)|connectTimeoutSeconds|client\.(user|database|forwardIndex))$/;

function EndpointFields({ prefix, value, errors, onChange }: { prefix: string; value: EndpointDraft; errors: FieldErrors; onChange(e: EndpointDraft): void }) {
  const set = (patch: Partial<EndpointDraft>) => onChange({ ...value, ...patch });
  const keys = value.authMethod === 'key' || (value.authMethod === 'auto' && prefix === 'server');
  return (
    <div className="grid endpoint-grid">
      <Field path={`${prefix}.host`} label="Host" errors={errors} className="wide">
        {(p) => <input {...p} value={value.host} onChange={(e) => set({ host: e.target.value })} spellCheck={false} placeholder="bastion.example.com" />}
      </Field>
      <Field path={`${prefix}.port`} label="Port" errors={errors} className="narrow">
        {(p) => <input {...p} value={value.port} onChange={(e) => set({ port: e.target.value })} inputMode="numeric" placeholder="22" />}
      </Field>
      <Field path={`${prefix}.user`} label="User" errors={errors}>
        {(p) => <input {...p} value={value.user} onChange={(e) => set({ user: e.target.value })} spellCheck={false} placeholder="your login name" />}
      </Field>
      <Field path={`${prefix}.auth`} label="Authentication" errors={errors}>
        {(p) => (
          <select {...p} value={value.authMethod} onChange={(e) => set({ authMethod: e.target.value as AuthMethod })}>
            {AUTH_METHODS.map(([m, text]) => (
              <option key={m} value={m}>
                {text}
              </option>
            ))}
          </select>
        )}
      </Field>
      {keys && (
        <Field path={`${prefix}.auth.keyFiles`} label="Key files" errors={errors} className="full" hint={value.authMethod === 'auto' ? 'One path per line; ~/.ssh/id_* are tried anyway.' : 'One path per line.'}>
          {(p) => <textarea {...p} rows={2} value={value.keyFiles} onChange={(e) => set({ keyFiles: e.target.value })} spellCheck={false} placeholder="~/.ssh/id_ed25519" />}
        </Field>
      )}
    </div>
  );
}

function ForwardRow({ index, value, errors, onChange, onRemove }: { index: number; value: ForwardDraft; errors: FieldErrors; onChange(f: ForwardDraft): void; onRemove(): void }) {
  const set = (patch: Partial<ForwardDraft>) => onChange({ ...value, ...patch });
  const path = `forwards[${index}]`;
  const n = index + 1;
  const remote = value.type === 'remote';
  return (
    <li className="forward-row">
      <div className="forward-head">
        <label className="field-label" htmlFor={inputId(`${path}.type`)}>
          Forward {n}
        </label>
        <select id={inputId(`${path}.type`)} value={value.type} onChange={(e) => set({ type: e.target.value as ForwardDraft['type'] })}>
          {FORWARD_TYPES.map(([t, text]) => (
            <option key={t} value={t}>
              {text}
            </option>
          ))}
        </select>
        <button type="button" className="icon" aria-label={`Remove forward ${n}`} onClick={onRemove}>
          ×
        </button>
      </div>
      <div className="grid forward-grid">
        <Field path={`${path}.bindHost`} label={remote ? 'Server bind address' : 'Listen on'} errors={errors} warning={bindWarning(value)}>
          {(p) => <input {...p} value={value.bindHost} onChange={(e) => set({ bindHost: e.target.value })} spellCheck={false} />}
        </Field>
        <Field path={`${path}.bindPort`} label={remote ? 'Server port' : 'Local port'} errors={errors} className="narrow">
          {(p) => <input {...p} value={value.bindPort} onChange={(e) => set({ bindPort: e.target.value })} inputMode="numeric" />}
        </Field>
        {value.type !== 'dynamic' && (
          <>
            <Field path={`${path}.targetHost`} label={remote ? 'Local target host' : 'Target host'} errors={errors}>
              {(p) => <input {...p} value={value.targetHost} onChange={(e) => set({ targetHost: e.target.value })} spellCheck={false} placeholder={remote ? 'localhost' : 'db.internal'} />}
            </Field>
            <Field path={`${path}.targetPort`} label="Target port" errors={errors} className="narrow">
              {(p) => <input {...p} value={value.targetPort} onChange={(e) => set({ targetPort: e.target.value })} inputMode="numeric" />}
            </Field>
          </>
        )}
      </div>
    </li>
  );
}

function forwardName(f: ForwardDraft, i: number): string {
  const flag = { local: '-L', remote: '-R', dynamic: '-D' }[f.type];
  return `${i + 1}: ${flag} ${f.bindPort || '?'}${f.type === 'dynamic' ? '' : `:${f.targetHost || '?'}:${f.targetPort || '?'}`}`;
}

export function ProfileEditor({ base, taken, onSave, onCancel }: Props) {
  const { draft, set, update, errors, saving, submit, form } = useEditorForm({ initial: () => (base ? profileDraft(base) : emptyDraft()), base, taken, check: checkDraft, onSave });
  const [paste, setPaste] = useState('');
  const [pasteError, setPasteError] = useState<string>();
  const [jumpPaste, setJumpPaste] = useState('');
  const [jumpError, setJumpError] = useState<string>();

  const addPasted = () => {
    const parsed = parsePastedForwards(paste);
    if (!parsed.ok) return setPasteError(parsed.message);
    setPasteError(undefined);
    setPaste('');
    // A blank first row is a placeholder, not a forward someone wants to keep.
    update((d) => ({ ...d, forwards: [...d.forwards.filter((f) => f.bindPort || f.targetHost || f.targetPort), ...parsed.forwards.map(forwardDraft)] }));
  };

  const addJumps = () => {
    const parsed = parseJumpSpec(jumpPaste);
    if (!parsed.ok) return setJumpError(parsed.errors.map((x) => x.message).join('; '));
    setJumpError(undefined);
    setJumpPaste('');
    update((d) => ({ ...d, jumps: [...d.jumps, ...parsed.value.map((j) => ({ ...emptyEndpoint(), host: j.host, port: j.port ? String(j.port) : '', user: j.user ?? '' }))] }));
  };

  return (
    <form className="editor" ref={form} onSubmit={submit} noValidate aria-labelledby="editor-title">
      <header className="editor-head">
        <h2 id="editor-title">{base ? `Edit ${base.name}` : 'New tunnel'}</h2>
      </header>
      <div className="editor-body">
        <FormProblems errors={errors} shown={SHOWN} />

        <ProfileFieldset draft={draft} errors={errors} set={set} namePlaceholder="Production database" />

        <fieldset>
          <legend>SSH server</legend>
          <EndpointFields prefix="server" value={draft.server} errors={errors} onChange={(server) => set('server', server)} />
        </fieldset>

        <fieldset>
          <legend>Forwards</legend>
          {errors.forwards && <p className="field-error">{errors.forwards.join('; ')}</p>}
          <ol className="forward-rows">
            {draft.forwards.map((f, i) => (
              <ForwardRow
                key={f.key}
                index={i}
                value={f}
                errors={errors}
                onChange={(next) => update((d) => ({ ...d, forwards: d.forwards.map((x, j) => (j === i ? next : x)) }))}
                onRemove={() => update((d) => ({ ...d, forwards: d.forwards.filter((_, j) => j !== i) }))}
              />
            ))}
          </ol>
          <div className="row-actions">
            <button type="button" onClick={() => update((d) => ({ ...d, forwards: [...d.forwards, emptyForward()] }))}>
              Add forward
            </button>
          </div>
          <div className="paste">
            <label className="field-label" htmlFor="paste-forwards">
              Or paste ssh flags
            </label>
            <div className="paste-row">
              <input
                id="paste-forwards"
                value={paste}
                spellCheck={false}
                placeholder="-L 13306:db.internal:3306"
                aria-invalid={Boolean(pasteError)}
                aria-describedby={pasteError ? 'paste-forwards-error' : undefined}
                onChange={(e) => setPaste(e.target.value)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter') {
                    e.preventDefault();
                    addPasted();
                  }
                }}
              />
              <button type="button" onClick={addPasted}>
                Add from flags
              </button>
            </div>
            {pasteError && (
              <span className="field-error" id="paste-forwards-error">
                {pasteError}
              </span>
            )}
          </div>
        </fieldset>

        <fieldset>
          <legend>Jump hosts</legend>
          {draft.jumps.length === 0 && <p className="muted">None: the SSH server is reached directly.</p>}
          <ol className="jump-rows">
            {draft.jumps.map((j, i) => (
              <li key={j.key} className="jump-row">
                <div className="forward-head">
                  <span className="field-label">Jump host {i + 1}</span>
                  <button type="button" className="icon" aria-label={`Move jump host ${i + 1} up`} disabled={i === 0} onClick={() => update((d) => ({ ...d, jumps: swap(d.jumps, i, i - 1) }))}>
                    ↑
                  </button>
                  <button type="button" className="icon" aria-label={`Remove jump host ${i + 1}`} onClick={() => update((d) => ({ ...d, jumps: d.jumps.filter((_, k) => k !== i) }))}>
                    ×
                  </button>
                </div>
                <EndpointFields prefix={`jumps[${i}]`} value={j} errors={errors} onChange={(next) => update((d) => ({ ...d, jumps: d.jumps.map((x, k) => (k === i ? next : x)) }))} />
              </li>
            ))}
          </ol>
          <div className="paste">
            <label className="field-label" htmlFor="paste-jumps">
              Add jump hosts, first hop first (like ssh -J)
            </label>
            <div className="paste-row">
              <input id="paste-jumps" value={jumpPaste} spellCheck={false} placeholder="ops@jump1,jump2:2222" aria-invalid={Boolean(jumpError)} aria-describedby={jumpError ? 'paste-jumps-error' : undefined} onChange={(e) => setJumpPaste(e.target.value)} />
              <button type="button" onClick={addJumps}>
                Add jump hosts
              </button>
            </div>
            {jumpError && (
              <span className="field-error" id="paste-jumps-error">
                {jumpError}
              </span>
            )}
          </div>
        </fieldset>

        <fieldset>
          <legend>Host keys</legend>
          <div className="grid">
            <Field path="hostKey.strict" label="New hosts" errors={errors} className="wide" hint="A changed key is always refused.">
              {(p) => (
                <select {...p} value={draft.strict} onChange={(e) => set('strict', e.target.value as ProfileDraft['strict'])}>
                  {STRICT.map(([v, text]) => (
                    <option key={v} value={v}>
                      {text}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <Field path="hostKey.knownHostsFiles" label="known_hosts files" errors={errors} className="full" hint="One per line; empty: ~/.ssh/known_hosts.">
              {(p) => <textarea {...p} rows={1} value={draft.knownHostsFiles} onChange={(e) => set('knownHostsFiles', e.target.value)} spellCheck={false} />}
            </Field>
          </div>
        </fieldset>

        <fieldset>
          <legend>Staying connected</legend>
          <div className="grid">
            <Field path="keepalive.intervalSeconds" label="Keepalive every (s)" errors={errors} hint="0 turns keepalives off.">
              {(p) => <input {...p} value={draft.keepaliveInterval} onChange={(e) => set('keepaliveInterval', e.target.value)} inputMode="decimal" />}
            </Field>
            <Field path="keepalive.countMax" label="Missed keepalives allowed" errors={errors}>
              {(p) => <input {...p} value={draft.keepaliveCountMax} onChange={(e) => set('keepaliveCountMax', e.target.value)} inputMode="numeric" />}
            </Field>
            <Field path="connectTimeoutSeconds" label="Connect timeout (s)" errors={errors}>
              {(p) => <input {...p} value={draft.connectTimeout} onChange={(e) => set('connectTimeout', e.target.value)} inputMode="decimal" />}
            </Field>
          </div>
          <label className="check">
            <input type="checkbox" checked={draft.reconnectEnabled} onChange={(e) => set('reconnectEnabled', e.target.checked)} />
            Reconnect when the connection drops
          </label>
          {draft.reconnectEnabled && (
            <div className="grid">
              <Field path="reconnect.initialDelaySeconds" label="First retry after (s)" errors={errors}>
                {(p) => <input {...p} value={draft.reconnectInitial} onChange={(e) => set('reconnectInitial', e.target.value)} inputMode="decimal" />}
              </Field>
              <Field path="reconnect.maxDelaySeconds" label="Longest wait (s)" errors={errors}>
                {(p) => <input {...p} value={draft.reconnectMax} onChange={(e) => set('reconnectMax', e.target.value)} inputMode="decimal" />}
              </Field>
            </div>
          )}
        </fieldset>

        <fieldset>
          <legend>Client</legend>
          <div className="grid">
            <Field path="client.kind" label="What listens at the target" errors={errors}>
              {(p) => (
                <select {...p} value={draft.clientKind} onChange={(e) => set('clientKind', e.target.value as ProfileDraft['clientKind'])}>
                  <option value="">Nothing in particular</option>
                  <option value="mysql">MySQL / MariaDB</option>
                  <option value="postgres">PostgreSQL</option>
                  <option value="redis">Redis</option>
                  <option value="http">Web (HTTP)</option>
                </select>
              )}
            </Field>
            {draft.clientKind && (
              <>
                <Field path="client.user" label={draft.clientKind === 'http' ? 'User (unused)' : 'Database user'} errors={errors}>
                  {(p) => <input {...p} value={draft.clientUser} onChange={(e) => set('clientUser', e.target.value)} spellCheck={false} />}
                </Field>
                <Field path="client.database" label={draft.clientKind === 'http' ? 'Path' : draft.clientKind === 'redis' ? 'Database number' : 'Database'} errors={errors}>
                  {(p) => <input {...p} value={draft.clientDatabase} onChange={(e) => set('clientDatabase', e.target.value)} spellCheck={false} />}
                </Field>
                <Field path="client.forwardIndex" label="Through forward" errors={errors}>
                  {(p) => (
                    <select {...p} value={draft.clientForward} onChange={(e) => set('clientForward', e.target.value)}>
                      <option value="">The first local forward</option>
                      {draft.forwards.map((f, i) => (
                        <option key={f.key} value={String(i)}>
                          {forwardName(f, i)}
                        </option>
                      ))}
                    </select>
                  )}
                </Field>
              </>
            )}
          </div>
        </fieldset>
      </div>
      <EditorFoot saving={saving} onCancel={onCancel} />
    </form>
  );
}

function swap<T>(items: readonly T[], a: number, b: number): T[] {
  const out = [...items];
  [out[a], out[b]] = [out[b]!, out[a]!];
  return out;
}
