import { createRequire } from 'node:module';
import {
  assert,
  ERRORS,
  isCompositeType,
  isCustomScalarType,
  isEnumType,
  isListType,
  isNonNullType,
  isObjectType,
  isSubtype,
  typenameFieldName,
  type CompositeType,
  type FieldSelection,
  type NamedType,
  type Operation,
  type Schema,
  type Selection,
  type SelectionSet,
  type Type,
} from '@apollo/federation-internals';
import type { GraphQLError } from 'graphql';
import type { Logger } from '@analytica/logger';

/**
 * The last step of every query: the subgraphs' answers, merged into one tree, shaped into the
 * response the client asked for (aliases, fragments, `__typename`, `@skip`/`@include`, null where a
 * value is invalid and null bubbling up to the nearest nullable field, with the errors saying
 * where).
 *
 * Why not Apollo's own `computeResponse` (`@apollo/gateway/dist/resultShaping.js`): it interprets
 * the operation afresh for every value of the answer. Each field of each list element looks up the
 * `@skip` and `@include` directives in the schema, unwraps its type, and checks a leaf by looking
 * up the built-in scalars again. On the federation benchmark's deep query (bench/gateway, issue 18:
 * 87.6 KB answers) that was a fifth of the gateway's CPU. Here the operation is first turned into
 * a small tree of plain steps (once per request, in time proportional to the query, not the
 * answer): each field knows its response name, its wrapped type as a chain of steps, and a
 * validator for its leaf type; a fragment memoises which types its condition applies to; a
 * directive condition is evaluated once. Then one pass over the answer follows that tree.
 *
 * The result is the same, byte for byte and error for error: `result-shaping.test.ts` runs both on
 * the shipped supergraph and on the benchmark's schema, including invalid and missing values,
 * and compares them. It replaces Apollo's function inside `@apollo/gateway` (the executor calls it
 * through its module's exports), only for the exact version it was written against and tested
 * with; with any other version the gateway keeps Apollo's and says so at start.
 */

/** The `@apollo/gateway` version whose `computeResponse` this one was checked against. */
export const SHAPED_GATEWAY_VERSION = '2.14.4';

type Input = Record<string, unknown>;
type Output = Record<string, unknown>;

export interface ComputeResponseArgs {
  operation: Operation;
  variables?: Record<string, unknown>;
  input: Input | null | undefined;
  introspectionHandling: (selection: FieldSelection) => unknown;
}
export type ComputeResponse = (args: ComputeResponseArgs) => { data: Input | null | undefined; errors: GraphQLError[] };

/** A `@skip(if:)` or `@include(if:)` on a selection: a literal, or a variable read when first needed. */
interface Condition {
  skipWhen: boolean;
  value: boolean | { variable: string };
}

/** One selection of a selection set, prepared. */
type Step = FieldStep | FragmentStep;

interface Gated {
  conditions?: Condition[];
  /** The conditions' verdict, once evaluated (variables do not change during a request). */
  skipped?: boolean;
}

interface FieldStep extends Gated {
  kind: 'field';
  responseName: string;
  role: 'introspection' | 'typename' | 'value';
  selection: FieldSelection;
  /** The field's type as steps, outermost wrapper first. */
  value: ValueStep;
}

interface FragmentStep extends Gated {
  kind: 'fragment';
  typeCondition?: CompositeType;
  /** Whether the condition applies, by `__typename` or by parent type object. */
  applies: Map<unknown, boolean>;
  steps: Step[];
}

type ValueStep = (
  | { kind: 'nonNull'; type: Type; of: ValueStep }
  | { kind: 'list'; type: Type; of: ValueStep }
  | { kind: 'composite'; type: CompositeType; steps: Step[] }
  | { kind: 'leaf'; type: Type; valid: (value: unknown) => boolean }
) & {
  /** Whether the field has a selection set: without one, a value already in the output stays (lists of leaves too). */
  selects: boolean;
};

const NULL_BUBBLE_UP = 1;
/** What the last value step found, beside the value it returned (Apollo's `hasErrors` and `isInvalid`). */
const HAS_ERRORS = 1;
const IS_INVALID = 2;

