// ssh2's native crypto binding is optional: without it tunnels still work (on Node's crypto), and
// `tunnelvision doctor` says so plainly.
import { describe, expect, it } from 'vitest';
import { preferredCiphers } from '../app/engine/algorithms.js';
import { cryptoReport } from '../app/engine/nativeCrypto.js';
import { runCli } from './support/cli.js';
import { freePort } from './support/net.js';

const hide = { NODE_OPTIONS: `--require ${new URL('./fixtures/hide-ssh2-binding.cjs', import.meta.url).pathname}` };

describe('cipher preference', () => {
  it('puts AES-GCM first with AES instructions, chacha20-poly1305 without, and JavaScript chacha20 last', () => {
    expect(preferredCiphers({ nativeBinding: true, aesNi: true }).slice(0, 3)).toEqual(['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com']);
    expect(preferredCiphers({ nativeBinding: true, aesNi: undefined })[0]).toBe('aes128-gcm@openssh.com');
    expect(preferredCiphers({ nativeBinding: true, aesNi: false })[0]).toBe('chacha20-poly1305@openssh.com');
    expect(preferredCiphers({ nativeBinding: false, aesNi: false }).at(-1)).toBe('chacha20-poly1305@openssh.com');
  });
});

describe('ssh2 native crypto binding', () => {
  it('is built and loaded by this installation (npm install runs its build script)', () => {
    expect(cryptoReport().nativeBinding).toBe(true);
  });

  it('doctor reports it', async () => {
    const run = runCli(['doctor']);
    expect((await run.exit).code).toBe(0);
    expect(run.stdout()).toContain('ssh2 native crypto binding: loaded');
    expect(run.stdout()).toMatch(/cipher preference \(when a profile or -c names none\): (aes128-gcm|chacha20-poly1305)@openssh\.com, /);
  });

  it('when missing, doctor says so and a tunnel still carries a page', async () => {
    const doctor = runCli(['doctor'], hide);
    expect((await doctor.exit).code).toBe(0);
    expect(doctor.stdout()).toContain('ssh2 native crypto binding: NOT loaded');
    // ssh2's JavaScript chacha20 is its slowest cipher: without the binding, AES-GCM leads and chacha20 is last.
    expect(doctor.stdout()).toMatch(/cipher preference \(when a profile or -c names none\): aes128-gcm@openssh\.com, .*chacha20-poly1305@openssh\.com\n/);

    const port = await freePort();
    const demo = runCli(['demo', '--json', '--port', String(port)], hide);
    await demo.waitFor((e) => e.state === 'open', 'open');
    const res = await fetch(`http://127.0.0.1:${port}/`);
    expect(await res.text()).toContain('this page came through an SSH tunnel');
    demo.proc.kill('SIGINT');
    expect((await demo.exit).code).toBe(0);
  });
});
