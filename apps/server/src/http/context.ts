// What every HTTP request carries: its id and the caller (after auth). The services and the
// dependency bag they share live outside the HTTP layer (../deps.ts), and so does the caller's
// identity (../apikeys/principal.ts), which services such as the audit log use without knowing HTTP.
import type { Principal } from '../apikeys/principal.js'
import type { ServiceError } from '../errors.js'
import type { KeyReach } from '../apikeys/key-changes.js'

export type { Principal }

export interface AppEnv {
  Variables: {
    requestId: string
    principal: Principal
    /**
     * For a request that outlives its start (an event stream, a parked wait): null while its
     * caller would still be let in as the same principal, else the error the door would now answer.
     */
    recheck: () => Promise<ServiceError | null>
    /** What the caller's key reaches: which changes of keys touch it (touchesKeysOf), so that it asks again. */
    reach: KeyReach
  }
}
