import { ArgsType, Field, Int, ObjectType, type ClassType } from 'type-graphql';
import { isUuid } from '../../domain/ids.js';
import { badUserInput } from '../errors.js';

@ObjectType({ description: 'Where a page stands in its list (Relay cursor connections).' })
export class PageInfo {
  @Field({ description: 'True when more items follow this page: fetch them with `after: endCursor`.' })
  hasNextPage!: boolean;

  @Field({ description: 'True when this page was fetched with `after`, so items come before it.' })
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true, description: 'Cursor of the first item of this page; null when the page is empty.' })
  startCursor!: string | null;

  @Field(() => String, { nullable: true, description: 'Cursor of the last item of this page, to pass as `after` for the next one; null when the page is empty.' })
  endCursor!: string | null;
}

@ArgsType()
export class ConnectionArgs {
  @Field(() => Int, { nullable: true, description: 'Page size, 1..100 (default 20).' })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'Cursor of the last item of the previous page.' })
  after?: string | null;
}

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  nodes: T[];
  pageInfo: PageInfo;
  totalCount?: number;
}

/** Builds the Edge and Connection object types for a node type. */
export function connectionType<T extends object>(name: string, node: ClassType<T>) {
  @ObjectType(`${name}Edge`, { description: `One ${name} of a page, with its cursor.` })
  class Edge {
    @Field({ description: 'Opaque cursor of this item; pass it as `after` to get the items after it.' })
    cursor!: string;

    @Field(() => node, { description: 'The item.' })
    node!: T;
  }

  @ObjectType(`${name}Connection`, { description: `A page of ${name} items, newest first, and how to fetch the next one.` })
  class ConnectionType {
    @Field(() => [Edge], { description: 'The items of this page with their cursors, newest first.' })
    edges!: Edge[];

    @Field(() => [node], { description: 'The items of this page, newest first (the same as `edges.node`).' })
    nodes!: T[];

    @Field(() => PageInfo, { description: 'Cursors of this page and whether more items follow.' })
    pageInfo!: PageInfo;
  }
  return ConnectionType;
}

/*
 * Ids are UUIDv7, so id order is creation order: a cursor is the opaque
 * encoding of the last id seen, and pages stay stable while rows are inserted.
 * Lists are newest first.
 */
export function encodeCursor(id: string): string {
  return Buffer.from(`c:${id}`).toString('base64url');
}

export function decodeCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString();
  const id = text.startsWith('c:') ? text.slice(2) : '';
  if (!isUuid(id)) throw badUserInput('after', 'is not a cursor returned by this list');
  return id;
}

export interface PageRequest {
  /** Rows to fetch: page size + 1, to know whether another page follows. */
  limit: number;
  /** Only ids strictly below this one (newest-first order); undefined for the first page. */
  beforeId: string | undefined;
  pageSize: number;
}

export function pageRequest(args: ConnectionArgs): PageRequest {
  const first = args.first ?? 20;
  if (!Number.isInteger(first) || first < 1 || first > 100) {
    throw badUserInput('first', 'must be between 1 and 100');
  }
  return { limit: first + 1, beforeId: args.after ? decodeCursor(args.after) : undefined, pageSize: first };
}

/** Shapes rows fetched with `pageRequest` (ordered by id descending) into a connection. */
export function toConnection<T extends { id: string }>(rows: T[], page: PageRequest): Connection<T> {
  const nodes = rows.slice(0, page.pageSize);
  const edges = nodes.map((node) => ({ cursor: encodeCursor(node.id), node }));
  return {
    edges,
    nodes,
    pageInfo: Object.assign(new PageInfo(), {
      hasNextPage: rows.length > page.pageSize,
      hasPreviousPage: page.beforeId !== undefined,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    }),
  };
}
