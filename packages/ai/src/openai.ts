// The tools as OpenAI function-calling definitions (Chat Completions and Responses), and an
// executor that runs a model's tool calls and answers with tool messages.
import { z } from 'zod'
import { toolError } from './errors.js'
import type { MailroomTool, ToolResult } from './tools.js'

/**
 * A JSON Schema object (what `parameters` of a function tool holds).
 *
 * @example
 * const schema: JsonSchema = jsonSchemaOf(tool.inputSchema) // { type: 'object', properties: {...}, ... }
 */
export type JsonSchema = Record<string, unknown>

/**
 * A tool's argument schema as JSON Schema (draft 2020-12, without `$schema`), describing what the
 * model may send: fields with defaults are optional.
 *
 * @example
 * jsonSchemaOf(z.object({ limit: z.number().int().default(10) })) // { type: 'object', properties: { limit: {...} } }
 */
export function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema
  return rest
}

/**
 * A function tool as the Chat Completions API takes it in `tools`.
 *
 * @example
 * const t: OpenAIFunctionTool = { type: 'function', function: { name: 'get_inbox', description: '...', parameters: {} } }
 */
export interface OpenAIFunctionTool {
  type: 'function'
  function: { name: string; description: string; parameters: JsonSchema; strict?: boolean }
}

/**
 * A function tool as the Responses API takes it in `tools`.
 *
 * @example
 * const t: OpenAIResponsesFunctionTool = { type: 'function', name: 'get_inbox', description: '...', parameters: {}, strict: false }
 */
export interface OpenAIResponsesFunctionTool {
  type: 'function'
  name: string
  description: string
  parameters: JsonSchema
  strict: boolean
}

/**
 * The tools as Chat Completions function definitions.
 *
 * @example
 * const completion = await openai.chat.completions.create({ model, messages, tools: openAITools(tools) })
 */
export function openAITools(tools: MailroomTool[]): OpenAIFunctionTool[] {
  return tools.map((t) => ({
    type: 'function',
    function: { name: t.name, description: t.description, parameters: jsonSchemaOf(t.inputSchema), strict: false },
  }))
}

/**
 * The tools as Responses API function definitions.
 *
 * @example
 * const response = await openai.responses.create({ model, input, tools: openAIResponsesTools(tools) })
 */
export function openAIResponsesTools(tools: MailroomTool[]): OpenAIResponsesFunctionTool[] {
  return tools.map((t) => ({ type: 'function', name: t.name, description: t.description, parameters: jsonSchemaOf(t.inputSchema), strict: false }))
}

/**
 * A tool call as a Chat Completions assistant message carries it.
 *
 * @example
 * const call: OpenAIToolCall = { id: 'call_1', type: 'function', function: { name: 'list_messages', arguments: '{}' } }
 */
export interface OpenAIToolCall {
  id: string
  type?: 'function'
  function: { name: string; arguments: string }
}

/**
 * The answer to one tool call, to append to the conversation.
 *
 * @example
 * messages.push(...(await executor.runToolCalls(assistant.tool_calls)))
 */
export interface OpenAIToolMessage {
  role: 'tool'
  tool_call_id: string
  content: string
}

/**
 * Runs tool calls by name. Never throws: unknown tools, arguments that are not JSON or do not fit,
 * and API failures all come back as `{ error: { code, message, hint } }`.
 *
 * @example
 * const executor = createToolExecutor(tools)
 * const result = await executor.execute('read_message', { message_id: 'msg_...' })
 */
export interface ToolExecutor {
  /** The tools it runs. */
  readonly tools: MailroomTool[]
  /** Runs one tool; `args` is the model's JSON string or an object. */
  execute(name: string, args: string | unknown, options?: { signal?: AbortSignal }): Promise<ToolResult>
  /** Runs the tool calls of an assistant message (one after another) and returns the tool messages. */
  runToolCalls(calls: readonly OpenAIToolCall[], options?: { signal?: AbortSignal }): Promise<OpenAIToolMessage[]>
}

/**
 * An executor over the tools.
 *
 * @example
 * const executor = createToolExecutor(createMailroomTools({ mailroom }))
 * for (;;) {
 *   const { choices: [choice] } = await openai.chat.completions.create({ model, messages, tools: openAITools(executor.tools) })
 *   messages.push(choice.message)
 *   if (!choice.message.tool_calls?.length) break
 *   messages.push(...(await executor.runToolCalls(choice.message.tool_calls)))
 * }
 */
export function createToolExecutor(tools: MailroomTool[]): ToolExecutor {
  const byName = new Map(tools.map((t) => [t.name as string, t]))
  const execute: ToolExecutor['execute'] = async (name, args, options = {}) => {
    const tool = byName.get(name)
    if (!tool) {
      return toolError('unknown_tool', `There is no tool named ${JSON.stringify(name)}.`, `Use one of: ${[...byName.keys()].join(', ')}.`)
    }
    let parsed: unknown = args
    if (typeof args === 'string') {
      try {
        parsed = args.trim() === '' ? {} : JSON.parse(args)
      } catch {
        return toolError('invalid_arguments', `The arguments of ${name} are not valid JSON.`, `Call ${name} again with a JSON object as arguments.`)
      }
    }
    return tool.execute(parsed, options)
  }
  return {
    tools,
    execute,
    async runToolCalls(calls, options) {
      const out: OpenAIToolMessage[] = []
      for (const call of calls) {
        const result = await execute(call.function.name, call.function.arguments, options)
        out.push({ role: 'tool', tool_call_id: call.id, content: JSON.stringify(result) })
      }
      return out
    },
  }
}
