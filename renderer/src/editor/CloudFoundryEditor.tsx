// Create or edit a Cloud Foundry tunnel (what `cf ssh APP -L PORT:HOST:PORT -N` does): where the
// foundation is, which app instance's container dials the service, and how to log in. Checked by
// the profile schema as the person types once a save was tried; the engine checks again on save.
import type { CloudFoundryProfile, Profile } from '../../../app/profiles/schema.js';
import { PLAIN_HTTP_WARNING, SKIP_TLS_WARNING, cfBindWarning, cfDraft, checkCfDraft, emptyCfDraft, type CfDraft } from './cfDraft.js';
import { EditorFoot, FormProblems, ProfileFieldset, useEditorForm, type SaveResult } from './editorForm.js';
import { Field } from './Field.js';

interface Props {
  base: CloudFoundryProfile | undefined;
  taken: ReadonlySet<string>;
  onSave(profile: Profile): Promise<SaveResult>;
  onCancel(): void;
}

/** Fields the form has an input for; errors on anything else are listed at the top. */
const SHOWN = /^(name|group|tags|api|org|space|app|instance|service|target\.(host|port)|local\.(bindHost|bindPort)|login\.(username|cfHome)|connectTimeoutSeconds)$/;

export function CloudFoundryEditor({ base, taken, onSave, onCancel }: Props) {
  const { draft, set, errors, saving, submit, form } = useEditorForm({ initial: () => (base ? cfDraft(base) : emptyCfDraft()), base, taken, check: checkCfDraft, onSave });
  const text = (key: keyof CfDraft) => (p: { id: string; 'aria-invalid': boolean; 'aria-describedby': string | undefined }) => (
    <input {...p} value={draft[key] as string} onChange={(e) => set(key, e.target.value as never)} spellCheck={false} />
  );

  return (
    <form className="editor" ref={form} onSubmit={submit} noValidate aria-labelledby="editor-title">
      <header className="editor-head">
        <h2 id="editor-title">{base ? `Edit ${base.name}` : 'New Cloud Foundry tunnel'}</h2>
        <p className="muted small">Reach a service that only your app&apos;s containers can reach, like <code>cf ssh APP -L 13306:DBHOST:3306 -N</code>, without the cf CLI.</p>
      </header>
      <div className="editor-body">
        <FormProblems errors={errors} shown={SHOWN} />

        <ProfileFieldset draft={draft} errors={errors} set={set} namePlaceholder="Orders database" />

        <fieldset>
          <legend>Foundation</legend>
          <div className="grid">
            <Field path="api" label="API endpoint" errors={errors} className="full">
              {(p) => <input {...p} value={draft.api} onChange={(e) => set('api', e.target.value)} spellCheck={false} placeholder="https://api.sys.example.com" inputMode="url" />}
            </Field>
            <Field path="org" label="Org" errors={errors}>
              {text('org')}
            </Field>
            <Field path="space" label="Space" errors={errors}>
              {text('space')}
            </Field>
            <Field path="app" label="App" errors={errors}>
              {text('app')}
            </Field>
            <Field path="instance" label="Instance" errors={errors} hint="The app instance whose container dials the service.">
              {(p) => <input {...p} value={draft.instance} onChange={(e) => set('instance', e.target.value)} inputMode="numeric" />}
            </Field>
          </div>
          <label className="check">
            <input type="checkbox" checked={draft.skipSslValidation} onChange={(e) => set('skipSslValidation', e.target.checked)} aria-describedby={draft.skipSslValidation ? 'skip-tls-warning' : undefined} />
            Skip TLS certificate verification (lab foundations only)
          </label>
          {draft.skipSslValidation && (
            <p className="warning-box" id="skip-tls-warning" role="note">
              {SKIP_TLS_WARNING}
            </p>
          )}
          <label className="check">
            <input type="checkbox" checked={draft.allowInsecureHttp} onChange={(e) => set('allowInsecureHttp', e.target.checked)} aria-describedby={draft.allowInsecureHttp ? 'plain-http-warning' : undefined} />
            Allow plain http (lab foundations without TLS only)
          </label>
          {draft.allowInsecureHttp && (
            <p className="warning-box" id="plain-http-warning" role="note">
              {PLAIN_HTTP_WARNING}
            </p>
          )}
        </fieldset>

        <fieldset>
          <legend>Service to reach</legend>
          <div className="radio-row" role="radiogroup" aria-label="Service to reach">
            <label>
              <input type="radio" name="cf-target" checked={draft.targetMode === 'service'} onChange={() => set('targetMode', 'service')} />
              A service bound to the app
            </label>
            <label>
              <input type="radio" name="cf-target" checked={draft.targetMode === 'manual'} onChange={() => set('targetMode', 'manual')} />
              A host and port
            </label>
          </div>
          <div className="grid">
            {draft.targetMode === 'service' ? (
              <Field path="service" label="Service instance" errors={errors} className="wide" hint="Its host, port and credentials are read from the app's VCAP_SERVICES on every connect.">
                {(p) => <input {...p} value={draft.service} onChange={(e) => set('service', e.target.value)} spellCheck={false} placeholder="orders-db" />}
              </Field>
            ) : (
              <>
                <Field path="target.host" label="Target host" errors={errors} className="wide">
                  {(p) => <input {...p} value={draft.targetHost} onChange={(e) => set('targetHost', e.target.value)} spellCheck={false} placeholder="db.internal" />}
                </Field>
                <Field path="target.port" label="Target port" errors={errors}>
                  {(p) => <input {...p} value={draft.targetPort} onChange={(e) => set('targetPort', e.target.value)} inputMode="numeric" placeholder="3306" />}
                </Field>
              </>
            )}
          </div>
        </fieldset>

        <fieldset>
          <legend>On this machine</legend>
          <div className="grid">
            <Field path="local.bindHost" label="Listen on" errors={errors} warning={cfBindWarning(draft)}>
              {text('bindHost')}
            </Field>
            <Field path="local.bindPort" label="Local port" errors={errors}>
              {(p) => <input {...p} value={draft.bindPort} onChange={(e) => set('bindPort', e.target.value)} inputMode="numeric" placeholder="13306" />}
            </Field>
          </div>
        </fieldset>

        <fieldset>
          <legend>Login</legend>
          <div className="radio-row" role="radiogroup" aria-label="Login">
            <label>
              <input type="radio" name="cf-login" checked={draft.loginMethod === 'cf-cli'} onChange={() => set('loginMethod', 'cf-cli')} />
              Reuse the cf CLI&apos;s login
            </label>
            <label>
              <input type="radio" name="cf-login" checked={draft.loginMethod === 'password'} onChange={() => set('loginMethod', 'password')} />
              Username and password
            </label>
          </div>
          <div className="grid">
            {draft.loginMethod === 'cf-cli' ? (
              <Field path="login.cfHome" label="cf CLI home (CF_HOME)" errors={errors} className="full" hint="Where .cf/config.json is; empty: $CF_HOME, else your home directory. No password is asked.">
                {(p) => <input {...p} value={draft.cfHome} onChange={(e) => set('cfHome', e.target.value)} spellCheck={false} placeholder="$CF_HOME" />}
              </Field>
            ) : (
              <Field path="login.username" label="Username" errors={errors} className="wide" hint="The password is asked when the tunnel opens; only the refresh token is kept.">
                {text('username')}
              </Field>
            )}
          </div>
        </fieldset>

        <fieldset>
          <legend>Staying connected</legend>
          <div className="grid">
            <Field path="connectTimeoutSeconds" label="Connect timeout (s)" errors={errors}>
              {(p) => <input {...p} value={draft.connectTimeout} onChange={(e) => set('connectTimeout', e.target.value)} inputMode="decimal" />}
            </Field>
          </div>
          <label className="check">
            <input type="checkbox" checked={draft.reconnectEnabled} onChange={(e) => set('reconnectEnabled', e.target.checked)} />
            Reconnect when the connection drops (a restaged app is found again)
          </label>
        </fieldset>
      </div>
      <EditorFoot saving={saving} onCancel={onCancel} />
    </form>
  );
}
