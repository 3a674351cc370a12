// The browser tests' stand-in for Electron's preload: an HTTP server on loopback that serves the
// built renderer and carries the typed contract over a WebSocket to a real EngineService. Only the
// transport differs from the desktop app.
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { EngineService } from '../../app/service/engineService.js';
import { serveService, type MessagePortLike } from '../../app/shared/rpc.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
};

export interface UiBridge {
  /** The renderer, pointed at this bridge. */
  url: string;
  engine: EngineService;
  close(): Promise<void>;
}

function socketPort(ws: WebSocket): MessagePortLike {
  return {
    postMessage: (message) => ws.send(JSON.stringify(message)),
    onMessage(listener) {
      const handle = (data: Buffer) => listener(JSON.parse(data.toString('utf8')));
      ws.on('message', handle);
      return () => ws.off('message', handle);
    },
  };
}

async function serveFile(root: string, path: string): Promise<{ type: string; body: Buffer } | undefined> {
  const file = normalize(join(root, decodeURIComponent(path === '/' ? '/index.html' : path)));
  if (!file.startsWith(root + sep)) return undefined;
  try {
    return { type: TYPES[extname(file)] ?? 'application/octet-stream', body: await readFile(file) };
  } catch {
    return undefined;
  }
}

/** `ca`: a CA the engine trusts for Cloud Foundry besides the system's (the fake foundation's). */
export async function startUiBridge(options: { root: string; configDir: string; ca?: string }): Promise<UiBridge> {
  const root = normalize(options.root);
  const engine = new EngineService({ configDir: options.configDir, ...(options.ca ? { ca: options.ca } : {}) });
  const server: Server = createServer((req, res) => {
    void serveFile(root, new URL(req.url ?? '/', 'http://localhost').pathname).then((found) => {
      if (!found) return res.writeHead(404).end();
      res.writeHead(200, { 'content-type': found.type, 'cache-control': 'no-store' }).end(found.body);
    });
  });
  const wss = new WebSocketServer({ server, path: '/bridge' });
  wss.on('connection', (ws) => {
    const stop = serveService(socketPort(ws), engine);
    ws.on('close', stop);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  return {
    url: `${base}/index.html?bridge=${encodeURIComponent(`ws://127.0.0.1:${port}/bridge`)}`,
    engine,
    async close() {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await engine.dispose();
    },
  };
}
