// The tools as Vercel AI SDK tools (`ai` 6): pass them as `tools` to generateText / streamText.
import { jsonSchema, tool, type Tool } from 'ai'
import { jsonSchemaOf } from './openai.js'
import type { MailroomTool, MailroomToolName, ToolResult } from './tools.js'

/**
 * The tools as an AI SDK tool set. The input schema is handed over as JSON Schema and the tool
 * validates its own input, so a model's bad arguments come back as the same
 * `{ error: { code, message, hint } }` result as every other failure (not as an exception).
 *
 * @example
 * import { generateText, stepCountIs } from 'ai'
 * const { text } = await generateText({
 *   model,
 *   tools: vercelTools(createMailroomTools({ mailroom })),
 *   stopWhen: stepCountIs(5),
 *   prompt: 'Read my latest email and summarise it.',
 * })
 */
export function vercelTools(tools: MailroomTool[]): Partial<Record<MailroomToolName, Tool<unknown, ToolResult>>> & Record<string, Tool<unknown, ToolResult>> {
  return Object.fromEntries(
    tools.map((t) => [
      t.name,
      tool<unknown, ToolResult>({
        description: t.description,
        inputSchema: jsonSchema<unknown>(jsonSchemaOf(t.inputSchema) as Parameters<typeof jsonSchema>[0]),
        execute: (input, { abortSignal }) => t.execute(input, abortSignal ? { signal: abortSignal } : {}),
      }),
    ]),
  )
}
