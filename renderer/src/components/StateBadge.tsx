import type { StateSummary } from '../format.js';

export function StateBadge({ summary }: { summary: StateSummary }) {
  return (
    <span className={`badge tone-${summary.tone}`} data-tone={summary.tone} title={summary.detail}>
      <span className="dot" aria-hidden="true" />
      {summary.label}
    </span>
  );
}
