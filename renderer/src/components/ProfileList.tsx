// The list of tunnels: state at a glance, one-click toggle, and for open tunnels their local
// endpoints (click to copy) and live throughput.
import type { KeyboardEvent } from 'react';
import { endpointText } from '../connectionStrings.js';
import { formatConnections, formatRate, isActive, summarizeState } from '../format.js';
import type { ProfileEntry } from '../state/reducer.js';
import { bothWays, totalRate } from '../throughput.js';
import { StateBadge } from './StateBadge.js';

interface Props {
  entries: ProfileEntry[];
  selected: string | undefined;
  now: number;
  onSelect(id: string): void;
  onToggle(id: string): void;
  onCopy(text: string): void;
}

export function ProfileList({ entries, selected, now, onSelect, onToggle, onCopy }: Props) {
  const move = (e: KeyboardEvent, id: string) => {
    const i = entries.findIndex((x) => x.profile.id === id);
    const to = e.key === 'ArrowDown' ? i + 1 : e.key === 'ArrowUp' ? i - 1 : -1;
    if (to < 0 || to >= entries.length) return;
    e.preventDefault();
    const next = entries[to]!.profile.id;
    onSelect(next);
    document.getElementById(`row-${next}`)?.focus();
  };
  return (
    <ul className="profile-list">
      {entries.map((entry) => (
        <Row key={entry.profile.id} entry={entry} selected={entry.profile.id === selected} now={now} onSelect={onSelect} onToggle={onToggle} onCopy={onCopy} onMove={move} />
      ))}
    </ul>
  );
}

interface RowProps extends Omit<Props, 'entries' | 'selected'> {
  entry: ProfileEntry;
  selected: boolean;
  onMove(e: KeyboardEvent, id: string): void;
}

function Row({ entry, selected, now, onSelect, onToggle, onCopy, onMove }: RowProps) {
  const { profile, state } = entry;
  const reconnectAt = state.state === 'reconnecting' ? entry.stateAt + state.delayMs : undefined;
  const summary = summarizeState(state, now, reconnectAt);
  const on = isActive(state);
  const total = totalRate(entry.rates);
  const open = state.state === 'open' ? state : undefined;
  const endpoints = open?.forwards.filter((f) => f.type !== 'remote') ?? [];
  return (
    <li className={`profile-row${selected ? ' selected' : ''}`} data-profile={profile.id}>
      <button
        type="button"
        id={`row-${profile.id}`}
        className="row-main"
        aria-current={selected ? 'true' : undefined}
        aria-keyshortcuts="Enter Space"
        onClick={() => onSelect(profile.id)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' || e.key === ' ') {
            // Activating the selected row toggles its tunnel: the keyboard's one-click.
            e.preventDefault();
            if (selected) onToggle(profile.id);
            else onSelect(profile.id);
          } else onMove(e, profile.id);
        }}
      >
        <span className="row-name">{profile.name}</span>
        <span className="row-meta">{[profile.group, ...profile.tags].filter(Boolean).join(' · ') || (profile.kind === 'ssh' ? profile.server.host : `${profile.app} · ${profile.space}`)}</span>
        <StateBadge summary={summary} />
      </button>
      <button
        type="button"
        role="switch"
        className={`switch${on ? ' on' : ''}`}
        aria-checked={on}
        aria-label={`${profile.name} tunnel`}
        onClick={() => onToggle(profile.id)}
      >
        <span className="switch-knob" aria-hidden="true" />
      </button>
      {open && (
        <div className="row-live">
          <span className="row-endpoints">
            {endpoints.map((f) => {
              const text = endpointText({ host: f.bindHost, port: f.bindPort });
              return (
                <button type="button" key={f.index} className="endpoint" aria-label={`Copy ${text}`} title="Copy address" onClick={() => onCopy(text)}>
                  {text}
                </button>
              );
            })}
          </span>
          <span className="row-numbers">
            <span className="rate num">{formatRate(bothWays(total))}</span>
            <span className="conns num">{formatConnections(total.active)}</span>
          </span>
        </div>
      )}
    </li>
  );
}
