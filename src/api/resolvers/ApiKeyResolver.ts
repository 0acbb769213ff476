import { Arg, Args, Authorized, Ctx, Mutation, Query, Resolver, UseMiddleware } from 'type-graphql';
import { storableInput } from '../input-guard.js';
import { ApiKey as ApiKeyEntity, ApiKeyScope } from '../../domain/entities/ApiKey.js';
import { Tenant as TenantEntity } from '../../domain/entities/Tenant.js';
import { isUuid } from '../../domain/ids.js';
import { cleanName } from '../../domain/text.js';
import { announce } from '../../live/announce.js';
import { emSql } from '../../db/em-sql.js';
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
  async viewer(@Ctx() { principal, em }: Context): Promise<Viewer> {
    if (principal.kind !== 'key') return Object.assign(new Viewer(), { root: true, tenant: null, apiKey: null, scopes: [] });
    const key = await em.findOneOrFail(ApiKeyEntity, principal.keyId, { populate: ['tenant'] });
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
    const rows = await context.em.find(
      ApiKeyEntity,
      { tenant: tenantOf(context), ...(page.beforeId ? { id: { $lt: page.beforeId } } : {}) },
      { orderBy: { id: 'desc' }, limit: page.limit },
    );
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
      const apiKey = context.em.create(ApiKeyEntity, {
        tenant: context.em.getReference(TenantEntity, tenantOf(context)),
        name: name!,
        prefix: generated.prefix,
        hash: generated.hash,
        scopes: [...new Set(input.scopes)],
      });
      await context.em.flush();
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
      const apiKey = await context.em.transactional(async (em) => {
        const found = await em.findOne(ApiKeyEntity, { id: input.id, tenant: tenantId });
        if (!found) throw notFound;
        found.revokedAt ??= new Date();
        await em.flush();
        // Every api process closes this key's open WebSockets once this commits.
        await announce(emSql(em), [{ kind: 'apiKeyRevoked', tenantId, id: found.id }]);
        return found;
      });
      return { apiKey: ApiKey.from(apiKey), userErrors: [] };
    });
  }
}
