// How the window reaches the engine. In Electron the preload hands over a ready client; in the
// browser tests the same contract runs over a WebSocket to the UI bridge (?bridge=ws://…). Nothing
// else differs between the two.
import type { TunnelClient } from '../../app/shared/contract.js';
import { createClient, type MessagePortLike } from '../../app/shared/rpc.js';

declare global {
  interface Window {
    tunnelvision?: TunnelClient;
  }
}

/** Messages posted before the socket opens are held, not lost. */
function webSocketPort(socket: WebSocket): MessagePortLike {
  const waiting: string[] = [];
  socket.addEventListener('open', () => waiting.splice(0).forEach((text) => socket.send(text)));
  return {
    postMessage(message) {
      const text = JSON.stringify(message);
      if (socket.readyState === WebSocket.OPEN) socket.send(text);
      else waiting.push(text);
    },
    onMessage(listener) {
      const handle = (e: MessageEvent) => listener(JSON.parse(String(e.data)));
      socket.addEventListener('message', handle);
      return () => socket.removeEventListener('message', handle);
    },
  };
}

export type Connection = { client: TunnelClient; onLost(listener: () => void): void } | { client?: undefined; problem: string };

export function connect(): Connection {
  if (window.tunnelvision) return { client: window.tunnelvision, onLost: () => {} };
  const bridge = new URLSearchParams(location.search).get('bridge');
  if (!bridge) return { problem: 'This window has no connection to the Tunnelvision engine. Open it from the desktop app.' };
  const socket = new WebSocket(bridge);
  const client = createClient(webSocketPort(socket));
  return {
    client,
    onLost(listener) {
      socket.addEventListener('close', () => {
        client.dispose();
        listener();
      });
    },
  };
}
