// The selected tunnel: its state and actions, its live diagram, and tabs to use it and read its log.
import { useMemo, useState } from 'react';
import { isActive, summarizeState } from '../format.js';
import { diagramModel } from '../diagram/model.js';
import { TunnelDiagram } from '../diagram/TunnelDiagram.js';
import type { LogEntry, ProfileEntry } from '../state/reducer.js';
import type { Health } from '../health.js';
import { probedForwardIndex } from '../health.js';
import { HealthIndicator } from './HealthIndicator.js';
import { LogView } from './LogView.js';
import { StateBadge } from './StateBadge.js';
import { UsePanel } from './UsePanel.js';

interface Props {
  entry: ProfileEntry;
  logs: readonly LogEntry[];
  now: number;
  onToggle(): void;
  onRetry(): void;
  onEdit(): void;
  onDuplicate(): void;
  onDelete(): void;
  onCopy(text: string): void;
  health: Health | undefined;
  onCheckHealth(): void;
  /** Copies a connection string of the service with its password (asked of the engine on this click only). */
  onCopyWithPassword(which: 'command' | 'uri' | 'jdbcUrl', label: string): void;
}

type Tab = 'use' | 'log';

export function Detail({ entry, logs, now, onToggle, onRetry, onEdit, onDuplicate, onDelete, onCopy, health, onCheckHealth, onCopyWithPassword }: Props) {
  const { profile, state } = entry;
  const [tab, setTab] = useState<Tab>('use');
  const reconnectAt = state.state === 'reconnecting' ? entry.stateAt + state.delayMs : undefined;
  const summary = summarizeState(state, now, reconnectAt);
  const model = useMemo(() => diagramModel({ profile, state, stats: entry.stats, rates: entry.rates }), [profile, state, entry.stats, entry.rates]);
  const active = isActive(state);
  const tabs: Array<[Tab, string]> = [
    ['use', 'Use it'],
    ['log', `Log${logs.length ? ` (${logs.length})` : ''}`],
  ];
  return (
    <article className="detail" aria-labelledby="detail-title">
      <header className="detail-head">
        <div className="detail-title">
          <h2 id="detail-title">{profile.name}</h2>
          <StateBadge summary={summary} />
        </div>
        <div className="detail-actions">
          <button type="button" className={active ? '' : 'primary'} onClick={onToggle}>
            {active ? 'Stop' : 'Start'}
          </button>
          {state.state === 'reconnecting' && (
            <button type="button" onClick={onRetry}>
              Retry now
            </button>
          )}
          <button type="button" onClick={onEdit}>
            Edit
          </button>
          <button type="button" onClick={onDuplicate}>
            Duplicate
          </button>
          <button type="button" className="danger" onClick={onDelete}>
            Delete
          </button>
        </div>
      </header>
      {summary.detail && (
        <p className={`reason tone-${summary.tone}`} role="alert">
          {summary.detail}
        </p>
      )}
      <TunnelDiagram model={model} label={`Path of the ${profile.name} tunnel`} />
      {state.state === 'open' && probedForwardIndex(profile) !== undefined && <HealthIndicator health={health?.since === state.since ? health : undefined} onCheck={onCheckHealth} />}
      <div className="tabs" role="tablist" aria-label="Tunnel details">
        {tabs.map(([id, label]) => (
          <button
            key={id}
            type="button"
            role="tab"
            id={`tab-${id}`}
            aria-selected={tab === id}
            aria-controls={`panel-${id}`}
            tabIndex={tab === id ? 0 : -1}
            onClick={() => setTab(id)}
            onKeyDown={(e) => {
              if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
                const next = tab === 'use' ? 'log' : 'use';
                setTab(next);
                document.getElementById(`tab-${next}`)?.focus();
              }
            }}
          >
            {label}
          </button>
        ))}
      </div>
      <div className="tab-panel" role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {tab === 'use' ? <UsePanel entry={entry} onCopy={onCopy} onCopyWithPassword={onCopyWithPassword} /> : <LogView entries={logs} />}
      </div>
    </article>
  );
}
