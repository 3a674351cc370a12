import { useEffect, useRef } from 'react';
import { formatClock } from '../format.js';
import type { LogEntry } from '../state/reducer.js';

/** Follows new lines while the reader is at the bottom; leaves them alone after scrolling up. */
export function LogView({ entries }: { entries: readonly LogEntry[] }) {
  const box = useRef<HTMLOListElement>(null);
  const pinned = useRef(true);
  useEffect(() => {
    const el = box.current;
    if (el && pinned.current) el.scrollTop = el.scrollHeight;
  }, [entries]);
  if (entries.length === 0) return <p className="muted">Nothing logged yet. Start the tunnel to see what it does.</p>;
  return (
    <ol
      className="log"
      ref={box}
      role="log"
      aria-label="Tunnel log"
      tabIndex={0}
      onScroll={(e) => {
        const el = e.currentTarget;
        pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < 8;
      }}
    >
      {entries.map((entry, i) => (
        <li key={i} className={`log-${entry.level}`}>
          <time className="num" dateTime={new Date(entry.time).toISOString()}>
            {formatClock(entry.time)}
          </time>
          <span className="level">{entry.level}</span>
          <span className="message">{entry.message}</span>
        </li>
      ))}
    </ol>
  );
}
