import {
  AZURE_FILTER_RESULTS,
  choiceCount,
  choiceText,
  frameOf,
  openAiUsage,
  pieceText,
  sseData,
  toolCallId,
  type Generation,
} from './generation.js';

/**
 * Chat completions for an answer with a plan ({@link Generation.answer}): `n` choices, a tool call per
 * choice, or JSON content. Streams interleave the choices one token at a time, as the real API does;
 * a tool call streams as a first delta with its id and name, then `arguments` pieces.
 */

/** `length` when cut by max tokens; `tool_calls` for a tool call, `stop` when the request named the function. */
export function finishReason(g: Generation): string {
  if (g.truncated) return 'length';
  const call = g.answer?.toolCall;
  return call && !call.forcedByName ? 'tool_calls' : 'stop';
}

function message(g: Generation, choice: number, text: string): Record<string, unknown> {
  const call = g.answer?.toolCall;
  if (!call) return { role: 'assistant', content: text, refusal: null, annotations: [] };
  return {
    role: 'assistant',
    content: null,
    tool_calls: [{ id: toolCallId(g, choice), type: 'function', function: { name: call.name, arguments: text } }],
    refusal: null,
    annotations: [],
  };
}

/** The non-streaming `choices` array. */
export function planChoices(g: Generation): Record<string, unknown>[] {
  const text = choiceText(g);
  const reason = finishReason(g);
  return Array.from({ length: choiceCount(g) }, (_, index) => {
    const choice: Record<string, unknown> = {
      index,
      message: message(g, index, text),
      logprobs: null,
      finish_reason: reason,
    };
    if (g.azure) choice.content_filter_results = AZURE_FILTER_RESULTS;
    return choice;
  });
}

/** Frames of a planned chat stream, given the chunk prefix (`{"id":…,"choices":[`) and suffix (`]…}`). */
export function planStreamFrames(
  g: Generation,
  head: string,
  tail: string,
): { open: string; token: (i: number) => string; close: string } {
  const call = g.answer?.toolCall;
  const chunk = (index: number, delta: string, finish: string | null): string => {
    const reason = finish === null ? 'null' : `"${finish}"`;
    return sseData(`${head}{"index":${index},"delta":${delta},"logprobs":null,"finish_reason":${reason}}${tail}`);
  };
  let open = '';
  let close = '';
  for (let c = 0; c < choiceCount(g); c++) {
    const fn = call ? `{"name":${JSON.stringify(call.name)},"arguments":""}` : '';
    const toolCalls = call
      ? `,"tool_calls":[{"index":0,"id":"${toolCallId(g, c)}","type":"function","function":${fn}}]`
      : '';
    open += chunk(c, `{"role":"assistant","content":${call ? 'null' : '""'}${toolCalls},"refusal":null}`, null);
    close += chunk(c, '{}', finishReason(g));
  }
  const token = (i: number): string => {
    const { choice, token: k } = frameOf(g, i);
    const piece = JSON.stringify(pieceText(g, k));
    const delta = call ? `{"tool_calls":[{"index":0,"function":{"arguments":${piece}}}]}` : `{"content":${piece}}`;
    return chunk(choice, delta, null);
  };
  return { open, token, close };
}

/** The usage-only chunk (`choices: []`) sent last when `include_usage` was asked for. */
export function usageChunk(g: Generation, fingerprint: string): string {
  return sseData(
    JSON.stringify({
      id: g.id,
      object: 'chat.completion.chunk',
      created: g.createdS,
      model: g.model,
      system_fingerprint: fingerprint,
      choices: [],
      usage: openAiUsage(g),
    }),
  );
}
