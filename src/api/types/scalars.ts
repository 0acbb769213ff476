import { DateTimeResolver, JSONResolver } from 'graphql-scalars';

/** Arbitrary JSON values (payloads, filters, headers, metadata). */
export const JSONScalar = JSONResolver;
/** RFC 3339 timestamps. */
export const DateTimeScalar = DateTimeResolver;
