/** `host:port`, with IPv6 literals bracketed as OpenSSH and URLs write them. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
