// Postfix as a measured peer of Mailroom (bench/ingest.ts): Debian's `postfix` package, installed
// if missing, and an instance of the bench's own in a temporary folder.
//
// The instance: its own config_directory (main.cf, master.cf), queue_directory and data_directory
// under the folder; smtpd on 127.0.0.1:<free port> only; nothing relayed (no relay domains, relay
// and default transports are `error`, mynetworks 127.0.0.0/8 only, reject_unauth_destination);
// the bench's recipients delivered by virtual(8) to Maildirs under the folder (virtual_mailbox_base,
// an inline: virtual_mailbox_maps of the bench's addresses, uid/gid `nobody`), so no system user is
// created. Postfix's normal durability is kept: cleanup fsyncs the queue file before smtpd answers
// 250, and virtual(8) fsyncs each Maildir file before it renames it into new/. Started with
// `postfix -c DIR start`, stopped by the PID of its master (DIR/queue/pid/master.pid), on exit and
// on Ctrl-C too; the folder is removed afterwards.
import { execFileSync } from 'node:child_process'
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { onExit } from './db.js'
import { aptInstall, childPidsOf, cpuMsOf, procStat, sleep } from './common.js'

const POSTFIX = '/usr/sbin/postfix'
const POSTCONF = '/usr/sbin/postconf'
/** uid/gid the virtual(8) delivery agent writes the Maildirs as (`nobody` / `nogroup` on Debian). */
const NOBODY = 65534

function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, timeout: 600_000 })
}

/** Whether something listens on TCP port 25 (any address), from /proc/net/tcp{,6}. */
function port25Listening(): boolean {
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(file)) continue
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/)
      // local_address is HEX_IP:HEX_PORT; st 0A = LISTEN
      if (cols[1]?.endsWith(':0019') && cols[3] === '0A') return true
    }
  }
  return false
}

/**
 * Installs Debian's `postfix` when /usr/sbin/postfix is missing: as root, non-interactive, debconf
 * preseeded to "No configuration" (no /etc/postfix/main.cf, so no system instance is configured),
 * with service starts refused during the install (a temporary /usr/sbin/policy-rc.d exiting 101,
 * unless one exists already). Afterwards a system Postfix that is running anyway is stopped and its
 * systemd unit disabled, so nothing of the package's own listens on port 25. Returns a line for
 * the report, or throws with a clear message.
 */
export function ensurePostfixInstalled(): string {
  if (existsSync(POSTFIX)) return `postfix: ${postfixVersion()} (already installed)`
  if (process.getuid?.() !== 0) {
    throw new Error(`Postfix is not installed (${POSTFIX} missing) and this process is not root, so the bench cannot install it. Install it as root: DEBIAN_FRONTEND=noninteractive apt-get install -y postfix (debconf "No configuration"), or run with --no-postfix.`)
  }
  const policy = '/usr/sbin/policy-rc.d'
  const ownPolicy = !existsSync(policy)
  try {
    if (ownPolicy) {
      writeFileSync(policy, '#!/bin/sh\n# bench/lib/postfix.ts: no service starts during the install\nexit 101\n')
      chmodSync(policy, 0o755)
    }
    execFileSync('debconf-set-selections', [], { input: 'postfix postfix/main_mailer_type select No configuration\n', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
    process.stdout.write('postfix: installing Debian package (apt-get install -y postfix)... ')
    aptInstall('postfix')
    console.log('done')
  } catch (err) {
    throw new Error(`${(err as Error).message}\nInstall it by hand or run with --no-postfix.`)
  } finally {
    if (ownPolicy) rmSync(policy, { force: true })
  }
  // The package's own service: not wanted. Stop a system master if one runs, disable the unit.
  try {
    run('systemctl', ['disable', '--now', 'postfix'])
  } catch {
    /* no systemd here */
  }
  const sysPid = readPid('/var/spool/postfix/pid/master.pid')
  if (sysPid && alive(sysPid)) {
    try {
      run(POSTFIX, ['stop'])
    } catch {
      process.kill(sysPid, 'SIGTERM')
    }
  }
  if (port25Listening()) console.log('postfix: WARNING: something listens on port 25 after the install (not the bench instance)')
  return `postfix: ${postfixVersion()} (installed now; system instance not configured, not running)`
}

function postfixVersion(): string {
  try {
    return `Postfix ${run(POSTCONF, ['-d', '-h', 'mail_version']).trim()}`
  } catch {
    return 'Postfix (version unknown)'
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim())
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

/** Whether a process exists and is not a zombie waiting to be reaped. */
function alive(pid: number): boolean {
  try {
    return procStat(pid)[0] !== 'Z'
  } catch {
    return false
  }
}

/** Signals a process that may have exited meanwhile. */
function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal)
  } catch {
    /* already gone */
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      s.close(() => resolve(port))
    })
  })
}

