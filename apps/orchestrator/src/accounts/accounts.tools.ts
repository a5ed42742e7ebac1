import { Injectable } from '@nestjs/common';
import { McpTool } from '@crossauth/mcp-server';
import { z } from 'zod';
import { AccountsService } from './accounts.service';
import { USER_ROLES, type UserRecord } from './user.repository';

const username = z.string().min(1).max(64);
// Passwords travel only in tool arguments, which are never logged (the logger redacts `password`).
const password = z.string().min(1).max(1024);
const role = z.enum(USER_ROLES);
const addInput = z.object({ username, password, role: role.default('developer') });
const passwordInput = z.object({ username, password });
const roleInput = z.object({ username, role });

const view = (u: UserRecord) => ({
  username: u.username,
  role: u.role,
  created_at: new Date(u.createdAt).toISOString(),
  password_changed_at: new Date(u.passwordChangedAt).toISOString(),
});

/** Admin tools for local accounts (`crossauth user …` calls them). Passwords are never returned. */
@Injectable()
export class AccountsTools {
  constructor(private readonly accounts: AccountsService) {}

  @McpTool({
    name: 'user_add',
    description: 'Add a person who signs in with a password; role viewer (read), developer (read write) or admin.',
    scopes: ['admin'],
    input: addInput,
  })
  async add(input: z.infer<typeof addInput>) {
    return view(await this.accounts.add(input));
  }

  @McpTool({
    name: 'user_list',
    description: 'Local accounts and their roles (never a password or its hash).',
    scopes: ['admin'],
    annotations: { readOnlyHint: true },
  })
  async list() {
    return { users: (await this.accounts.list()).map(view) };
  }

  @McpTool({
    name: 'user_set_password',
    description: "Replace a person's password.",
    scopes: ['admin'],
    input: passwordInput,
    annotations: { destructiveHint: true, idempotentHint: true },
  })
  async setPassword(input: z.infer<typeof passwordInput>) {
    await this.accounts.setPassword(input.username, input.password);
    return { username: input.username.toLowerCase(), password: 'changed' };
  }

  @McpTool({
    name: 'user_set_role',
    description: "Change a person's role; their next token carries the new scopes.",
    scopes: ['admin'],
    input: roleInput,
    annotations: { idempotentHint: true },
  })
  async setRole(input: z.infer<typeof roleInput>) {
    await this.accounts.setRole(input.username, input.role);
    return { username: input.username.toLowerCase(), role: input.role };
  }
}
