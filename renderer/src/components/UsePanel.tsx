// "Use it": where to point a client, and the connection strings of the profile's client hint.
import { connectionStrings, endpointText, hintedForwardIndex } from '../connectionStrings.js';
import type { ProfileEntry } from '../state/reducer.js';
import { formatForwardSpec } from '../../../app/profiles/forwardSpec.js';

type Which = 'command' | 'uri' | 'jdbcUrl';

interface Props {
  entry: ProfileEntry;
  onCopy(text: string): void;
  onCopyWithPassword(which: Which, label: string): void;
}

export function UsePanel({ entry, onCopy, onCopyWithPassword }: Props) {
  const { profile, state } = entry;
  const open = state.state === 'open' ? state : undefined;
  const hinted = open?.forwards.find((f) => f.index === hintedForwardIndex(profile));
  const strings = open ? connectionStrings(profile, hinted && { host: hinted.bindHost, port: hinted.bindPort }) : [];
  const hint = profile.kind === 'ssh' ? profile.client : undefined;
  const specs = profile.kind === 'ssh' ? profile.forwards.map(formatForwardSpec) : [`${profile.local.bindPort} → ${profile.service ?? `${profile.target?.host}:${profile.target?.port}`}`];
  // Cloud Foundry: the service's details from this session's VCAP_SERVICES, never with a password.
  const service = profile.kind === 'cloudfoundry' ? open?.forwards.find((f) => f.index === 0)?.service : undefined;
  const serviceStrings: Array<{ which: Which; label: string; value: string }> = service
    ? [
        { which: 'command', label: 'mysql command', value: service.command },
        { which: 'uri', label: 'MySQL URL', value: service.uri },
        { which: 'jdbcUrl', label: 'JDBC URL', value: service.jdbcUrl },
      ]
    : [];
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
      {profile.kind === 'cloudfoundry' && profile.service && (
        <>
          <h3>Connect to {profile.service}</h3>
          {service ? (
            <>
              <p className="muted small">
                {service.user ? `User ${service.user}` : 'No user in the credentials'}
                {service.database ? `, database ${service.database}` : ''}. The strings leave the password out; “With password” asks the engine for it on that click only.
              </p>
              <ul className="conn-strings with-password">
                {serviceStrings.map((c) => (
                  <li key={c.which}>
                    <span className="conn-label">{c.label}</span>
                    <code className="conn-value">{c.value}</code>
                    <span className="conn-actions">
                      <button type="button" onClick={() => onCopy(c.value)} aria-label={`Copy ${c.label}`}>
                        Copy
                      </button>
                      <button type="button" onClick={() => onCopyWithPassword(c.which, c.label)} aria-label={`Copy ${c.label} with password`}>
                        With password
                      </button>
                    </span>
                  </li>
                ))}
              </ul>
            </>
          ) : open ? (
            <p className="muted">This service is not MySQL, so there are no connection strings for it.</p>
          ) : (
            <p className="muted">Open the tunnel to get connection strings.</p>
          )}
        </>
      )}
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
