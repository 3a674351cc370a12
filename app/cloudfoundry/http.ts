// HTTP to Cloud Controller and UAA with node:https directly: TLS verification can be switched off
// for lab foundations (fetch cannot), a CA can be given, and redirects are never followed (the
// one-time code arrives in a redirect's Location).
import type { IncomingHttpHeaders } from 'node:http';
import type { RequestOptions } from 'node:https';
import { socketError } from '../engine/session.js';
import { TunnelError } from '../shared/errors.js';

export interface HttpOptions {
  /** PEM CA(s) trusted besides the system's (tests; NODE_EXTRA_CA_CERTS does the same for a process). */
  ca?: string | Buffer | undefined;
  skipSslValidation: boolean;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface HttpRequest {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  body?: string;
}

const TLS_ERRORS = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS|HOSTNAME|ALTNAME/;
const MAX_BODY = 20 * 1024 * 1024;

/** `api api.sys.example.com`: the hop names a person sees in errors and the diagram. */
export function hopName(role: 'api' | 'uaa' | 'ssh-proxy', url: string): string {
  try {
    return `${role} ${new URL(url).host}`;
  } catch {
    return `${role} ${url}`;
  }
}

export function request(req: HttpRequest, opts: HttpOptions, hop: string): Promise<HttpResponse> {
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    return Promise.reject(new TunnelError('CONFIG_INVALID', `"${req.url}" is not a URL.`, { hop }));
  }
  const secure = url.protocol === 'https:';
  // Loaded on first use: node:https brings node:tls, about 17 ms of every CLI start, and most never
  // talk to a foundation. getBuiltinModule, not import(): the bundled CLI runs inside vm.Script.
  const send = secure ? process.getBuiltinModule('node:https').request : process.getBuiltinModule('node:http').request;
  return new Promise((resolve, reject) => {
    const options: RequestOptions = {
      method: req.method,
      headers: { accept: 'application/json', 'user-agent': 'tunnelvision', ...req.headers, ...(req.body !== undefined ? { 'content-length': String(Buffer.byteLength(req.body)) } : {}) },
      timeout: opts.timeoutMs,
      ...(secure ? { rejectUnauthorized: !opts.skipSslValidation, ...(opts.ca ? { ca: opts.ca } : {}) } : {}),
      // A fresh connection per request: nothing lingers after a tunnel stops.
      agent: false,
    };
    const fail = (err: TunnelError) => {
      opts.signal?.removeEventListener('abort', onAbort);
      outgoing.destroy();
      reject(err);
    };
    const onAbort = () => fail(new TunnelError('CONNECTION_LOST', 'Connection attempt cancelled.', { hop }));
    const outgoing = send(url, options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (d: Buffer) => {
        size += d.length;
        if (size > MAX_BODY) fail(new TunnelError('PROTOCOL', `${hop} sent a response larger than ${MAX_BODY / 1024 / 1024} MB to ${req.method} ${url.pathname}.`, { hop }));
        else chunks.push(d);
      });
      res.on('error', (err: NodeJS.ErrnoException) => fail(socketError(err, hop)));
      res.on('end', () => {
        opts.signal?.removeEventListener('abort', onAbort);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    outgoing.on('timeout', () => fail(new TunnelError('CONNECT_TIMEOUT', `${hop} did not answer ${req.method} ${url.pathname} within ${opts.timeoutMs / 1000} s.`, { hop })));
    outgoing.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code && TLS_ERRORS.test(err.code)) {
        fail(
          new TunnelError(
            'CONFIG_INVALID',
            `The TLS certificate of ${hop} could not be verified (${err.code}: ${err.message}). If this is a lab foundation with a self-signed certificate, turn on "skip TLS verification" ` +
              '(--skip-ssl-validation); otherwise make its CA trusted (NODE_EXTRA_CA_CERTS).',
            { hop, cause: err },
          ),
        );
      } else {
        fail(socketError(err, hop));
      }
    });
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    outgoing.end(req.body);
  });
}

/** The body as JSON; a body that is not JSON is the server's fault, said with the status. */
export function json(res: HttpResponse, hop: string, what: string): unknown {
  try {
    return JSON.parse(res.body);
  } catch {
    throw new TunnelError('PROTOCOL', `${hop} answered ${what} with HTTP ${res.status} and a body that is not JSON.`, { hop });
  }
}
