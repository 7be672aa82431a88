/**
 * A tool result's JSON, written once. A tool returns its structuredContent and the same JSON as
 * text (the house rule); `ok()` already serialises the object for that text, and the SDK's stdio
 * transport then serialised the whole response again, object included (a healthCheck quick
 * report is ~2 KB). `ok()` notes the text it made for each object here, and the stdio transport
 * splices that text in as the structuredContent instead of serialising the object a second time.
 * Any other message, or a result whose object is not the noted one (a wrapper replaced a member),
 * is serialised as the SDK does. Main thread only.
 */

/**
 * The objects `ok()` serialised, by their JSON text, newest last. The SDK checks a tool's result
 * against the protocol schema and sends the checked copy: a shallow copy of structuredContent
 * whose members are the original's own objects. So the text is found by the first content
 * block's text, and the copy accepted when its members are the noted object's, in order. Bounded:
 * a result that is never sent (a cancelled call) is forgotten after MAX_NOTED newer ones.
 */
interface Noted {
  text: string;
  structured: object;
  escaped: string | undefined;
}
/**
 * Newest last. Searched by identity of the text (the SDK passes ok()'s own string along), so a
 * 2 KB text is never hashed as a Map key would be; a few entries at most are ever pending.
 */
const noted: Noted[] = [];
const MAX_NOTED = 32;

/**
 * Notes that `text` is JSON.stringify(structured), made when the result was built; `escaped`, when
 * given, is JSON.stringify(text) without its quotes (json-fragments.ts makes both at once).
 */
export function noteResultJson(structured: object, text: string, escaped?: string): void {
  noted.push({ text, structured, escaped });
  if (noted.length > MAX_NOTED) noted.shift();
}

/** Takes the newest note for `text` (equal strings compare by identity first, so this is cheap). */
function takeNote(text: string): Noted | undefined {
  for (let i = noted.length - 1; i >= 0; i--) if (noted[i]!.text === text) return noted.splice(i, 1)[0];
  return undefined;
}

/** Whether `result` is exactly `{ content: [{ type: 'text', text }], structuredContent }`, in that order. */
function plainTextResult(result: ResultLike): boolean {
  const keys = Object.keys(result);
  if (keys.length !== 2 || keys[0] !== 'content' || keys[1] !== 'structuredContent') return false;
  const content = result.content as unknown[];
  if (content.length !== 1) return false;
  const block = content[0] as Record<string, unknown>;
  const bk = Object.keys(block);
  return bk.length === 2 && bk[0] === 'type' && bk[1] === 'text' && block.type === 'text';
}

/** Whether `copy` has exactly `original`'s members, in the same order, holding the same values. */
function sameMembers(copy: object, original: object): boolean {
  if (copy === original) return true;
  const a = Object.keys(copy);
  const b = Object.keys(original);
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const k = a[i]!;
    if (k !== b[i] || (copy as Record<string, unknown>)[k] !== (original as Record<string, unknown>)[k]) return false;
  }
  return true;
}

interface ResultLike {
  content?: unknown;
  structuredContent?: unknown;
}

/**
 * The newline-terminated line for `message`, reusing the noted JSON of its structuredContent; or
 * undefined when there is none to reuse (the caller then serialises the message as usual). The
 * result comes last in the envelope and the object last in the result: JSON member order carries
 * no meaning.
 */
export function lineWithNotedJson(message: unknown): string | undefined {
  if (message === null || typeof message !== 'object') return undefined;
  const { result, ...envelope } = message as { result?: ResultLike };
  if (result === null || typeof result !== 'object') return undefined;
  const sc = result.structuredContent;
  if (sc === null || typeof sc !== 'object' || !Array.isArray(result.content)) return undefined;
  const text = (result.content[0] as { text?: unknown } | undefined)?.text;
  if (typeof text !== 'string') return undefined;
  const kept = takeNote(text);
  // Found by its text and holding the same members: both copies on the wire are one JSON.
  if (kept === undefined) return undefined;
  if (!sameMembers(sc, kept.structured)) {
    noted.push(kept); // not this message's: left for the one it belongs to
    return undefined;
  }
  const head = JSON.stringify(envelope); // {"jsonrpc":"2.0","id":7}
  const open = head.length > 2 ? `${head.slice(0, -1)},` : '{';
  // The usual result, with the text's escape made alongside it: what JSON.stringify would write.
  if (kept.escaped !== undefined && plainTextResult(result))
    return `${open}"result":{"content":[{"type":"text","text":"${kept.escaped}"}],"structuredContent":${text}}}\n`;
  const body = JSON.stringify({ ...result, structuredContent: undefined }); // {"content":[...]}, never empty
  return `${open}"result":${body.slice(0, -1)},"structuredContent":${text}}}\n`;
}
