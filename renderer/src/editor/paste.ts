// Forwards pasted the way they are written for ssh: `-L 13306:db:3306`, `-D1080`, or a whole
// `ssh -N -L … -R … host` line, of which only the forwarding flags are taken.
import type { Forward } from '../../../app/profiles/schema.js';
import { parseForwardSpec } from '../../../app/profiles/forwardSpec.js';

const KINDS: Record<string, Forward['type']> = { '-L': 'local', '-R': 'remote', '-D': 'dynamic' };

export type Pasted = { ok: true; forwards: Forward[] } | { ok: false; message: string };

export function parsePastedForwards(text: string): Pasted {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const forwards: Forward[] = [];
  const problems: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    const flag = word.slice(0, 2);
    const kind = KINDS[flag];
    if (!kind) continue;
    const spec = word.length > 2 ? word.slice(2) : words[++i];
    if (spec === undefined) {
      problems.push(`${flag} needs an argument`);
      continue;
    }
    const parsed = parseForwardSpec(kind, spec);
    if (parsed.ok) forwards.push(parsed.value);
    else problems.push(...parsed.errors.map((e) => e.message));
  }
  if (problems.length > 0) return { ok: false, message: problems.join('; ') };
  if (forwards.length === 0) return { ok: false, message: 'No -L, -R or -D forward found; write e.g. -L 13306:db.internal:3306' };
  return { ok: true, forwards };
}
