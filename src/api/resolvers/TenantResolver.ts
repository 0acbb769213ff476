import { Arg, Authorized, Ctx, Mutation, Resolver, UseMiddleware } from 'type-graphql';
import { storableInput } from '../input-guard.js';
import { ApiKeyScope } from '../../domain/entities/ApiKey.js';
import { cleanName } from '../../domain/text.js';
import * as apiKeys from '../../store/api-keys.js';
import * as tenants from '../../store/tenants.js';
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
  async tenantCreate(@Arg('input', { description: 'The name of the tenant.' }) input: TenantCreateInput, @Ctx() { services }: Context): Promise<TenantCreatePayload> {
    return withUserErrors(async () => {
      const name = cleanName(input.name);
      if (!name) throw new UserInputFailure([userError(['input', 'name'], UserErrorCode.REQUIRED, 'Name is required.')]);
      if (name.length > 200) throw new UserInputFailure([userError(['input', 'name'], UserErrorCode.TOO_LARGE, 'Name is longer than 200 characters.')]);
      const generated = generateApiKey();
      const { tenant, apiKey } = await services.db.transaction(async (tx) => {
        const tenant = await tenants.create(tx, name);
        const apiKey = await apiKeys.create(tx, tenant.id, { name: 'Initial admin key', prefix: generated.prefix, hash: generated.hash, scopes: [ApiKeyScope.ADMIN] });
        return { tenant, apiKey };
      });
      return { tenant: Tenant.from(tenant), apiKey: ApiKey.from(apiKey), apiKeySecret: generated.key, userErrors: [] };
    });
  }
}
