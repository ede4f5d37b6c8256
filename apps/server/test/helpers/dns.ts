// A DNS the test edits as it goes (name -> rrtype -> answer) for domain verification, and a way to
// publish every record a domain asks for.
import { createFakeResolver, type DnsResolver } from '../../src/mail/sender-auth.js'

export interface DomainRecords {
  records: { name: string; type: string; value: string; priority?: number }[]
}

export function editableDns() {
  const zone: Record<string, Record<string, any>> = {}
  const resolver: DnsResolver = (name, rrtype) => createFakeResolver(zone)(name, rrtype)
  /** Publishes the domain's records (TXT values split in 200-character strings, as DNS does). */
  function publish(domain: DomainRecords) {
    for (const r of domain.records) {
      zone[r.name] ??= {}
      if (r.type === 'MX') zone[r.name]!.MX = [{ exchange: r.value, priority: r.priority }]
      else zone[r.name]!.TXT = [...(zone[r.name]!.TXT ?? []), [r.value.slice(0, 200), r.value.slice(200)].filter(Boolean)]
    }
  }
  return { zone, resolver, publish }
}
