// How the CLI asks a person: on the terminal when there is one (input hidden for secrets), else
// through SSH_ASKPASS the way OpenSSH decides (DISPLAY/WAYLAND_DISPLAY set, or
// SSH_ASKPASS_REQUIRE=force; never with SSH_ASKPASS_REQUIRE=never). With neither, nothing is asked
// and the engine fails the attempt with a clear reason.
import { execFile } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Prompter } from '../engine/prompts.js';
import type { HostKeyQuestion } from '../engine/hostKeys.js';
import { stripControls } from '../shared/terminalText.js';

export function hostKeyQuestionText(q: HostKeyQuestion): string {
  const keyName = q.key.type.replace(/^ssh-/, '').replace(/^ecdsa-sha2-nistp\d+$/, 'ecdsa').toUpperCase();
  const others = q.otherTypes.length ? `\nThe host is known by other key types (${q.otherTypes.map((k) => k.type).join(', ')}), but not this one.` : '';
  return `The authenticity of host ${q.hop} can't be established.\n${keyName} key fingerprint is ${q.key.fingerprint}.${others}\nAre you sure you want to continue connecting (yes/no)? `;
}

type Ask = (text: string, secret: boolean) => Promise<string | null>;

function terminalAsk(input: Readable & { isTTY?: boolean; setRawMode?: (on: boolean) => void }, output: Writable): Ask {
  return (text, secret) =>
    new Promise((resolve) => {
      const rl = createInterface({ input, output, terminal: true });
      if (secret) {
        // Echo nothing while the secret is typed; readline still handles editing keys.
        (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
          if (s.startsWith(text)) output.write(text);
        };
      }
      let answered = false;
      rl.question(text, (answer) => {
        answered = true;
        if (secret) output.write('\n');
        rl.close();
        resolve(answer);
      });
      rl.once('close', () => {
        if (!answered) resolve(null);
      });
      rl.once('SIGINT', () => rl.close());
    });
}

function askpassAsk(program: string, env: NodeJS.ProcessEnv): (text: string, confirm: boolean) => Promise<string | null> {
  return (text, confirm) =>
    new Promise((resolve) => {
      execFile(program, [text], { env: { ...env, ...(confirm ? { SSH_ASKPASS_PROMPT: 'confirm' } : {}) } }, (err, stdout) => {
        if (err) resolve(null);
        else resolve(stdout.replace(/\r?\n$/, ''));
      });
    });
}

export function cliPrompter(opts: { input?: Readable & { isTTY?: boolean }; output?: Writable; env?: NodeJS.ProcessEnv } = {}): Prompter {
  const input = opts.input ?? process.stdin;
  const output = opts.output ?? process.stderr;
  const env = opts.env ?? process.env;
  const require = env.SSH_ASKPASS_REQUIRE;
  const useAskpass = !!env.SSH_ASKPASS && require !== 'never' && (require === 'force' || (!input.isTTY && !!(env.DISPLAY || env.WAYLAND_DISPLAY)));
  let ask: (text: string, secret: boolean, confirm: boolean) => Promise<string | null>;
  if (useAskpass) {
    const viaAskpass = askpassAsk(env.SSH_ASKPASS!, env);
    ask = (text, _secret, confirm) => viaAskpass(text, confirm);
  } else if (input.isTTY) {
    const viaTerminal = terminalAsk(input, output);
    ask = (text, secret) => viaTerminal(text, secret);
  } else {
    return {};
  }
  return {
    async hostKey(q) {
      for (;;) {
        const answer = await ask(hostKeyQuestionText(q), false, true);
        if (answer === null) return false;
        const a = answer.trim().toLowerCase();
        // ssh-askpass's confirm mode answers with an empty line for OK.
        if (a === 'yes' || (useAskpass && a === '')) return true;
        if (a === 'no') return false;
        if (useAskpass) return false;
        output.write('Please type \'yes\' or \'no\': ');
      }
    },
    passphrase: (q) => ask(`${q.retry ? 'Bad passphrase, try again. ' : ''}Enter passphrase for key '${q.keyFile}': `, true, false),
    password: (q) => ask(`${q.retry ? 'Permission denied, please try again.\n' : ''}${q.user}@${q.hop.replace(/^[^@]*@/, '')}'s password: `, true, false),
    async keyboardInteractive(q) {
      // The engine already strips these; a terminal is where they would do harm, so again here.
      const name = stripControls(q.name);
      const instructions = stripControls(q.instructions);
      if (name) output.write(`${name}\n`);
      if (instructions) output.write(`${instructions}\n`);
      const answers: string[] = [];
      for (const p of q.prompts) {
        const a = await ask(stripControls(p.prompt), !p.echo, false);
        if (a === null) return null;
        answers.push(a);
      }
      return answers;
    },
  };
}