const integerString = /^-?(?:0|[1-9][0-9]*)$/;

/** The same test as federation-internals' isValidLeafValue, with the built-in scalars looked up once. */
function leafValidator(schema: Schema, type: Type): (value: unknown) => boolean {
  if (isCustomScalarType(type)) return () => true;
  const booleanType = schema.booleanType();
  const intType = schema.intType();
  const idType = schema.idType();
  const floatType = schema.floatType();
  const enumType = isEnumType(type) ? type : undefined;
  return (value) => {
    if (typeof value === 'boolean') return type === booleanType;
    if (typeof value === 'number' && isFinite(value)) {
      if (type === intType || type === idType) return integerString.test(String(value));
      return type === floatType;
    }
    if (typeof value === 'string') {
      if (enumType) return enumType.value(value) !== undefined;
      return type !== booleanType && type !== intType && type !== floatType;
    }
    return false;
  };
}

/** Turns an operation's selection sets into steps; one compiler per request. */
class Compiler {
  private readonly leaves = new Map<Type, (value: unknown) => boolean>();
  constructor(private readonly schema: Schema) {}

  steps(selectionSet: SelectionSet): Step[] {
    return selectionSet.selections().map((selection) => this.step(selection));
  }

  private conditions(selection: Selection): Condition[] | undefined {
    const conditions: Condition[] = [];
    for (const [directive, skipWhen] of [
      [this.schema.skipDirective(), true],
      [this.schema.includeDirective(), false],
    ] as const) {
      const applied = selection.element.appliedDirectivesOf(directive)[0];
      if (!applied) continue;
      const ifArg: unknown = applied.arguments().if;
      conditions.push({ skipWhen, value: typeof ifArg === 'boolean' ? ifArg : { variable: (ifArg as { name: string }).name } });
    }
    return conditions.length ? conditions : undefined;
  }

  private step(selection: Selection): Step {
    const conditions = this.conditions(selection);
    if (selection.kind === 'FieldSelection') {
      const field = selection.element;
      const role = field.definition.isSchemaIntrospectionField() ? 'introspection' : field.name === typenameFieldName ? 'typename' : 'value';
      return {
        kind: 'field',
        conditions,
        responseName: field.responseName(),
        role,
        selection,
        value: role === 'value' ? this.value(field.definition.type!, selection.selectionSet) : { kind: 'leaf', type: field.definition.type!, valid: () => true, selects: false },
      };
    }
    return { kind: 'fragment', conditions, typeCondition: selection.element.typeCondition, applies: new Map(), steps: this.steps(selection.selectionSet) };
  }

  private value(type: Type, selectionSet: SelectionSet | undefined): ValueStep {
    const selects = selectionSet !== undefined;
    if (isNonNullType(type)) return { kind: 'nonNull', type, of: this.value(type.ofType, selectionSet), selects };
    if (isListType(type)) return { kind: 'list', type, of: this.value(type.ofType, selectionSet), selects };
    if (isCompositeType(type)) {
      assert(selectionSet, () => `Invalid empty selection set for composite type ${type}`);
      return { kind: 'composite', type, steps: this.steps(selectionSet), selects };
    }
    let valid = this.leaves.get(type);
    if (!valid) this.leaves.set(type, (valid = leafValidator(this.schema, type)));
    return { kind: 'leaf', type, valid, selects };
  }
}

const hasOwn = (object: object, key: string) => Object.prototype.hasOwnProperty.call(object, key);

/** One pass over one request's merged answer. */
class Shaper {
  readonly errors: GraphQLError[] = [];
  private readonly path: (string | number)[] = [];
  /** HAS_ERRORS / IS_INVALID of the last `value` call. */
  private found = 0;

  constructor(
    private readonly schema: Schema,
    private readonly variables: Record<string, unknown>,
    private readonly introspectionHandling: (selection: FieldSelection) => unknown,
  ) {}

