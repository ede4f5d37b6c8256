#!/usr/bin/env node
// `mailroom-mcp`: the MCP server over stdio. In the repository the package runs from its
// TypeScript source, so this loads tsx first (a no-op when already running under tsx).
import { register } from 'tsx/esm/api'

register()
await import('../src/mcp-main.ts')
