// The `tunnelvision` command: the same engine and profiles as the desktop app, headless, with
// OpenSSH's flags. Usage errors exit 2; a tunnel that cannot be opened exits 255, like ssh.
import { readFile, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Command, CommanderError, Option } from 'commander';
// Only what `connect` needs is imported up front: the demo server (node:http), Cloud Foundry,
// profile import/export and the crypto report load when their command runs (time to "open").
import { formatForwardSpec } from '../profiles/forwardSpec.js';
import { importSshConfig, importSshConfigText, loadSshConfig, type SshConfigImport } from '../profiles/sshConfig.js';
import type { Profile } from '../profiles/schema.js';
import { ProfileStore, ProfileStoreError, defaultConfigDir, type LoadReport } from '../profiles/store.js';
import type { IncomingProfiles } from '../profiles/importReview.js';
import type { ImportReport } from '../profiles/transfer.js';
import { formatErrors, type Parsed } from '../profiles/validate.js';
import { cliPrompter } from './prompter.js';
import { connectPlan, type ConnectFlags } from './connectProfile.js';
import { EXIT_FAILED, runTunnels } from './run.js';
import { VERSION } from '../shared/version.js';
import { TunnelError, describeError } from '../shared/errors.js';
import { crashReport, rememberSecret } from '../shared/crash.js';
import type { Prompter } from '../engine/prompts.js';

const EXIT_USAGE = 2;

class UsageError extends Error {}
/** An import that the saved profiles no longer match: nothing was saved (exit 1, as a declined one). */
class ImportRefused extends Error {}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];
const list = (v: unknown) => (v as string[] | undefined) ?? [];

function configDirOption(): Option {
  return new Option('--config-dir <dir>', 'where profiles are kept (shared with the desktop app)').default(defaultConfigDir(), 'the desktop app\'s folder');
}

async function loadStore(dir: string): Promise<{ store: ProfileStore; loaded: LoadReport }> {
  const store = new ProfileStore(dir);
  const loaded = await store.load();
  if (loaded.problem) process.stderr.write(`tunnelvision: ${loaded.problem.message}\n`);
  return { store, loaded };
}

function describeProfile(p: Profile): string {
  if (p.kind === 'cloudfoundry') {
    const target = p.service ? `service ${p.service}` : `${p.target!.host}:${p.target!.port}`;
    return `${p.id.padEnd(20)} ${p.name.padEnd(24)} cf ${p.app}/${p.instance} in ${p.org}/${p.space} at ${p.api}  -L ${p.local.bindHost}:${p.local.bindPort} → ${target}`;
  }
  const via = p.jumps.length ? ` via ${p.jumps.map((j) => j.host).join(',')}` : '';
  const forwards = p.forwards.map(formatForwardSpec).join(' ');
  return `${p.id.padEnd(20)} ${p.name.padEnd(24)} ${p.server.user ? `${p.server.user}@` : ''}${p.server.host}:${p.server.port}${via}  ${forwards}`;
}

function findProfiles(all: Profile[], names: string[]): Profile[] {
  return names.map((name) => {
    const match = all.find((p) => p.id === name) ?? all.find((p) => p.name.toLowerCase() === name.toLowerCase());
    if (!match) {
      const known = all.length ? `Saved profiles: ${all.map((p) => p.id).join(', ')}.` : 'There are no saved profiles yet (see tunnelvision import, import-ssh-config).';
      throw new UsageError(`No profile named "${name}". ${known}`);
    }
    return match;
  });
}

