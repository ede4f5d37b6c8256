// What every HTTP request carries: its id and the caller (after auth). The services and the
// dependency bag they share live outside the HTTP layer (../deps.ts), and so does the caller's
// identity (../apikeys/principal.ts), which services such as the audit log use without knowing HTTP.
import type { Principal } from '../apikeys/principal.js'

export type { Principal }

export interface AppEnv {
  Variables: {
    requestId: string
    principal: Principal
  }
}
