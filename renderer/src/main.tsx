import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { z } from 'zod';
import '@xyflow/react/dist/style.css';
import './styles.css';
import type { TunnelClient } from '../../app/shared/contract.js';
import { App } from './App.js';
import { ToastProvider } from './components/Toasts.js';
import { connect } from './transport.js';

function Connected({ client, onLost }: { client: TunnelClient; onLost(listener: () => void): void }) {
  const [lost, setLost] = useState(false);
  useEffect(() => onLost(() => setLost(true)), [onLost]);
  return (
    <ToastProvider>
      <App client={client} lost={lost} />
    </ToastProvider>
  );
}

// The page's CSP forbids eval; zod would probe for it (a CSP violation) before falling back.
z.config({ jitless: true });

const connection = connect();
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    {connection.client ? (
      <Connected client={connection.client} onLost={connection.onLost} />
    ) : (
      <p className="banner" role="alert">
        {connection.problem}
      </p>
    )}
  </StrictMode>,
);