export function buildProgram(): Command {
  const program = new Command('tunnelvision')
    .description('SSH tunnels you can see: local, remote and SOCKS forwards through jump hosts, supervised.')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  program
    .command('connect')
    .description('open forwards to a server, with OpenSSH\'s flags and ~/.ssh/config')
    .argument('<destination>', '[user@]host[:port], ssh://user@host:port, or a Host alias from ~/.ssh/config')
    .option('-p <port>', 'port to connect to on the server')
    .option('-l <login>', 'user to log in as')
    .option('-i <identity_file>', 'private key file (repeatable)', collect)
    .option('-J <destination>', 'jump hosts, comma-separated: [user@]host[:port][,…]')
    .option('-L <spec>', 'local forward [bind_address:]port:host:hostport (repeatable)', collect)
    .option('-R <spec>', 'remote forward [bind_address:]port:host:hostport (repeatable)', collect)
    .option('-D <spec>', 'dynamic SOCKS forward [bind_address:]port (repeatable)', collect)
    .option('-N', 'accepted for compatibility: Tunnelvision never runs a remote command')
    .option('-F <configfile>', 'ssh config file instead of ~/.ssh/config')
    .option('-o <option>', 'ssh option, Key=Value (repeatable): StrictHostKeyChecking, UserKnownHostsFile, ServerAliveInterval, ServerAliveCountMax, ConnectTimeout, ExitOnForwardFailure, Ciphers, BatchMode, …', collect)
    .option('-c <cipher_spec>', 'ciphers, comma-separated, in order of preference')
    .option('--no-reconnect', 'exit when the connection drops instead of reconnecting')
    .option('--json', 'one JSON object per line on stdout')
    .option('-v', 'verbose: also print connection-level log lines')
    .addHelpText('after', '\nExamples:\n  tunnelvision connect -N -L 13306:db.internal:3306 deploy@bastion.example.com\n  tunnelvision connect -J jump1,jump2 -L 8080:10.0.0.5:80 app-server\n  tunnelvision connect --json -D 1080 myhost')
    .action(async (destination: string, o: Record<string, unknown>) => {
      const flags: ConnectFlags = {
        ...(o.p !== undefined ? { port: String(o.p) } : {}),
        ...(o.l !== undefined ? { login: String(o.l) } : {}),
        identity: list(o.i),
        ...(o.J !== undefined ? { jump: String(o.J) } : {}),
        local: list(o.L),
        remote: list(o.R),
        dynamic: list(o.D),
        ...(o.F !== undefined ? { config: String(o.F) } : {}),
        option: list(o.o),
        ...(o.c !== undefined ? { cipher: String(o.c) } : {}),
        reconnect: o.reconnect !== false,
      };
      const plan = await connectPlan(destination, flags);
      if (!plan.ok) throw new UsageError(formatErrors(plan.errors));
      for (const w of plan.value.warnings) process.stderr.write(`tunnelvision: ${w}\n`);
      process.exitCode = await runTunnels([plan.value.profile], {
        json: !!o.json,
        verbose: !!o.v,
        prompter: plan.value.batch ? {} : askingPrompter(),
      });
    });

  program
    .command('cf')
    .description('forward a local port to a service bound to a Cloud Foundry app, through the app\'s container (as cf ssh -L does)')
    .option('--api <url>', 'the API endpoint, e.g. https://api.sys.example.com')
    .option('--org <org>', 'the org of the app')
    .option('--space <space>', 'the space of the app')
    .option('--app <app>', 'the app whose container reaches the service')
    .option('--instance <n>', 'the app instance to go through', '0')
    .option('--service <name>', 'a service instance bound to the app: its host and port are read from VCAP_SERVICES')
    .option('-L <spec>', 'local end, [bind_address:]port (to --service), or [bind_address:]port:host:hostport')
    .option('--username <user>', 'log in with this user and a password (asked); otherwise the cf CLI\'s login is reused')
    .option('--skip-ssl-validation', 'do not verify the API\'s TLS certificate (lab foundations with self-signed certificates only; warns on every connect)')
    .option('--allow-insecure-http', 'allow an http:// API, login or UAA: the password and tokens travel in clear (lab foundations without TLS only; warns on every connect)')
    .option('--show-password', 'include the service\'s password in the connection details printed')
    .option('--no-reconnect', 'exit when the connection drops instead of reconnecting')
    .option('--json', 'one JSON object per line on stdout')
    .option('-v', 'verbose: also print connection-level log lines')
    .addHelpText('after', '\nExamples:\n  tunnelvision cf --api https://api.sys.example.com --org acme --space dev --app orders --service orders-db -L 13306\n  tunnelvision cf --api https://api.sys.example.com --org acme --space dev --app orders -L 13306:10.0.4.12:3306')
    .action(async (o: Record<string, unknown>) => {
      const str = (v: unknown) => (v === undefined ? undefined : String(v));
      const { cfPlan } = await import('./cfCommand.js');
      const plan = cfPlan({
        api: str(o.api),
        org: str(o.org),
        space: str(o.space),
        app: str(o.app),
        instance: str(o.instance),
        service: str(o.service),
        local: str(o.L),
        username: str(o.username),
        skipSslValidation: !!o.skipSslValidation,
        allowInsecureHttp: !!o.allowInsecureHttp,
        reconnect: o.reconnect !== false,
      });
      if (!plan.ok) throw new UsageError(formatErrors(plan.errors));
      process.exitCode = await runTunnels([plan.value], { json: !!o.json, verbose: !!o.v, prompter: askingPrompter(), showPassword: !!o.showPassword });
    });

  program
    .command('demo')
    .description('open a demo tunnel to a built-in SSH server and web page, all on this machine')
    .option('--port <port>', 'local port for the tunnel', '8580')
    .option('--json', 'one JSON object per line on stdout')
    .action(async (o: { port: string; json?: boolean }) => {
      const port = Number(o.port);
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--port: must be 1–65535, not "${o.port}"`);
      const { startDemo } = await import('../demo/demoServer.js');
      const demo = await startDemo();
      try {
        const profile = demo.profile(port);
        if (!o.json) {
          process.stdout.write(
            [
              'Tunnelvision demo: everything runs on this machine.',
              `  web server     127.0.0.1:${demo.webPort}   (the target; pretend it is unreachable)`,
              `  SSH server     127.0.0.1:${demo.sshPort}   (built in, key ${demo.fingerprint}, allows only forwarding)`,
              `  your tunnel    127.0.0.1:${port} → SSH server → web server`,
              '',
            ].join('\n'),
          );
        }
        process.exitCode = await runTunnels([profile], {
          json: !!o.json,
          verbose: false,
          prompter: {},
          secrets: demo.secrets,
          onAllOpen: () => [`Open http://127.0.0.1:${port}/ in your browser: the page travels through the tunnel.`],
        });
      } finally {
        await demo.dispose();
      }
    });

  program
    .command('doctor')
    .description('check this installation: versions, ssh2 native crypto, CPU AES support')
    .action(async () => {
      const { cryptoReport } = await import('../engine/nativeCrypto.js');
      const { preferredCiphers } = await import('../engine/algorithms.js');
      const report = cryptoReport();
      const lines = [
        `tunnelvision ${VERSION}, Node.js ${process.versions.node}`,
        `ssh2 native crypto binding: ${report.nativeBinding ? 'loaded' : 'NOT loaded (tunnels work, with slower ciphers; run npm rebuild ssh2)'}`,
        `CPU AES instructions: ${report.aesNi === undefined ? 'unknown (cpu-features not installed)' : report.aesNi ? 'yes' : 'no'}`,
        `cipher preference (when a profile or -c names none): ${preferredCiphers(report).join(', ')}`,
        `profiles: ${defaultConfigDir()}`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });

  program
    .command('list')
    .description('list saved profiles')
    .addOption(configDirOption())
    .option('--json', 'print the profiles as JSON')
    .action(async (o: { configDir: string; json?: boolean }) => {
      const { loaded } = await loadStore(o.configDir);
      const { exportProfiles } = await import('../profiles/transfer.js');
      if (o.json) process.stdout.write(`${JSON.stringify(exportProfiles(loaded.profiles).profiles, null, 2)}\n`);
      else if (loaded.profiles.length === 0) process.stdout.write(`No saved profiles in ${o.configDir}.\n`);
      else process.stdout.write(`${loaded.profiles.map(describeProfile).join('\n')}\n`);
    });

  program
    .command('up')
    .description('open saved profiles in the foreground')
    .argument('<profile...>', 'profile ids or names')
    .addOption(configDirOption())
    .option('--json', 'one JSON object per line on stdout')
    .option('-v', 'verbose: also print connection-level log lines')
    .option('--show-password', 'include Cloud Foundry services\' passwords in the connection details printed')
    .action(async (names: string[], o: { configDir: string; json?: boolean; v?: boolean; showPassword?: boolean }) => {
      const { loaded } = await loadStore(o.configDir);
      const profiles = findProfiles(loaded.profiles, names);
      process.exitCode = await runTunnels(profiles, { json: !!o.json, verbose: !!o.v, prompter: askingPrompter(), showPassword: !!o.showPassword });
    });

  program
    .command('import')
    .description('review, then merge profiles from a JSON export into the saved ones (by id)')
    .argument('<file>', 'a file written by tunnelvision export, or - for standard input')
    .addOption(configDirOption())
    .option('--yes', 'import without asking (for scripts); the review is still printed')
    .addHelpText('after', IMPORT_HELP)
    .action(async (file: string, o: { configDir: string; yes?: boolean }) => {
      const text = file === '-' ? await readStdin() : await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
        throw new UsageError(`Cannot read ${file}: ${err.code ?? err.message}`);
      });
      await importReviewed(o.configDir, { json: text, skipped: [], notes: [] }, { source: file, yes: !!o.yes, stdinIsData: file === '-' });
    });

  program
    .command('export')
    .description('write saved profiles as JSON, without secrets')
    .addOption(configDirOption())
    .option('--output <file>', 'write to a file instead of standard output')
    .action(async (o: { configDir: string; output?: string }) => {
      const { loaded } = await loadStore(o.configDir);
      const { exportProfiles } = await import('../profiles/transfer.js');
      const text = `${JSON.stringify(exportProfiles(loaded.profiles), null, 2)}\n`;
      if (o.output) await writeFile(o.output, text, { mode: 0o600 });
      else process.stdout.write(text);
    });

  program
    .command('import-ssh-config')
    .description('review, then save a profile for every Host in an ssh config that has forwards')
    .argument('[file]', 'ssh config file; a file other than your own ~/.ssh/config is treated as received: its Include lines are not followed', '~/.ssh/config')
    .addOption(configDirOption())
    .option('--yes', 'import without asking (for scripts); the review is still printed')
    .addHelpText('after', IMPORT_HELP)
    .action(async (file: string, o: { configDir: string; yes?: boolean }) => {
      const { incomingFromSshConfig } = await import('../profiles/importReview.js');
      let parsed: Parsed<SshConfigImport & { ignoredIncludes?: number }>;
      if (file === '~/.ssh/config') {
        parsed = importSshConfig(await loadSshConfig());
      } else {
        const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
          throw new UsageError(`Cannot read ${file}: ${err.code ?? err.message}`);
        });
        parsed = importSshConfigText(text, file);
      }
      const incoming = incomingFromSshConfig(parsed);
      if ('error' in incoming) {
        process.stderr.write(`tunnelvision: ${incoming.error.replace(/\n/g, '\n  ')}\n`);
        process.exitCode = 1;
        return;
      }
      await importReviewed(o.configDir, incoming, { source: file, yes: !!o.yes, stdinIsData: false });
    });

  return program;
}

