// The window: a filterable list of tunnels beside the selected tunnel (or the editor), with the
// engine's questions on top as dialogs.
import { useCallback, useMemo, useRef, useState } from 'react';
import type { Profile } from '../../app/profiles/schema.js';
import type { ImportReviewData, ImportSource, PromptAnswer, TunnelClient } from '../../app/shared/contract.js';
import { copyText, download, pickTextFile } from './clipboard.js';
import { Detail } from './components/Detail.js';
import { EmptyState } from './components/EmptyState.js';
import { ImportMenu } from './components/ImportMenu.js';
import { ProfileList } from './components/ProfileList.js';
import { ImportReview } from './components/ImportReview.js';
import { CloudFoundryEditor } from './editor/CloudFoundryEditor.js';
import { PromptDialog } from './components/PromptDialog.js';
import { errorText, useToast } from './components/Toasts.js';
import { duplicateOf } from './editor/draft.js';
import { ProfileEditor } from './editor/ProfileEditor.js';
import type { SaveResult } from './editor/editorForm.js';
import { isActive } from './format.js';
import { facets, matches, type Filter } from './state/reducer.js';
import { useEngine, useNow } from './state/useEngine.js';
import { useHealth } from './state/useHealth.js';
import { useShortcuts } from './shortcuts.js';

type View = { mode: 'detail' } | { mode: 'new'; kind: Profile['kind'] } | { mode: 'edit'; id: string };

