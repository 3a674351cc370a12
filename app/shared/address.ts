/** `host:port`, with IPv6 literals bracketed as OpenSSH and URLs write them. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** 127.0.0.0/8, ::1 and localhost: only this machine (or, for -R, only the server) can connect. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/** How a hop is named in states, prompts and errors: `user@host:port` (the engine and main both read it). */
export function hopLabel(e: { host: string; port: number; user?: string | undefined }): string {
  return `${e.user ? `${e.user}@` : ''}${hostPort(e.host, e.port)}`;
}