const IMPORT_HELP = `
Before anything is saved, the review lists every incoming profile (add, update or unchanged) with
the fields that change what it trusts or exposes: host-key checking other than yes, known_hosts
files, key files, agent sockets, binds beyond loopback, ciphers, Cloud Foundry's cf home, skip-TLS
and http. Imported profiles never keep secret references (passwordRef, passphraseRef,
refreshTokenRef) and never start at launch. On a terminal you are asked to confirm (y/N); without
one, nothing is imported unless --yes is given.

Exit status: 0 imported, 1 declined, not an export, or some profiles skipped, 2 wrong usage
(including no terminal and no --yes).`;

/** Prints the review, asks (or takes --yes), then merges under the store's lock. */
async function importReviewed(configDir: string, incoming: IncomingProfiles, how: { source: string; yes: boolean; stdinIsData: boolean }): Promise<void> {
  const { reviewImport, formatReview } = await import('../profiles/importReview.js');
  const { loaded } = await loadStore(configDir);
  const reviewed = reviewImport(loaded.profiles, incoming.json, incoming.notes);
  if ('error' in reviewed) {
    process.stderr.write(`tunnelvision: ${how.source}: ${reviewed.error}\n`);
    process.exitCode = 1;
    return;
  }
  const review = { ...reviewed.review, skipped: [...incoming.skipped, ...reviewed.review.skipped] };
  process.stdout.write(formatReview(review));
  const changes = review.entries.filter((e) => e.action !== 'unchanged').length;
  if (changes > 0 && !how.yes) {
    if (how.stdinIsData || !process.stdin.isTTY) {
      throw new UsageError('Nothing imported: there is no terminal to confirm on. Read the review above, then run again with --yes to import it.');
    }
    if (!(await confirm(`Import ${changes} profile${changes === 1 ? '' : 's'} as reviewed above? [y/N] `))) {
      process.stderr.write('tunnelvision: nothing imported.\n');
      process.exitCode = 1;
      return;
    }
  }
  const report = await mergeIntoStore(configDir, incoming.json, how.source, reviewed.basis);
  const skipped = [...incoming.skipped, ...report.skipped];
  printImportReport(report.added, report.updated, report.unchanged, skipped.map((s) => `${s.entry}: ${s.reason}`));
  for (const c of report.cleared) process.stdout.write(`cleared ${c.id}: ${c.fields.join(', ')}\n`);
  // A Host without forwards is no failure; an export entry that does not validate is.
  if (report.skipped.length > 0) process.exitCode = 1;
}

