// ssh2's native crypto binding is optional: without it tunnels still work (on Node's crypto), and
// `tunnelvision doctor` says so plainly.
import { describe, expect, it } from 'vitest';
import { cryptoReport } from '../app/engine/nativeCrypto.js';
import { runCli } from './support/cli.js';
import { freePort } from './support/net.js';

const hide = { NODE_OPTIONS: `--require ${new URL('./fixtures/hide-ssh2-binding.cjs', import.meta.url).pathname}` };

describe('ssh2 native crypto binding', () => {
  it('is built and loaded by this installation (npm install runs its build script)', () => {
    expect(cryptoReport().nativeBinding).toBe(true);
  });

  it('doctor reports it', async () => {
    const run = runCli(['doctor']);
    expect((await run.exit).code).toBe(0);
    expect(run.stdout()).toContain('ssh2 native crypto binding: loaded');
  });

  it('when missing, doctor says so and a tunnel still carries a page', async () => {
    const doctor = runCli(['doctor'], hide);
    expect((await doctor.exit).code).toBe(0);
    expect(doctor.stdout()).toContain('ssh2 native crypto binding: NOT loaded');

    const port = await freePort();
    const demo = runCli(['demo', '--json', '--port', String(port)], hide);
    await demo.waitFor((e) => e.state === 'open', 'open');
    const res = await fetch(`http://127.0.0.1:${port}/`);
    expect(await res.text()).toContain('this page came through an SSH tunnel');
    demo.proc.kill('SIGINT');
    expect((await demo.exit).code).toBe(0);
  });
});
