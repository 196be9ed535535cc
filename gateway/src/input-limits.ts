import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { Kind, type ArgumentNode, type DocumentNode, type ValueNode, visit } from 'graphql';
import { badInput } from '@analytica/errors';

/**
 * A number written in the query that no subgraph can hold (1e400 is Infinity once parsed, and
 * the query planner cannot even print it back; 1e300 is beyond every exact amount) is
 * BAD_USER_INPUT naming the argument, with HTTP 400, before anything is planned or fetched.
 * Variables need no check here: graphql-js refuses Infinity for Int, Float and SafeInt, and the
 * subgraphs check the range of every argument (packages/subgraph, checkArgumentValue).
 */
export function numericLiteralLimits<Ctx extends BaseContext>(): ApolloServerPlugin<Ctx> {
  // Apollo Server keeps one parsed document per distinct query: each is walked once, not per request.
  const passed = new WeakSet<DocumentNode>();
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document }) {
          if (passed.has(document)) return;
          visit(document, {
            Argument(node: ArgumentNode) {
              checkLiteral(node.value, node.name.value);
            },
          });
          passed.add(document);
        },
      };
    },
  };
}

function checkLiteral(value: ValueNode, path: string): void {
  if (value.kind === Kind.INT || value.kind === Kind.FLOAT) {
    const number = Number(value.value);
    if (!Number.isFinite(number) || Math.abs(number) > Number.MAX_SAFE_INTEGER) {
      const error = badInput(path, `${path} is beyond the exact range (at most ${Number.MAX_SAFE_INTEGER} in size).`);
      error.extensions.http = { status: 400 };
      throw error;
    }
  } else if (value.kind === Kind.LIST) {
    value.values.forEach((item, index) => checkLiteral(item, `${path}.${index}`));
  } else if (value.kind === Kind.OBJECT) {
    for (const field of value.fields) checkLiteral(field.value, `${path}.${field.name.value}`);
  }
}
