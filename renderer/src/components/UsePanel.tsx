// "Use it": where to point a client, and the connection strings of the profile's client hint.
import { connectionStrings, endpointText, hintedForwardIndex } from '../connectionStrings.js';
import type { ProfileEntry } from '../state/reducer.js';
import { formatForwardSpec } from '../../../app/profiles/forwardSpec.js';

export function UsePanel({ entry, onCopy }: { entry: ProfileEntry; onCopy(text: string): void }) {
  const { profile, state } = entry;
  const open = state.state === 'open' ? state : undefined;
  const hinted = open?.forwards.find((f) => f.index === hintedForwardIndex(profile));
  const strings = open ? connectionStrings(profile, hinted && { host: hinted.bindHost, port: hinted.bindPort }) : [];
  const hint = profile.kind === 'ssh' ? profile.client : undefined;
  const specs = profile.kind === 'ssh' ? profile.forwards.map(formatForwardSpec) : [`${profile.local.bindPort} → ${profile.service ?? `${profile.target?.host}:${profile.target?.port}`}`];
  return (
    <div className="use-panel">
      <h3>Forwards</h3>
      <ul className="forward-list">
        {specs.map((spec, i) => {
          const live = open?.forwards.find((o) => o.index === i);
          const where = live && live.type !== 'remote' ? endpointText({ host: live.bindHost, port: live.bindPort }) : undefined;
          return (
            <li key={spec}>
              <code>{spec}</code>
              {where && (
                <button type="button" className="endpoint" aria-label={`Copy ${where}`} onClick={() => onCopy(where)}>
                  {where}
                </button>
              )}
              {live?.type === 'remote' && <span className="muted">server listens on port {live.bindPort}</span>}
            </li>
          );
        })}
      </ul>
      {hint && (
        <>
          <h3>Connect with {hint.kind}</h3>
          {open ? (
            <ul className="conn-strings">
              {strings.map((c) => (
                <li key={c.label}>
                  <span className="conn-label">{c.label}</span>
                  <code className="conn-value">{c.value}</code>
                  <button type="button" onClick={() => onCopy(c.value)} aria-label={`Copy ${c.label}`}>
                    Copy
                  </button>
                </li>
              ))}
            </ul>
          ) : (
            <p className="muted">Open the tunnel to get connection strings.</p>
          )}
        </>
      )}
    </div>
  );
}