export interface PostfixInstance {
  port: number
  dir: string
  /** Filesystem type of the folder (`stat -f`): on tmpfs an fsync would cost nothing. */
  fsType: string
  masterPid: number
  /** The address messages go to (delivered to the Maildir). */
  recipient: string
  /** Messages in the Maildir's new/. */
  delivered(): number
  /** Empties new/ (between rounds; nothing in flight). */
  clearDelivered(): void
  /**
   * CPU (ms) of the whole instance: the master (own + reaped children's, /proc stat fields 14-17)
   * plus its live children (smtpd, cleanup, qmgr, trivial-rewrite, virtual, ...; own + reaped).
   * A difference of two readings is the instance's CPU in between: a child that exits in between
   * moves from the live sum into the master's cutime/cstime with its final total.
   */
  cpuMs(): number
  stop(): Promise<void>
}

export async function startPostfix(opts: { recipient: string }): Promise<PostfixInstance> {
  // Its folders belong to Postfix's users and nobody (chown): only root can set that up.
  if (process.getuid?.() !== 0) throw new Error('the Postfix instance needs root (its folders are chowned to postfix and nobody); run as root or with --no-postfix.')
  const [local, domain] = opts.recipient.split('@') as [string, string]
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-bench-postfix-'))
  // From here on the folder (and, once started, the instance) goes away with the bench, whatever fails.
  let masterPid = 0
  let stopped = false
  const stopSync = () => {
    if (masterPid && alive(masterPid)) kill(masterPid, 'SIGTERM')
  }
  const stop = async () => {
    if (stopped) return
    stopped = true
    if (masterPid && alive(masterPid)) {
      // The master passes SIGTERM on to its children (smtpd, qmgr, ...); wait for all of them.
      const children = childPidsOf(masterPid)
      kill(masterPid, 'SIGTERM')
      for (let i = 0; i < 100 && alive(masterPid); i++) await sleep(50)
      if (alive(masterPid)) kill(masterPid, 'SIGKILL')
      for (let i = 0; i < 40 && children.some(alive); i++) await sleep(50)
      for (const pid of children.filter(alive)) kill(pid, 'SIGKILL')
    }
    rmSync(dir, { recursive: true, force: true })
  }
  // Ctrl-C / SIGTERM (with the bench databases) and a plain exit: the master does not outlive us.
  onExit(stop)
  process.once('exit', () => {
    stopSync()
    rmSync(dir, { recursive: true, force: true })
  })
  // virtual(8) runs as nobody and must reach the Maildirs: the folder is traversable.
  chmodSync(dir, 0o755)
  const conf = join(dir, 'etc')
  const queue = join(dir, 'queue')
  const data = join(dir, 'data')
  const maildirs = join(dir, 'maildirs')
  for (const d of [conf, queue, data, maildirs]) mkdirSync(d, { mode: 0o755 })
  chownSync(maildirs, NOBODY, NOBODY)
  // data_directory belongs to mail_owner; `postfix start` creates the queue's subdirectories.
  const pfUser = run('id', ['-u', 'postfix']).trim()
  const pfGroup = run('id', ['-g', 'postfix']).trim()
  chownSync(data, Number(pfUser), Number(pfGroup))
  const maillog = join(dir, 'maillog')
  writeFileSync(
    join(conf, 'main.cf'),
    [
      '# bench/lib/postfix.ts: the bench instance; loopback only, nothing relayed, Maildir delivery.',
      'compatibility_level = 3.6',
      `queue_directory = ${queue}`,
      `data_directory = ${data}`,
      'myhostname = postfix-bench.localhost',
      'mydomain = localhost',
      'myorigin = $myhostname',
      'inet_interfaces = loopback-only',
      'inet_protocols = ipv4',
      'mynetworks = 127.0.0.0/8',
      'mydestination =',
      'relay_domains =',
      'local_recipient_maps =',
      'alias_maps =',
      'alias_database =',
      'local_transport = error:local delivery disabled',
      'relay_transport = error:no relaying',
      'default_transport = error:no relaying',
      'smtpd_relay_restrictions = reject_unauth_destination',
      'smtpd_recipient_restrictions = reject_unauth_destination',
      'smtpd_tls_security_level = none',
      'smtp_tls_security_level = none',
      `virtual_mailbox_domains = ${domain}`,
      `virtual_mailbox_base = ${maildirs}`,
      // trailing slash: Maildir format
      `virtual_mailbox_maps = inline:{ ${opts.recipient}=${domain}/${local}/ }`,
      `virtual_uid_maps = static:${NOBODY}`,
      `virtual_gid_maps = static:${NOBODY}`,
      'message_size_limit = 26214400',
      'biff = no',
      // Postfix's log, through postlogd (a child of the master: its CPU is counted). Log files
      // are only allowed under maillog_file_prefixes.
      `maillog_file = ${maillog}`,
      `maillog_file_prefixes = ${dir}`,
      '',
    ].join('\n'),
  )
  // chroot 'n' everywhere (the folders are not set up for a chroot); no pickup, no smtp client.
  writeFileSync(
    join(conf, 'master.cf'),
    [
      '# service type  private unpriv  chroot  wakeup  maxproc command + args',
      `127.0.0.1:${port} inet n - n - - smtpd`,
      'cleanup   unix  n       -       n       -       0       cleanup',
      'qmgr      unix  n       -       n       300     1       qmgr',
      'rewrite   unix  -       -       n       -       -       trivial-rewrite',
      'bounce    unix  -       -       n       -       0       bounce',
      'defer     unix  -       -       n       -       0       bounce',
      'trace     unix  -       -       n       -       0       bounce',
      'verify    unix  -       -       n       -       1       verify',
      'flush     unix  n       -       n       1000?   0       flush',
      'proxymap  unix  -       -       n       -       -       proxymap',
      'error     unix  -       -       n       -       -       error',
      'retry     unix  -       -       n       -       -       error',
      'discard   unix  -       -       n       -       -       discard',
      'virtual   unix  -       n       n       -       -       virtual',
      'anvil     unix  -       -       n       -       1       anvil',
      'scache    unix  -       -       n       -       1       scache',
      'postlog   unix-dgram n  -       n       -       1       postlogd',
      '',
    ].join('\n'),
  )
  const newDir = join(maildirs, domain, local, 'new')
  const pidFile = join(queue, 'pid', 'master.pid')
  try {
    run(POSTFIX, ['-c', conf, 'start'])
  } catch (err) {
    const e = err as { stderr?: string; message: string }
    let log = ''
    try {
      log = readFileSync(maillog, 'utf8').split('\n').slice(-10).join('\n')
    } catch {
      /* none */
    }
    await stop()
    throw new Error(`postfix -c ${conf} start failed: ${(e.stderr || e.message).trim()}\n${log}`)
  }
  for (let i = 0; i < 200 && !masterPid; i++) {
    masterPid = readPid(pidFile) ?? 0
    if (!masterPid || !alive(masterPid)) {
      masterPid = 0
      await sleep(50)
    }
  }
  if (!masterPid) {
    await stop()
    throw new Error(`Postfix master did not write ${pidFile}`)
  }
  // Wait until smtpd answers on the port.
  await waitListening(port)
  const inst: PostfixInstance = {
    port,
    dir,
    fsType: run('stat', ['-f', '-c', '%T', dir]).trim(),
    masterPid,
    recipient: opts.recipient,
    delivered: () => {
      try {
        return readdirSync(newDir).length
      } catch {
        return 0
      }
    },
    clearDelivered: () => {
      try {
        for (const f of readdirSync(newDir)) unlinkSync(join(newDir, f))
      } catch {
        /* not created yet */
      }
    },
    cpuMs: () => {
      // Children first, then the master: a child reaped in between is in the master's cutime (read
      // after it), not lost; one reaped after its own reading is counted twice, a few ms at most.
      let total = 0
      for (const pid of childPidsOf(masterPid)) {
        try {
          total += cpuMsOf(pid, undefined, true)
        } catch {
          /* exited between the scan and the read: in the master's cutime below */
        }
      }
      return total + cpuMsOf(masterPid, undefined, true)
    },
    stop,
  }
  return inst
}

async function waitListening(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1')
      // A connection that is accepted but never greeted does not hang the bench.
      s.setTimeout(2000, () => {
        s.destroy()
        resolve(false)
      })
      s.once('data', (d) => {
        s.destroy()
        resolve(d.toString().startsWith('220'))
      })
      s.once('error', () => resolve(false))
    })
    if (ok) return
    await sleep(100)
  }
  throw new Error(`Postfix smtpd did not answer on 127.0.0.1:${port}`)
}
