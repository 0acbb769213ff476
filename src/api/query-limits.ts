import {
  GraphQLError,
  Kind,
  type FieldNode,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';

/**
 * Validation rules that bound the work one operation can ask for, checked
 * before execution (and before authentication):
 * - depth: fields nested deeper than the limit (event → deliveries → event → …);
 * - cost: an estimate of resolved fields, where a connection field multiplies
 *   its selection by its `first` (a variable counts as the maximum page size).
 * Fragments are measured once each, so hostile fragment fan-out stays linear.
 */
const MAX_PAGE = 100;
const DEFAULT_PAGE = 20;

interface Measure {
  depth: number;
  cost: number;
}

function pageSize(field: FieldNode): number | undefined {
  const first = field.arguments?.find((a) => a.name.value === 'first');
  if (!first) return undefined;
  if (first.value.kind === Kind.INT) return Math.min(Math.max(Number(first.value.value), 0), MAX_PAGE);
  if (first.value.kind === Kind.NULL) return DEFAULT_PAGE;
  return MAX_PAGE;
}

function analyser(context: ValidationContext) {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of context.getDocument().definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const measured = new Map<string, Measure>();
  const inProgress = new Set<string>();

  const selectionSet = (set: SelectionSetNode): Measure => {
    let depth = 0;
    let cost = 0;
    for (const selection of set.selections) {
      let m: Measure;
      if (selection.kind === Kind.FIELD) {
        if (!selection.selectionSet) m = { depth: 0, cost: 1 };
        else {
          const inner = selectionSet(selection.selectionSet);
          // A connection (`first`) repeats its selection once per node; `pageInfo`/`edges` overlap is ignored.
          const times = pageSize(selection) ?? 1;
          m = { depth: inner.depth + 1, cost: 1 + times * inner.cost };
        }
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        m = selectionSet(selection.selectionSet);
      } else {
        m = fragment(selection.name.value);
      }
      depth = Math.max(depth, m.depth);
      cost += m.cost;
    }
    return { depth, cost };
  };

  const fragment = (name: string): Measure => {
    const known = measured.get(name);
    if (known) return known;
    const definition = fragments.get(name);
    // Unknown or cyclic fragments are reported by graphql's own rules.
    if (!definition || inProgress.has(name)) return { depth: 0, cost: 0 };
    inProgress.add(name);
    const m = selectionSet(definition.selectionSet);
    inProgress.delete(name);
    measured.set(name, m);
    return m;
  };

  return selectionSet;
}

/** A rule that reports an operation whose measure exceeds `max`. */
function limitRule(max: number, pick: (m: Measure) => number, message: (value: number) => string): ValidationRule {
  return (context: ValidationContext) => {
    const measure = analyser(context);
    return {
      OperationDefinition(node) {
        const value = pick(measure(node.selectionSet));
        if (value > max) {
          context.reportError(new GraphQLError(message(value), { nodes: [node], extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }));
        }
      },
    };
  };
}

export function depthLimit(max: number): ValidationRule {
  return limitRule(max, (m) => m.depth, (depth) => `Query is nested ${depth} levels deep, more than ${max}; query nested objects separately.`);
}

export function costLimit(max: number): ValidationRule {
  return limitRule(
    max,
    (m) => m.cost,
    (cost) => `Query may resolve about ${cost} fields, more than ${max}; ask for smaller pages (\`first\`) or fewer nested lists.`,
  );
}