/** One y/N question on the terminal; anything but y or yes is no. */
function confirm(question: string): Promise<boolean> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    let answered = false;
    rl.question(question, (answer) => {
      answered = true;
      rl.close();
      resolve(/^y(es)?$/i.test(answer.trim()));
    });
    rl.once('close', () => {
      if (!answered) resolve(false);
    });
  });
}

/** Merges exported JSON into the saved profiles under the store's lock (the desktop app may be saving too). */
async function mergeIntoStore(configDir: string, text: string, source: string, reviewed: string): Promise<ImportReport> {
  const store = new ProfileStore(configDir);
  const { importProfiles } = await import('../profiles/transfer.js');
  const { result, problem } = await store.update((profiles) => {
    // Refused if the desktop app (or another run) saved a profile that changes what was reviewed.
    const merged = importProfiles(profiles, text, reviewed);
    if ('error' in merged) throw new ImportRefused(`${source}: ${merged.error}`);
    profiles.splice(0, profiles.length, ...merged.profiles);
    return merged.report;
  });
  if (problem) process.stderr.write(`tunnelvision: ${problem.message}\n`);
  return result;
}

function printImportReport(added: string[], updated: string[], unchanged: string[], skipped: string[]): void {
  const line = (label: string, ids: string[]) => `${label} ${ids.length}${ids.length ? `: ${ids.join(', ')}` : ''}`;
  process.stdout.write(`${[line('added', added), line('updated', updated), line('unchanged', unchanged)].join('; ')}\n`);
  for (const s of skipped) process.stdout.write(`skipped ${s}\n`);
}

