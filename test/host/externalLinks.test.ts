import { describe, expect, it } from 'vitest';
import { ExternalLinks } from '../../app/host/externalLinks.js';

describe('external links', () => {
  it('opens only http(s) origins the app allowed itself', () => {
    const links = new ExternalLinks();
    links.allow('http://127.0.0.1:18080/');
    links.allow('file:///etc/passwd');
    expect(links.isAllowed('http://127.0.0.1:18080/')).toBe(true);
    expect(links.isAllowed('http://127.0.0.1:18080/page?x=1')).toBe(true);
    expect(links.isAllowed('http://127.0.0.1:18081/')).toBe(false);
    expect(links.isAllowed('https://127.0.0.1:18080/')).toBe(false);
    expect(links.isAllowed('http://user:pw@127.0.0.1:18080/')).toBe(false);
    expect(links.isAllowed('file:///etc/passwd')).toBe(false);
    expect(links.isAllowed('javascript:alert(1)')).toBe(false);
    expect(links.isAllowed('not a url')).toBe(false);
  });
});
