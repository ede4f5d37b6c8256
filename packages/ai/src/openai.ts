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
 * The keywords OpenAI's strict mode (Structured Outputs, `strict: true`) accepts, per its
 * "Supported schemas": types, `enum` / `const`, `anyOf`, `$ref` / `$defs`, string `pattern` and
 * `format`, number bounds and `multipleOf`, array `minItems` / `maxItems`, and the object keywords.
 * Everything else (`default`, `minLength`, `maxLength`, `title`, `examples` ...) is dropped.
 */
const STRICT_KEYWORDS = new Set([
  'type',
  'description',
  'enum',
  'const',
  '$ref',
  'pattern',
  'format',
  'multipleOf',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minItems',
  'maxItems',
])
/** String formats strict mode supports. */
const STRICT_FORMATS = new Set(['date-time', 'time', 'date', 'duration', 'email', 'hostname', 'ipv4', 'ipv6', 'uuid'])

const SCALARS = new Set<unknown>(['string', 'number', 'integer', 'boolean'])

const isObject = (v: unknown): v is JsonSchema => typeof v === 'object' && v !== null && !Array.isArray(v)

/** `schema` that also admits `null`, which is how strict mode spells "optional". */
function nullable(schema: JsonSchema): JsonSchema {
  if (Array.isArray(schema.anyOf)) {
    const hasNull = schema.anyOf.some((s) => isObject(s) && s.type === 'null')
    return hasNull ? schema : { ...schema, anyOf: [...schema.anyOf, { type: 'null' }] }
  }
  // A scalar takes `null` in its type list (as OpenAI's own examples do).
  if (SCALARS.has(schema.type) && schema.enum === undefined && schema.const === undefined) {
    return { ...schema, type: [schema.type, 'null'] }
  }
  // An object, array, enum or const keeps its shape in one branch; the description stays outside.
  const { description, ...rest } = schema
  return { ...(description !== undefined ? { description } : {}), anyOf: [rest, { type: 'null' }] }
}

function strictNode(node: JsonSchema, optional: boolean): JsonSchema {
  const out: JsonSchema = {}
  for (const [key, value] of Object.entries(node)) {
    if (!STRICT_KEYWORDS.has(key)) continue
    if (key === 'format' && !STRICT_FORMATS.has(String(value))) continue
    out[key] = value
  }
  if (node.type === 'object' || isObject(node.properties)) {
    const properties = isObject(node.properties) ? node.properties : {}
    const required = new Set(Array.isArray(node.required) ? (node.required as string[]) : [])
    out.type = 'object'
    out.properties = Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, strictNode(isObject(v) ? v : {}, !required.has(k))]))
    out.required = Object.keys(properties)
    out.additionalProperties = false
  }
  if (isObject(node.items)) out.items = strictNode(node.items, false)
  if (Array.isArray(node.anyOf)) out.anyOf = node.anyOf.map((s) => strictNode(isObject(s) ? s : {}, false))
  if (isObject(node.$defs)) out.$defs = Object.fromEntries(Object.entries(node.$defs).map(([k, v]) => [k, strictNode(isObject(v) ? v : {}, false)]))
  return optional ? nullable(out) : out
}

/**
 * A tool's argument schema in the form OpenAI's strict mode (`strict: true`, Structured Outputs)
 * accepts: every object lists all its properties in `required` and has `additionalProperties:
 * false`; a property the model may leave out is required but admits `null` (the tools read `null`
 * as "not given", so its default applies); keywords strict mode does not support (`default`,
 * `minLength`, `maxLength` ...) are dropped, the tool still checks them when it runs.
 *
 * @example
 * strictJsonSchemaOf(z.object({ limit: z.number().int().max(50).default(10) }).strict())
 * // { type: 'object', properties: { limit: { type: ['integer', 'null'], maximum: 50 } }, required: ['limit'], additionalProperties: false }
 */
export function strictJsonSchemaOf(schema: z.ZodType): JsonSchema {
  return strictNode(jsonSchemaOf(schema), false)
}

/**
 * Options of `openAITools` and `openAIResponsesTools`.
 *
 * @example
 * openAITools(tools, { strict: false }) // the plain JSON Schemas, with defaults and optional fields
 */
export interface OpenAIToolsOptions {
  /**
   * `true` (default): schemas for strict mode (`strict: true` on every tool, so the model's
   * arguments always fit them). `false`: the plain JSON Schemas, `strict: false`.
   */
  strict?: boolean | undefined
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
 * const t: OpenAIResponsesFunctionTool = { type: 'function', name: 'get_inbox', description: '...', parameters: {}, strict: true }
 */
export interface OpenAIResponsesFunctionTool {
  type: 'function'
  name: string
  description: string
  parameters: JsonSchema
  strict: boolean
}

const parametersOf = (t: MailroomTool, strict: boolean) => (strict ? strictJsonSchemaOf(t.inputSchema) : jsonSchemaOf(t.inputSchema))

/**
 * The tools as Chat Completions function definitions, for strict mode by default (`strict: true`:
 * the model's arguments always fit the schema).
 *
 * @example
 * const completion = await openai.chat.completions.create({ model, messages, tools: openAITools(tools) })
 */
export function openAITools(tools: MailroomTool[], options: OpenAIToolsOptions = {}): OpenAIFunctionTool[] {
  const strict = options.strict ?? true
  return tools.map((t) => ({
    type: 'function',
    function: { name: t.name, description: t.description, parameters: parametersOf(t, strict), strict },
  }))
}

/**
 * The tools as Responses API function definitions, for strict mode by default.
 *
 * @example
 * const response = await openai.responses.create({ model, input, tools: openAIResponsesTools(tools) })
 */
export function openAIResponsesTools(tools: MailroomTool[], options: OpenAIToolsOptions = {}): OpenAIResponsesFunctionTool[] {
  const strict = options.strict ?? true
  return tools.map((t) => ({ type: 'function', name: t.name, description: t.description, parameters: parametersOf(t, strict), strict }))
}

/**
 * A tool call as a Chat Completions assistant message carries it.
 *
 * @example
 * const call: OpenAIToolCall = { id: 'call_1', type: 'function', function: { name: 'list_messages', arguments: '{}' } }
 */
export interface OpenAIToolCall {
  id: string
  type?: 'function' | undefined
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
