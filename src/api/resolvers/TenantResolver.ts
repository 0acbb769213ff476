import { Arg, Authorized, Ctx, Mutation, Resolver, UseMiddleware } from 'type-graphql';
import { storableInput } from '../input-guard.js';
import { ApiKey as ApiKeyEntity, ApiKeyScope } from '../../domain/entities/ApiKey.js';
import { Tenant as TenantEntity } from '../../domain/entities/Tenant.js';
import { cleanName } from '../../domain/text.js';
import { generateApiKey, ROOT } from '../auth.js';
import type { Context } from '../context.js';
import { userError, UserErrorCode, UserInputFailure, withUserErrors } from '../errors.js';
import { ApiKey, Tenant, TenantCreateInput, TenantCreatePayload } from '../types/tenant.js';

// Text PostgreSQL cannot store is refused at the root fields (see input-guard.ts).
@UseMiddleware(storableInput)
@Resolver()
export class TenantResolver {
  @Authorized(ROOT)
  @Mutation(() => TenantCreatePayload, { description: 'Creates a tenant and its first ADMIN key (root key only).' })
  async tenantCreate(@Arg('input', { description: 'The name of the tenant.' }) input: TenantCreateInput, @Ctx() { em }: Context): Promise<TenantCreatePayload> {
    return withUserErrors(async () => {
      const name = cleanName(input.name);
      if (!name) throw new UserInputFailure([userError(['input', 'name'], UserErrorCode.REQUIRED, 'Name is required.')]);
      if (name.length > 200) throw new UserInputFailure([userError(['input', 'name'], UserErrorCode.TOO_LARGE, 'Name is longer than 200 characters.')]);
      const generated = generateApiKey();
      const tenant = em.create(TenantEntity, { name });
      const apiKey = em.create(ApiKeyEntity, {
        tenant,
        name: 'Initial admin key',
        prefix: generated.prefix,
        hash: generated.hash,
        scopes: [ApiKeyScope.ADMIN],
      });
      await em.flush();
      return { tenant: Tenant.from(tenant), apiKey: ApiKey.from(apiKey), apiKeySecret: generated.key, userErrors: [] };
    });
  }
}