/** The terminal/askpass prompter, with every answer remembered so a crash report can leave it out. */
function askingPrompter(): Prompter {
  const p = cliPrompter();
  const keep = <T>(answer: T): T => {
    (Array.isArray(answer) ? answer : [answer]).forEach(rememberSecret);
    return answer;
  };
  return {
    ...p,
    ...(p.password ? { password: (q) => p.password!(q).then(keep) } : {}),
    ...(p.passphrase ? { passphrase: (q) => p.passphrase!(q).then(keep) } : {}),
    ...(p.keyboardInteractive ? { keyboardInteractive: (q) => p.keyboardInteractive!(q).then(keep) } : {}),
  };
}

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT_USAGE;
    if (err instanceof UsageError) {
      process.stderr.write(`tunnelvision: ${err.message.replace(/\n/g, '\n  ')}\n`);
      return EXIT_USAGE;
    }
    if (err instanceof ImportRefused) {
      process.stderr.write(`tunnelvision: ${err.message}\n`);
      return 1;
    }
    if (err instanceof TunnelError) {
      process.stderr.write(`tunnelvision: ${describeError(err)}\n`);
      return err.code === 'CONFIG_INVALID' ? EXIT_USAGE : EXIT_FAILED;
    }
    if (err instanceof ProfileStoreError) {
      process.stderr.write(`tunnelvision: ${err.message}\n`);
      return EXIT_FAILED;
    }
    // A bug: its name, message and stack frames, without any secret the run was given.
    process.stderr.write(crashReport('tunnelvision', 'error', err));
    return EXIT_FAILED;
  }
}
