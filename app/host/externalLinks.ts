// The only links the app opens in the person's browser: http(s) addresses the app itself made
// (the demo page, an open HTTP tunnel's local address). Anything else a page asks to open is refused.
export class ExternalLinks {
  private readonly origins = new Set<string>();

  allow(url: string): void {
    const origin = httpOrigin(url);
    if (origin) this.origins.add(origin);
  }

  isAllowed(url: string): boolean {
    const origin = httpOrigin(url);
    return origin !== undefined && this.origins.has(origin);
  }
}

function httpOrigin(url: string): string | undefined {
  try {
    const u = new URL(url);
    // Credentials in a URL are a classic way to disguise where it really goes.
    return (u.protocol === 'http:' || u.protocol === 'https:') && !u.username && !u.password ? u.origin : undefined;
  } catch {
    return undefined;
  }
}
