// One thread: its messages, oldest first, as the API gives them.
import { Loaded, PageHeader, useAsync, useConsole } from '../ui'
import { Link, useParams } from '../router'
import { MessageTable } from './Inbox'

export default function Thread() {
  const c = useConsole()
  const { inboxId, threadId } = useParams()
  const state = useAsync(async (signal) => {
    const inbox = await c.api.inboxes.get(inboxId!, { signal })
    return { inbox, thread: await inbox.threads.get(threadId!, { signal }) }
  }, [c.api, inboxId, threadId])
  return (
    <Loaded state={state} what="thread">
      {({ inbox, thread }) => (
        <>
          <PageHeader title={thread.subject || '(no subject)'} subtitle={<Link to={`/inboxes/${inbox.id}?tab=threads`}>← {inbox.address}</Link>} />
          <p className="muted">{thread.messageCount} messages</p>
          <MessageTable inboxId={inbox.id} rows={thread.messages} />
        </>
      )}
    </Loaded>
  )
}
