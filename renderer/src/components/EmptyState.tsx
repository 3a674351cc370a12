export function EmptyState({ onDemo, onNew, onNewCloudFoundry, busy }: { onDemo(): void; onNew(): void; onNewCloudFoundry(): void; busy: boolean }) {
  return (
    <div className="empty">
      <h2>No tunnels yet</h2>
      <p>
        A tunnel makes a server you cannot reach directly (a database behind a bastion, an internal web page) appear on a port of
        this machine.
      </p>
      <div className="empty-actions">
        <button type="button" className="primary" onClick={onDemo} disabled={busy}>
          {busy ? 'Starting the demo…' : 'Try a demo tunnel'}
        </button>
        <button type="button" onClick={onNew}>
          New tunnel
        </button>
        <button type="button" onClick={onNewCloudFoundry}>
          New Cloud Foundry tunnel
        </button>
      </div>
      <p className="muted">The demo runs a small SSH server and web page on this machine, so you can watch a tunnel open without a server of your own.</p>
    </div>
  );
}
