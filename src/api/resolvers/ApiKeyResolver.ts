import { Arg, Args, Authorized, Ctx, Mutation, Query, Resolver, UseMiddleware } from 'type-graphql';
import { storableInput } from '../input-guard.js';
import { ApiKeyScope } from '../../domain/entities/ApiKey.js';
import { isUuid } from '../../domain/ids.js';
import { cleanName } from '../../domain/text.js';
import * as apiKeys from '../../store/api-keys.js';
import { generateApiKey, ROOT, tenantOf } from '../auth.js';
import type { Context } from '../context.js';
import { userError, UserErrorCode, UserInputFailure, withUserErrors } from '../errors.js';
import { ConnectionArgs, connectionType, pageRequest, toConnection } from '../types/connection.js';
import { ApiKey, ApiKeyCreateInput, ApiKeyCreatePayload, ApiKeyRevokeInput, ApiKeyRevokePayload, Tenant, Viewer } from '../types/tenant.js';

const ApiKeyConnection = connectionType('ApiKey', ApiKey);

// Text PostgreSQL cannot store is refused at the root fields (see input-guard.ts).
@UseMiddleware(storableInput)
@Resolver()
export class ApiKeyResolver {
  @Authorized(ROOT, ApiKeyScope.READ, ApiKeyScope.PUBLISH, ApiKeyScope.ADMIN)
  @Query(() => Viewer, { description: 'The caller: tenant, key and scopes.' })
  async viewer(@Ctx() { principal, services }: Context): Promise<Viewer> {
    if (principal.kind !== 'key') return Object.assign(new Viewer(), { root: true, tenant: null, apiKey: null, scopes: [] });
    const key = await apiKeys.byIdWithTenant(services.db, principal.keyId);
    return Object.assign(new Viewer(), {
      root: false,
      tenant: Tenant.from(key.tenant),
      apiKey: ApiKey.from(key),
      scopes: key.scopes,
    });
  }

  @Authorized(ApiKeyScope.ADMIN)
  @Query(() => ApiKeyConnection, { description: "The tenant's API keys, newest first (revoked ones included)." })
  async apiKeys(@Args() args: ConnectionArgs, @Ctx() context: Context) {
    const page = pageRequest(args);
    const rows = await apiKeys.page(context.services.db, tenantOf(context), page);
    return toConnection(rows.map(ApiKey.from), page);
  }

  @Authorized(ApiKeyScope.ADMIN)
  @Mutation(() => ApiKeyCreatePayload, { description: 'Creates a key; its plain text is returned only here.' })
  async apiKeyCreate(@Arg('input', { description: 'The name and scopes of the key.' }) input: ApiKeyCreateInput, @Ctx() context: Context): Promise<ApiKeyCreatePayload> {
    return withUserErrors(async () => {
      const name = cleanName(input.name);
      const errors = [];
      if (!name) errors.push(userError(['input', 'name'], UserErrorCode.REQUIRED, 'Name is required.'));
      else if (name.length > 200) errors.push(userError(['input', 'name'], UserErrorCode.TOO_LARGE, 'Name is longer than 200 characters.'));
      if (input.scopes.length === 0) errors.push(userError(['input', 'scopes'], UserErrorCode.REQUIRED, 'At least one scope is required.'));
      if (errors.length) throw new UserInputFailure(errors);
      const generated = generateApiKey();
      const tenantId = tenantOf(context);
      const apiKey = await context.services.db.transaction((tx) =>
        apiKeys.create(tx, tenantId, { name: name!, prefix: generated.prefix, hash: generated.hash, scopes: [...new Set(input.scopes)] }),
      );
      return { apiKey: ApiKey.from(apiKey), apiKeySecret: generated.key, userErrors: [] };
    });
  }

  @Authorized(ApiKeyScope.ADMIN)
  @Mutation(() => ApiKeyRevokePayload, { description: 'Revokes a key; it stops working at once, also on open WebSockets.' })
  async apiKeyRevoke(@Arg('input', { description: 'The key to revoke.' }) input: ApiKeyRevokeInput, @Ctx() context: Context): Promise<ApiKeyRevokePayload> {
    return withUserErrors(async () => {
      const notFound = new UserInputFailure([userError(['input', 'id'], UserErrorCode.NOT_FOUND, 'No API key with this id.')]);
      if (!isUuid(input.id)) throw notFound;
      const tenantId = tenantOf(context);
      const apiKey = await context.services.db.transaction(async (tx) => {
        const revoked = await apiKeys.revoke(tx, tenantId, input.id);
        if (!revoked) throw notFound;
        return revoked;
      });
      return { apiKey: ApiKey.from(apiKey), userErrors: [] };
    });
  }
}