export function App({ client, lost }: { client: TunnelClient; lost: boolean }) {
  const notify = useToast();
  const onError = useCallback((err: unknown) => notify({ text: errorText(err), tone: 'error' }), [notify]);
  const [state] = useEngine(client, onError);
  const [health, recheck] = useHealth(client, state);
  const [reviewing, setReviewing] = useState<{ reviewId: string; label: string; review: ImportReviewData }>();
  const [selected, setSelected] = useState<string>();
  const [view, setView] = useState<View>({ mode: 'detail' });
  const [filter, setFilter] = useState<Filter>({ search: '', group: '', tag: '' });
  const [demoBusy, setDemoBusy] = useState(false);
  const [answered, setAnswered] = useState<ReadonlySet<string>>(new Set());
  const search = useRef<HTMLInputElement>(null);

  const all = state.order.map((id) => state.entries[id]!);
  const visible = all.filter((e) => matches(e.profile, filter));
  const { groups, tags } = useMemo(() => facets(state), [state]);
  const current = state.entries[selected ?? ''] ?? visible[0];
  const taken = useMemo(() => new Set(state.order), [state.order]);
  const now = useNow(all.some((e) => e.state.state === 'reconnecting'));
  const prompt = state.prompts.find((p) => !answered.has(p.id));

  const run = useCallback((work: Promise<unknown>) => void work.catch(onError), [onError]);
  const toggle = (id: string | undefined) => {
    const entry = id ? state.entries[id] : undefined;
    if (!entry) return;
    run(isActive(entry.state) ? client.stop(entry.profile.id) : client.start(entry.profile.id));
  };
  const copy = (text: string) => run(copyText(text).then(() => notify({ text: `Copied ${text}` })));
  /** The password is fetched on this click, copied, and dropped: never rendered, never in a notice. */
  const copyWithPassword = (profileId: string, which: 'command' | 'uri' | 'jdbcUrl', label: string) =>
    run(
      client.revealServicePassword(profileId).then(async (revealed) => {
        const text = revealed[which];
        if (text === undefined) throw new Error('There is no such connection string for this service.');
        await copyText(text);
        notify({ text: `Copied the ${label} with the password` });
      }),
    );
  const select = (id: string) => {
    setSelected(id);
    setView({ mode: 'detail' });
  };

  const save = async (profile: Profile): Promise<SaveResult> => {
    const result = await client.saveProfile(profile);
    if (result.ok) {
      select(result.profile.id);
      notify({ text: `Saved ${result.profile.name}` });
    }
    return result;
  };

  const remove = (profile: Profile) =>
    run(
      client.deleteProfile(profile.id).then(({ deleted }) => {
        if (!deleted) return;
        notify({ text: `Deleted ${deleted.name}`, action: { label: 'Undo', run: () => run(client.saveProfile(deleted).then(() => select(deleted.id))) } });
      }),
    );

  const duplicate = (profile: Profile) => run(save(duplicateOf(profile, taken)));

  /** Every import is reviewed first; the page only ever has the content the person picked. */
  const review = (source: ImportSource, label: string) =>
    run(
      client.reviewImport(source).then((result) => {
        if (!result.ok) return notify({ text: `Import failed: ${result.error}`, tone: 'error' });
        setReviewing({ reviewId: result.reviewId, label, review: result.review });
      }),
    );
  const pickAndReview = (kind: 'profiles' | 'sshConfig') =>
    run(
      pickTextFile(kind === 'profiles' ? '.json,application/json' : '').then((text) => {
        if (text !== undefined) review({ kind, text }, 'the file you picked');
      }),
    );
  /** Saves what the engine showed under reviewId: the page cannot swap in other content. */
  const applyImport = async (reviewId: string) => {
    const result = await client.applyImport(reviewId);
    if (!result.ok) throw new Error(result.error);
    setReviewing(undefined);
    const { added, updated, unchanged } = result.report;
    notify({ text: `Imported: ${added.length} added, ${updated.length} updated, ${unchanged.length} unchanged` });
  };

  const exportFile = () => run(client.exportProfiles().then((text) => download('tunnelvision-profiles.json', text)));

  const demo = () => {
    setDemoBusy(true);
    run(
      client
        .startDemo()
        .then(async (id) => {
          select(id);
          await client.start(id);
        })
        .finally(() => setDemoBusy(false)),
    );
  };

  const answer = (id: string, value: PromptAnswer) => {
    setAnswered((s) => new Set(s).add(id));
    run(client.answerPrompt(id, value));
  };

  useShortcuts({
    onNew: () => setView({ mode: 'new', kind: 'ssh' }),
    onSearch: () => search.current?.focus(),
    onToggle: () => view.mode === 'detail' && toggle(current?.profile.id),
  });

  const edited = view.mode === 'edit' ? state.entries[view.id]?.profile : undefined;
  const editing = edited?.kind === 'ssh' ? edited : undefined;
  const editingCf = edited?.kind === 'cloudfoundry' ? edited : undefined;
  const newKind = view.mode === 'new' ? view.kind : undefined;
  return (
    <div className="app">
      <header className="toolbar">
        <h1 className="brand">Tunnelvision</h1>
        <div className="toolbar-actions">
          <button type="button" className="primary" onClick={() => setView({ mode: 'new', kind: 'ssh' })} aria-keyshortcuts="Control+N Meta+N">
            New tunnel
          </button>
          <button type="button" onClick={() => setView({ mode: 'new', kind: 'cloudfoundry' })}>
            New Cloud Foundry tunnel
          </button>
          <ImportMenu
            items={[
              { label: 'Import profiles (JSON)…', run: () => pickAndReview('profiles') },
              { label: 'Import an ssh_config file…', run: () => pickAndReview('sshConfig') },
              { label: 'Import my ~/.ssh/config', run: () => review({ kind: 'ownSshConfig' }, '~/.ssh/config') },
            ]}
          />
          <button type="button" onClick={exportFile} disabled={all.length === 0}>
            Export
          </button>
        </div>
      </header>
      {lost && (
        <p className="banner" role="alert">
          Lost the connection to the engine. Reload the window to reconnect.
        </p>
      )}
      <div className="split">
        <nav className="sidebar" aria-label="Tunnels">
          <div className="filters">
            <input
              ref={search}
              type="search"
              className="search"
              placeholder="Search (/)"
              aria-label="Search tunnels"
              aria-keyshortcuts="/ Control+F"
              value={filter.search}
              onChange={(e) => setFilter({ ...filter, search: e.target.value })}
            />
            {(groups.length > 0 || tags.length > 0) && (
              <div className="filter-row">
                {groups.length > 0 && (
                  <select aria-label="Filter by group" value={filter.group} onChange={(e) => setFilter({ ...filter, group: e.target.value })}>
                    <option value="">All groups</option>
                    {groups.map((g) => (
                      <option key={g}>{g}</option>
                    ))}
                  </select>
                )}
                {tags.length > 0 && (
                  <select aria-label="Filter by tag" value={filter.tag} onChange={(e) => setFilter({ ...filter, tag: e.target.value })}>
                    <option value="">All tags</option>
                    {tags.map((t) => (
                      <option key={t}>{t}</option>
                    ))}
                  </select>
                )}
              </div>
            )}
          </div>
          {state.loaded && all.length === 0 && <p className="muted pad">No tunnels yet.</p>}
          {all.length > 0 && visible.length === 0 && <p className="muted pad">No tunnel matches.</p>}
          <ProfileList entries={visible} selected={current?.profile.id} now={now} onSelect={select} onToggle={toggle} onCopy={copy} />
        </nav>
        <main className="main">
          {newKind === 'cloudfoundry' || editingCf ? (
            <CloudFoundryEditor key={editingCf?.id ?? 'new-cf'} base={editingCf} taken={taken} onSave={save} onCancel={() => setView({ mode: 'detail' })} />
          ) : newKind === 'ssh' || editing ? (
            <ProfileEditor key={editing?.id ?? 'new'} base={editing} taken={taken} onSave={save} onCancel={() => setView({ mode: 'detail' })} />
          ) : current ? (
            <Detail
              key={current.profile.id}
              entry={current}
              logs={state.logs[current.profile.id] ?? []}
              now={now}
              onToggle={() => toggle(current.profile.id)}
              onRetry={() => run(client.retryNow(current.profile.id))}
              onEdit={() => setView({ mode: 'edit', id: current.profile.id })}
              onDuplicate={() => duplicate(current.profile)}
              onDelete={() => remove(current.profile)}
              onCopy={copy}
              health={health[current.profile.id]}
              onCheckHealth={() => recheck(current.profile.id)}
              onCopyWithPassword={(which, label) => copyWithPassword(current.profile.id, which, label)}
            />
          ) : state.loaded && all.length === 0 ? (
            <EmptyState onDemo={demo} onNew={() => setView({ mode: 'new', kind: 'ssh' })} onNewCloudFoundry={() => setView({ mode: 'new', kind: 'cloudfoundry' })} busy={demoBusy} />
          ) : null}
        </main>
      </div>
      {reviewing && <ImportReview source={reviewing.label} review={reviewing.review} onImport={() => applyImport(reviewing.reviewId)} onCancel={() => setReviewing(undefined)} />}
      <PromptDialog request={prompt} profileName={(id) => state.entries[id]?.profile.name ?? id} onAnswer={answer} />
    </div>
  );
}
