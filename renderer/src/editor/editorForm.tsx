// What the SSH and Cloud Foundry editors share: a draft checked by the profile schema as the
// person types once a save was tried, the engine's own refusal shown the same way, focus sent to
// the first field in trouble, and the sections every profile has.
import { useMemo, useRef, useState, type FormEvent, type ReactNode } from 'react';
import type { Profile } from '../../../app/profiles/schema.js';
import type { FieldError } from '../../../app/profiles/validate.js';
import { groupErrors, idFor, type FieldErrors } from './draft.js';
import { Field } from './Field.js';

export type SaveResult = { ok: true; profile: Profile } | { ok: false; errors: FieldError[] };

type Check<P> = { ok: true; profile: P } | { ok: false; errors: FieldErrors };

interface DraftBase {
  id: string;
  name: string;
}

/** `check` is a module-level function, so the live check reruns only when the draft changes. */
export function useEditorForm<D extends DraftBase, B, P extends Profile>(opts: {
  initial: () => D;
  base: B | undefined;
  taken: ReadonlySet<string>;
  check: (d: D, base: B | undefined) => Check<P>;
  onSave(profile: P): Promise<SaveResult>;
}) {
  const { base, taken, check, onSave } = opts;
  const [draft, setDraft] = useState<D>(opts.initial);
  /** What the engine refused on save; the form's own check runs as the person types. */
  const [savedErrors, setSavedErrors] = useState<FieldErrors>({});
  const [checked, setChecked] = useState(false);
  const [saving, setSaving] = useState(false);
  const form = useRef<HTMLFormElement>(null);

  const withId = (d: D): D => (d.id ? d : { ...d, id: idFor(d.name, taken) });
  const liveErrors = useMemo(() => {
    if (!checked) return {};
    const result = check(withId(draft), base);
    return result.ok ? {} : result.errors;
  }, [checked, draft, base, taken, check]);
  const errors = Object.keys(liveErrors).length > 0 ? liveErrors : savedErrors;
  const update = (change: (d: D) => D) => {
    setSavedErrors({});
    setDraft(change);
  };
  const set = <K extends keyof D>(key: K, value: D[K]) => update((d) => ({ ...d, [key]: value }));

  // Focus goes to the first field in trouble, in page order.
  const focusFirstProblem = () => requestAnimationFrame(() => form.current?.querySelector<HTMLElement>('[aria-invalid="true"], .form-problems')?.focus());

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setChecked(true);
    const result = check(withId(draft), base);
    if (!result.ok) return focusFirstProblem();
    setSaving(true);
    try {
      const saved = await onSave(result.profile);
      if (!saved.ok) {
        setSavedErrors(groupErrors(saved.errors));
        focusFirstProblem();
      }
    } finally {
      setSaving(false);
    }
  };

  return { draft, set, update, errors, saving, submit, form };
}

/** The count of fields in trouble, listing the messages of fields the form has no input for. */
export function FormProblems({ errors, shown }: { errors: FieldErrors; shown: RegExp }) {
  const count = Object.keys(errors).length;
  if (count === 0) return null;
  const unplaced = Object.entries(errors).filter(([path]) => !shown.test(path));
  return (
    <div className="form-problems" role="alert" tabIndex={-1}>
      {count === 1 ? 'One field needs attention.' : `${count} fields need attention.`}
      {unplaced.length > 0 && (
        <ul>
          {unplaced.map(([path, messages]) => (
            <li key={path}>{path ? `${path}: ${messages.join('; ')}` : messages.join('; ')}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

interface ProfileSection {
  name: string;
  group: string;
  tags: string;
  autoStart: boolean;
}

/** Name, group, tags and "open at start": the same for every kind of profile. */
export function ProfileFieldset<D extends ProfileSection>({ draft, errors, set, namePlaceholder }: { draft: D; errors: FieldErrors; set<K extends keyof D>(key: K, value: D[K]): void; namePlaceholder: string }) {
  const text = (key: 'group' | 'tags') => (p: { id: string; 'aria-invalid': boolean; 'aria-describedby': string | undefined }) => <input {...p} value={draft[key]} onChange={(e) => set(key, e.target.value as D[typeof key])} />;
  return (
    <fieldset>
      <legend>Profile</legend>
      <div className="grid">
        <Field path="name" label="Name" errors={errors} className="wide">
          {(p) => <input {...p} value={draft.name} onChange={(e) => set('name', e.target.value as D['name'])} placeholder={namePlaceholder} />}
        </Field>
        <Field path="group" label="Group" errors={errors}>
          {text('group')}
        </Field>
        <Field path="tags" label="Tags" errors={errors} hint="Comma-separated">
          {text('tags')}
        </Field>
      </div>
      <label className="check">
        <input type="checkbox" checked={draft.autoStart} onChange={(e) => set('autoStart', e.target.checked as D['autoStart'])} />
        Open when Tunnelvision starts
      </label>
    </fieldset>
  );
}

export function EditorFoot({ saving, onCancel }: { saving: boolean; onCancel(): void }): ReactNode {
  return (
    <footer className="editor-foot">
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
      <button type="submit" className="primary" disabled={saving}>
        {saving ? 'Saving…' : 'Save'}
      </button>
    </footer>
  );
}