  private skipped(gated: Gated): boolean {
    if (!gated.conditions) return false;
    if (gated.skipped === undefined) {
      gated.skipped = gated.conditions.some(({ skipWhen, value }) => {
        let flag = value;
        if (typeof flag !== 'boolean') {
          const read = this.variables[flag.variable];
          assert(read !== undefined && typeof read === 'boolean', () => `Unexpected value ${read} for variable $${(value as { variable: string }).variable}`);
          flag = read;
        }
        return skipWhen ? flag : !flag;
      });
    }
    return gated.skipped;
  }

  private describeLast(currentType: Type, parentType: Type): string {
    const element = this.path[this.path.length - 1];
    assert(element !== undefined, 'Should not have been called on an empty path');
    return typeof element === 'string' ? `field ${parentType}.${element}` : `array element of type ${currentType} at index ${element}`;
  }

  private fail(message: string) {
    this.errors.push(ERRORS.INVALID_GRAPHQL.err(message, { path: Array.from(this.path) }));
  }

  /** Apollo's applySelectionSet: fills `output` from `input`; NULL_BUBBLE_UP when a non-null field came out null. */
  selections(input: Input, steps: Step[], output: Output, parentType: CompositeType): number {
    for (const step of steps) {
      if (this.skipped(step)) continue;
      if (step.kind === 'field') {
        const { responseName } = step;
        const outputValue = output[responseName];
        if (step.role === 'introspection') {
          if (outputValue === undefined) output[responseName] = this.introspectionHandling(step.selection);
          continue;
        }
        let inputValue = hasOwn(input, responseName) ? (input[responseName] ?? null) : null;
        if (step.role === 'typename') {
          if (outputValue === undefined) {
            if (inputValue === null && responseName !== typenameFieldName) inputValue = input[typenameFieldName] ?? null;
            const type = inputValue !== null && typeof inputValue === 'string' ? (this.schema.type(inputValue) ?? parentType) : parentType;
            if (!isObjectType(type)) return NULL_BUBBLE_UP;
            output[responseName] = type.name;
          }
          continue;
        }
        this.path.push(responseName);
        output[responseName] = this.value(outputValue, step.value, inputValue, parentType);
        this.path.pop();
        if (this.found & IS_INVALID) return NULL_BUBBLE_UP;
      } else {
        const typename = input[typenameFieldName];
        assert(!typename || typeof typename === 'string', () => `Got unexpected value for __typename: ${typename}`);
        if (this.applies(step, typename as string | undefined, parentType)) {
          if (this.selections(input, step.steps, output, step.typeCondition ?? parentType) === NULL_BUBBLE_UP) return NULL_BUBBLE_UP;
        }
      }
    }
    return 0;
  }

  private applies(step: FragmentStep, typename: string | undefined, parentType: CompositeType): boolean {
    const condition = step.typeCondition;
    if (!condition) return true;
    const key = typename || parentType;
    let applies = step.applies.get(key);
    if (applies === undefined) {
      if (typename) {
        const type = this.schema.type(typename);
        applies = !!type && isSubtype(condition, type);
      } else {
        applies = isSubtype(condition, parentType);
      }
      step.applies.set(key, applies);
    }
    return applies;
  }

