// Whether the far end really answers through the tunnel, from a real probe: checking, healthy (for
// MySQL with the server's version), or failing with the reason. "Check again" probes once more.
import { summarizeHealth, type Health } from '../health.js';

export function HealthIndicator({ health, onCheck }: { health: Health | undefined; onCheck(): void }) {
  const summary = summarizeHealth(health);
  const checking = !health || health.status === 'checking';
  return (
    <div className="health" data-tone={summary.tone}>
      <span className="health-label">Health</span>
      <span className={`badge tone-${summary.tone}`} role="status" aria-live="polite" data-health={summary.tone} title={summary.title}>
        <span className="dot" aria-hidden="true" />
        {summary.label}
      </span>
      {summary.detail && <span className={`health-detail${summary.tone === 'failed' ? ' failing' : ''}`}>{summary.detail}</span>}
      <button type="button" className="health-check" onClick={onCheck} disabled={checking}>
        Check again
      </button>
    </div>
  );
}
