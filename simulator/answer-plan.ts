import { jsonExample } from './json-example.js';
import { CHARS_PER_TOKEN, completionTokenText } from './token-count.js';

/**
 * What a chat completion or a Responses API answer says when the request asks for more than one plain
 * text choice: `n` choices, a tool call (`tools` / `tool_choice`), or JSON (`response_format`,
 * `text.format`). Decided from the request body alone, deterministically, so that tests can predict it.
 */

/** A tool call the answer makes instead of content. */
export interface ToolCallPlan {
  readonly name: string;
  /**
   * The request named this function in `tool_choice`. OpenAI then ends the choice with
   * `finish_reason: "stop"`, not `"tool_calls"` (observed behaviour of the real API; see docs/simulator.md).
   */
  readonly forcedByName: boolean;
}

/** An answer that is not one plain text choice. */
export interface AnswerPlan {
  /** Choices generated (`n`); every token count of the generation is the sum over them. */
  readonly choices: number;
  /**
   * The tokens of one choice, when they are not the simulator's word list: a JSON text's pieces, or a tool
   * call's `arguments` pieces (4 characters each). Null: the word list (`completionTokenText`).
   */
  readonly pieces: readonly string[] | null;
  readonly toolCall: ToolCallPlan | null;
  /** Responses API: the request's `text.format`, echoed on the response object. */
  readonly textFormat: Record<string, unknown> | null;
  /** Responses API: the request's function tools and tool choice, echoed on the response object. */
  readonly tools: readonly unknown[];
  readonly toolChoice: unknown;
}

/** A plan, `null` for one plain text choice (the fast path), or a 400 to answer. */
export type PlanResult =
  | { readonly ok: true; readonly plan: AnswerPlan | null }
  | { readonly ok: false; readonly message: string; readonly param: string };

const MAX_CHOICES = 128;

type Body = Record<string, unknown>;

function record(value: unknown): Body | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Body) : undefined;
}

function invalid(param: string, message: string): PlanResult {
  return { ok: false, param, message };
}

/** A text cut into pieces of {@link CHARS_PER_TOKEN} characters, one token each. */
export function textPieces(text: string): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += CHARS_PER_TOKEN) pieces.push(text.slice(i, i + CHARS_PER_TOKEN));
  return pieces.length > 0 ? pieces : [''];
}

/** `{"answer":"<words>"}` as word tokens: the JSON-mode answer, valid JSON once every token has come. */
function jsonObjectPieces(tokens: number): string[] {
  const words = Array.from({ length: Math.max(1, tokens) }, (_, k) => completionTokenText(k));
  words[0] = `{"answer":"${words[0]!}`;
  words[words.length - 1] += '"}';
  return words;
}

/** All the text of a chat request's messages (for the "json" word check). */
function mentionsJson(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return /json/i.test(value);
  if (depth > 6 || typeof value !== 'object' || value === null) return false;
  return Object.values(value).some((v) => mentionsJson(v, depth + 1));
}

function choicesOf(body: Body): number | PlanResult {
  const n = body.n;
  if (n === undefined || n === null) return 1;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_CHOICES)
    return invalid('n', `Invalid 'n': expected an integer from 1 to ${MAX_CHOICES}, got ${JSON.stringify(n)}.`);
  return n;
}

interface ToolDecision {
  readonly call: (ToolCallPlan & { readonly parameters: unknown }) | null;
}

/**
 * The tool call an answer makes: none for `tool_choice: "none"` or without tools; the named function
 * when one is forced; the first tool for `"required"`; for `"auto"` (the default with tools) the first
 * tool unless the conversation ends with a tool's result, so that a tool round trip ends in text.
 */
function decideTool(
  tools: readonly { name: string; parameters: unknown }[],
  choice: unknown,
  namedChoice: string | undefined,
  answeredByTool: boolean,
): ToolDecision | PlanResult {
  if (tools.length === 0) {
    if (choice !== undefined && choice !== null && choice !== 'none' && choice !== 'auto')
      return invalid(
        'tool_choice',
        "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
      );
    return { call: null };
  }
  if (namedChoice !== undefined) {
    const tool = tools.find((t) => t.name === namedChoice);
    if (tool === undefined)
      return invalid('tool_choice', `Invalid value for 'tool_choice': no function named '${namedChoice}' in 'tools'.`);
    return { call: { ...tool, forcedByName: true } };
  }
  if (choice === 'none') return { call: null };
  if (choice === 'required' || !answeredByTool) return { call: { ...tools[0]!, forcedByName: false } };
  return { call: null };
}

