// @mailroom/ai: Mailroom's email tools for LLMs, as OpenAI function tools, Vercel AI SDK tools and
// an MCP server, over @mailroom/sdk.
export {
  createMailroomTools,
  createMailroomToolsForKey,
  type MailroomTool,
  type MailroomToolName,
  type MailroomToolsOptions,
  type ToolResult,
} from './tools.js'
export {
  createToolExecutor,
  jsonSchemaOf,
  openAITools,
  openAIResponsesTools,
  strictJsonSchemaOf,
  type JsonSchema,
  type OpenAIToolsOptions,
  type OpenAIFunctionTool,
  type OpenAIResponsesFunctionTool,
  type OpenAIToolCall,
  type OpenAIToolMessage,
  type ToolExecutor,
} from './openai.js'
export { vercelTools } from './vercel.js'
export { createMcpServer, mcpToolDefinition, serveStdio, type McpServerOptions } from './mcp.js'
export { errorResult, isToolError, toolError, type ToolError } from './errors.js'
export {
  DEFAULT_MAX_BODY_CHARS,
  bodyText,
  htmlToText,
  inlineText,
  neutralise,
  riskWarning,
  renderMessageForModel,
  summarizeMessageForModel,
  summarizeContactForModel,
  type RenderOptions,
} from './render.js'
