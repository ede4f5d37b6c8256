export function inputsHash(): string
export function isFresh(dist?: string): boolean
export function ensureConsoleBuilt(opts?: { log?: (s: string) => void }): 'fresh' | 'built' | 'missing-dependencies'