  /** Apollo's updateOutputValue: the value to put at the current path; `found` says what went wrong. */
  private value(outputValue: unknown, step: ValueStep, inputValue: unknown, parentType: CompositeType): unknown {
    assert(inputValue !== undefined, 'Should not pass undefined for `inputValue` to this method');
    if (outputValue === null || (outputValue !== undefined && !step.selects)) {
      this.found = 0;
      return outputValue;
    }
    switch (step.kind) {
      case 'nonNull': {
        const updated = this.value(outputValue, step.of, inputValue, parentType);
        if (updated === null) {
          if (!(this.found & HAS_ERRORS)) this.fail(`Cannot return null for non-nullable ${this.describeLast(step.of.type, parentType)}.`);
          this.found = HAS_ERRORS | IS_INVALID;
          return null;
        }
        this.found = 0;
        return updated;
      }
      case 'list': {
        if (inputValue === null) return this.none();
        assert(Array.isArray(inputValue), () => `Invalid non-list value ${inputValue} returned by subgraph for list type ${step.type}`);
        assert(outputValue === undefined || Array.isArray(outputValue), () => `Invalid non-list value ${outputValue} returned by subgraph for list type ${step.type}`);
        const outputList = outputValue as unknown[] | undefined;
        assert(!outputList || inputValue.length === outputList.length, () => `[${inputValue}].length (${inputValue.length}) !== [${outputList}].length (${outputList!.length})`);
        let nullify = false;
        let hasErrors = false;
        const updated = new Array<unknown>(inputValue.length);
        for (let i = 0; i < inputValue.length; i++) {
          this.path.push(i);
          updated[i] = this.value(outputList ? outputList[i] : undefined, step.of, inputValue[i], parentType);
          this.path.pop();
          if (this.found & IS_INVALID) nullify = true;
          if (this.found & HAS_ERRORS) hasErrors = true;
        }
        this.found = hasErrors ? HAS_ERRORS : 0;
        return nullify ? null : updated;
      }
      case 'composite': {
        if (inputValue === null) return this.none();
        assert(typeof inputValue === 'object', () => `Invalid non-object value ${inputValue} returned by subgraph for composite type ${step.type}`);
        assert(outputValue === undefined || typeof outputValue === 'object', () => `Invalid non-object value ${inputValue} returned by subgraph for composite type ${step.type}`);
        const input = inputValue as Input;
        const inputTypename = input[typenameFieldName];
        assert(inputTypename === undefined || typeof inputTypename === 'string', () => `Invalid non-string value ${inputTypename} for __typename at ${this.path}`);
        let objectType: CompositeType = step.type;
        if (inputTypename) {
          const named: NamedType | undefined = this.schema.type(inputTypename);
          if (!named || !isCompositeType(named)) {
            this.fail(`Invalid __typename found for object at ${this.describeLast(step.type, parentType)}.`);
            this.found = HAS_ERRORS;
            return null;
          }
          objectType = named;
        }
        const output = (outputValue as Output | undefined) ?? (Object.create(null) as Output);
        const bubbled = this.selections(input, step.steps, output, objectType) === NULL_BUBBLE_UP;
        this.found = bubbled ? HAS_ERRORS : 0;
        return bubbled ? null : output;
      }
      case 'leaf': {
        if (inputValue === null) return this.none();
        const valid = step.valid(inputValue);
        if (!valid) this.fail(`Invalid value found for ${this.describeLast(step.type, parentType)}.`);
        this.found = valid ? 0 : HAS_ERRORS;
        return valid ? inputValue : null;
      }
    }
  }

  private none(): null {
    this.found = 0;
    return null;
  }
}

/** Same contract as Apollo's computeResponse (resultShaping.d.ts of @apollo/gateway 2.14.4). */
export const computeResponse: ComputeResponse = ({ operation, variables, input, introspectionHandling }) => {
  if (!input) return { data: input, errors: [] };
  const schema = operation.schema();
  const shaper = new Shaper(schema, { __proto__: null, ...operation.collectDefaultedVariableValues(), ...variables }, introspectionHandling);
  const steps = new Compiler(schema).steps(operation.selectionSet);
  const data = Object.create(null) as Output;
  const bubbled = shaper.selections(input, steps, data, schema.schemaDefinition.rootType(operation.rootKind)!);
  return { data: bubbled === NULL_BUBBLE_UP ? null : data, errors: shaper.errors };
};

const require = createRequire(import.meta.url);
const apolloModule = require('@apollo/gateway/dist/resultShaping.js') as { computeResponse: ComputeResponse };

/** Apollo's own, taken before any install: for the differential test. */
export const apolloComputeResponse: ComputeResponse = apolloModule.computeResponse;

/**
 * Makes `@apollo/gateway`'s executor shape answers with `computeResponse` above. Returns whether
 * it did: only with the version it was checked against; otherwise the gateway keeps Apollo's.
 */
export function installResultShaping(logger: Logger): boolean {
  const version = (require('@apollo/gateway/package.json') as { version: string }).version;
  if (version !== SHAPED_GATEWAY_VERSION) {
    logger.warn({ version, checked: SHAPED_GATEWAY_VERSION }, "result shaping: @apollo/gateway is not the version this gateway's shaping was checked against; using Apollo's");
    return false;
  }
  apolloModule.computeResponse = computeResponse;
  return true;
}
