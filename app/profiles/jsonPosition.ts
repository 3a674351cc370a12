// Where a text stops being JSON, as a line and column: JSON.parse's own message quotes the input,
// and an import must never echo a file it was handed (it may be a private key picked by mistake).
// A plain recursive-descent check of RFC 8259 grammar, run only after JSON.parse has failed.

export interface TextPosition {
  line: number;
  column: number;
}

class Stop {
  constructor(readonly at: number) {}
}

const LITERALS = ['true', 'false', 'null'];

function scan(text: string): number | undefined {
  let i = 0;
  const fail = (): never => {
    throw new Stop(i);
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i += 1;
  };
  const expect = (c: string) => (text[i] === c ? (i += 1) : fail());
  const string = () => {
    expect('"');
    for (;;) {
      const c = text[i];
      if (c === undefined || c < ' ') fail();
      i += 1;
      if (c === '"') return;
      if (c === '\\') {
        const e = text[i];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail();
          i += 5;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 1;
        else fail();
      }
    }
  };
  const number = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m) fail();
    i += m![0].length;
  };
  const value = (depth: number): void => {
    if (depth > 512) fail();
    ws();
    const c = text[i];
    if (c === '{') {
      i += 1;
      ws();
      if (text[i] === '}') return void (i += 1);
      for (;;) {
        ws();
        string();
        ws();
        expect(':');
        value(depth + 1);
        ws();
        if (text[i] === '}') return void (i += 1);
        expect(',');
      }
    }
    if (c === '[') {
      i += 1;
      ws();
      if (text[i] === ']') return void (i += 1);
      for (;;) {
        value(depth + 1);
        ws();
        if (text[i] === ']') return void (i += 1);
        expect(',');
      }
    }
    if (c === '"') return string();
    const literal = LITERALS.find((l) => text.startsWith(l, i));
    if (literal) return void (i += literal.length);
    number();
  };
  try {
    value(0);
    ws();
    return i < text.length ? i : undefined;
  } catch (err) {
    if (err instanceof Stop) return err.at;
    throw err;
  }
}

/** The first offending character's line and column (1-based); undefined if the text is JSON. */
export function jsonErrorPosition(text: string): TextPosition | undefined {
  const at = scan(text);
  if (at === undefined) return undefined;
  const before = text.slice(0, at).split('\n');
  return { line: before.length, column: before.at(-1)!.length + 1 };
}