function plan(
  choices: number,
  decision: ToolDecision,
  jsonPieces: readonly string[] | null,
  echo: Pick<AnswerPlan, 'textFormat' | 'tools' | 'toolChoice'>,
): AnswerPlan | null {
  const call = decision.call;
  const plain = call === null && jsonPieces === null && choices === 1;
  if (plain && echo.textFormat === null && echo.tools.length === 0) return null;
  return {
    choices,
    pieces: call !== null ? textPieces(JSON.stringify(jsonExample(call.parameters))) : jsonPieces,
    toolCall: call === null ? null : { name: call.name, forcedByName: call.forcedByName },
    ...echo,
  };
}

/**
 * Plans a chat completion from its body: `n`, `tools` (function tools) with `tool_choice`, and
 * `response_format` (`json_object`: `{"answer":"…"}` of `tokens` words, which needs the word "json" in
 * the messages as the real API does; `json_schema`: an example of the schema).
 *
 * @example
 * planChatAnswer({ n: 2, messages: [] }, 16) // → { ok: true, plan: { choices: 2, pieces: null, … } }
 */
export function planChatAnswer(body: Body, tokens: number): PlanResult {
  const choices = choicesOf(body);
  if (typeof choices !== 'number') return choices;
  const tools = (Array.isArray(body.tools) ? body.tools : []).flatMap((t) => {
    const fn = record(record(t)?.function);
    return record(t)?.type === 'function' && typeof fn?.name === 'string'
      ? [{ name: fn.name, parameters: fn.parameters }]
      : [];
  });
  const named = record(record(body.tool_choice)?.function)?.name;
  const messages = Array.isArray(body.messages) ? body.messages : [];
  const lastRole = record(messages.at(-1))?.role;
  const decision = decideTool(
    tools,
    body.tool_choice,
    typeof named === 'string' ? named : undefined,
    lastRole === 'tool' || lastRole === 'function',
  );
  if ('ok' in decision) return decision;
  const format = record(body.response_format);
  let jsonPieces: string[] | null = null;
  if (format?.type === 'json_object') {
    if (!mentionsJson(body.messages))
      return invalid(
        'messages',
        "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
      );
    jsonPieces = jsonObjectPieces(tokens);
  } else if (format?.type === 'json_schema') {
    jsonPieces = textPieces(JSON.stringify(jsonExample(record(format.json_schema)?.schema)));
  }
  return { ok: true, plan: plan(choices, decision, jsonPieces, { textFormat: null, tools: [], toolChoice: null }) };
}

/**
 * Plans a Responses API answer: function `tools` with `tool_choice` (auto: a call unless the input ends
 * with a `function_call_output`), and `text.format` (`json_object`, `json_schema`). The Responses API has
 * no `n`.
 *
 * @example
 * planResponsesAnswer({ input: 'hi', tools: [{ type: 'function', name: 'f' }] }, 16).plan?.toolCall?.name // → 'f'
 */
export function planResponsesAnswer(body: Body, tokens: number): PlanResult {
  const rawTools = Array.isArray(body.tools) ? body.tools : [];
  const tools = rawTools.flatMap((t) => {
    const tool = record(t);
    return tool?.type === 'function' && typeof tool.name === 'string'
      ? [{ name: tool.name, parameters: tool.parameters }]
      : [];
  });
  const choiceRecord = record(body.tool_choice);
  const named = choiceRecord?.type === 'function' ? choiceRecord.name : undefined;
  const input = Array.isArray(body.input) ? body.input : [];
  const decision = decideTool(
    tools,
    body.tool_choice,
    typeof named === 'string' ? named : undefined,
    record(input.at(-1))?.type === 'function_call_output',
  );
  if ('ok' in decision) return decision;
  const format = record(record(body.text)?.format);
  let jsonPieces: string[] | null = null;
  if (format?.type === 'json_object') {
    if (!mentionsJson(body.input) && !mentionsJson(body.instructions))
      return invalid(
        'input',
        "Response input messages must contain the word 'json' in some form to use 'text.format' of type 'json_object'.",
      );
    jsonPieces = jsonObjectPieces(tokens);
  } else if (format?.type === 'json_schema') {
    jsonPieces = textPieces(JSON.stringify(jsonExample(format.schema)));
  }
  const echo = {
    textFormat: format ?? null,
    tools: tools.length > 0 ? rawTools.filter((t) => record(t)?.type === 'function') : [],
    toolChoice: body.tool_choice ?? null,
  };
  return { ok: true, plan: plan(1, decision, jsonPieces, echo) };
}
