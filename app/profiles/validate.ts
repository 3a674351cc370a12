// Parsing untrusted input (import files, CLI flags, IPC payloads) into profiles: either the value
// or every problem found, each with the field a person has to fix. Never throws.
import type { z } from 'zod';
import { profileFileSchema, profileSchema, type Profile, type ProfileFile } from './schema.js';

export interface FieldError {
  /** `forwards[1].bindPort`; empty for the value as a whole. */
  path: string;
  message: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  if (issue.code === 'invalid_type' && issue.input === undefined) return 'is required';
  // zod's own wording ("Invalid input: expected object, received string") reads as an internal error.
  const zodDefault = /^Invalid input: expected (\w+), received (\w+)$/.exec(issue.message);
  if (zodDefault) return `must be ${article(zodDefault[1]!)}, not ${article(zodDefault[2]!)}`;
  return issue.message;
}

function article(word: string): string {
  if (word === 'null' || word === 'undefined') return word;
  return `${/^[aeiou]/.test(word) ? 'an' : 'a'} ${word}`;
}

export function parseWith<S extends z.ZodType>(schema: S, input: unknown, prefix: readonly PropertyKey[] = []): Parsed<z.output<S>> {
  // reportInput lets issueMessage tell a missing field from a wrong type; the input is never echoed.
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return { ok: true, value: result.data };
  return {
    ok: false,
    errors: result.error.issues.map((issue) => ({ path: formatPath([...prefix, ...issue.path]), message: issueMessage(issue) })),
  };
}

export const parseProfile = (input: unknown): Parsed<Profile> => parseWith(profileSchema, input);
export const parseProfileFile = (input: unknown): Parsed<ProfileFile> => parseWith(profileFileSchema, input);

/** `forwards[1].bindPort: must be 1–65535` — one line per problem. */
export function formatErrors(errors: readonly FieldError[]): string {
  return errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join('\n');
}
