// HTTP to Cloud Controller and UAA with node:https directly: TLS verification can be switched off
// for lab foundations (fetch cannot), a CA can be given, and redirects are never followed (the
// one-time code arrives in a redirect's Location). Every request is https unless the profile opted
// in to plain http; a redirect towards plain http is refused too, whoever would follow it.
import type { IncomingHttpHeaders } from 'node:http';
import type { RequestOptions } from 'node:https';
import { socketError } from '../engine/session.js';
import { TunnelError } from '../shared/errors.js';

export interface HttpOptions {
  /** PEM CA(s) trusted besides the system's (tests; NODE_EXTRA_CA_CERTS does the same for a process). */
  ca?: string | Buffer | undefined;
  skipSslValidation: boolean;
  /** The profile's explicit opt-in to plain http (lab foundations without TLS); https only otherwise. */
  allowInsecureHttp: boolean;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Told before each request that goes out over plain http or unverified TLS, so the person can be warned. */
  onInsecure?: ((url: URL) => void) | undefined;
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

const OPT_IN = 'Use the foundation\'s https address; only for a lab foundation without TLS, turn on "Allow plain http" (allowInsecureHttp in the profile, --allow-insecure-http for tunnelvision cf).';

/** Refused plain http: `subject` says what was insecure; the rest says why and how to opt in. */
export function insecureHttpError(subject: string, hop: string): TunnelError {
  return new TunnelError('INSECURE_TRANSPORT', `${subject}: over plain http the password and tokens could be read and changed by anyone on the network path, so Tunnelvision sent nothing there. ${OPT_IN}`, { hop });
}

/** `url` as a URL when credentials may go there: https, or http with the opt-in. */
export function checkTransport(url: string, subject: string, opts: Pick<HttpOptions, 'allowInsecureHttp'>, hop: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TunnelError('CONFIG_INVALID', `${subject}: "${url}" is not a URL.`, { hop });
  }
  if (parsed.protocol === 'https:') return parsed;
  if (parsed.protocol === 'http:') {
    if (opts.allowInsecureHttp) return parsed;
    throw insecureHttpError(`${subject} (${parsed.origin}) is plain http`, hop);
  }
  throw new TunnelError('CONFIG_INVALID', `${subject} (${parsed.protocol}//${parsed.host}) is neither https nor http.`, { hop });
}

export function request(req: HttpRequest, opts: HttpOptions, hop: string): Promise<HttpResponse> {
  let url: URL;
  try {
    url = checkTransport(req.url, hop, opts, hop);
  } catch (err) {
    return Promise.reject(err as Error);
  }
  const secure = url.protocol === 'https:';
  if (!secure || opts.skipSslValidation) opts.onInsecure?.(url);
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
      const status = res.statusCode ?? 0;
      const to = status >= 300 && status < 400 && res.headers.location ? redirectTarget(res.headers.location, url) : undefined;
      // Never followed, but a foundation that sends us to plain http would send a browser or the cf CLI there too.
      if (to?.protocol === 'http:' && !opts.allowInsecureHttp) {
        return fail(insecureHttpError(`${hop} redirected ${req.method} ${url.pathname} to ${to.origin}${to.pathname}, which is plain http`, hop));
      }
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

/** Where a redirect points, without its query (it may carry a one-time code). */
function redirectTarget(location: string, from: URL): URL | undefined {
  try {
    const to = new URL(location, from);
    to.search = '';
    return to;
  } catch {
    return undefined;
  }
}

/** The body as JSON; a body that is not JSON is the server's fault, said with the status. */
export function json(res: HttpResponse, hop: string, what: string): unknown {
  try {
    return JSON.parse(res.body);
  } catch {
    throw new TunnelError('PROTOCOL', `${hop} answered ${what} with HTTP ${res.status} and a body that is not JSON.`, { hop });
  }
}
