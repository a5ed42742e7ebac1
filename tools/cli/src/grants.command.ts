import type { Io } from './cli';
import type { AdminCall } from './user.command';

type GrantView = Record<string, string | string[]>;

/** `crossauth grants list [--user U | --client-id C]` and `crossauth grants revoke <id>`, through the orchestrator's admin tools. */
export async function grantsCommand(call: AdminCall, values: { user?: string; 'client-id'?: string }, [action, id]: string[], io: Io): Promise<number> {
  switch (action) {
    case 'list': {
      const args = { ...(values.user ? { username: values.user } : {}), ...(values['client-id'] ? { client_id: values['client-id'] } : {}) };
      const { grants } = (await call('grant_list', args)) as { grants: GrantView[] };
      if (grants.length === 0) io.out('no live grants');
      for (const g of grants)
        io.out(
          `${String(g['id'])}  ${String(g['username']).padEnd(16)} ${String(g['client_id']).padEnd(20)} ${(g['scopes'] as string[]).join(' ').padEnd(12)} ${String(g['resource'])}  last used ${String(g['last_used_at'])}`,
        );
      return 0;
    }
    case 'revoke': {
      if (!id) throw new Error('grants revoke needs a grant id (crossauth grants list shows them)');
      const revoked = (await call('grant_revoke', { id })) as GrantView;
      io.out(`revoked grant ${String(revoked['id'])} of ${String(revoked['username'])} for ${String(revoked['client_id'])}`);
      return 0;
    }
    default:
      throw new Error('grants needs list or revoke');
  }
}
