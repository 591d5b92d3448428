/** Attribute values the OpenTelemetry API accepts (the subset split-knex sets). */
export type SpanAttributes = Record<string, string | number | boolean>;

/** The part of an OpenTelemetry `Span` split-knex uses. */
export interface SpanLike {
  isRecording(): boolean;
  setAttributes(attributes: SpanAttributes): unknown;
  addEvent(name: string, attributes?: SpanAttributes): unknown;
  end(): void;
}

/**
 * The part of `@opentelemetry/api` split-knex uses, typed here so that neither our code nor
 * our published types need the package: it is an optional peer.
 *
 * @example
 * const api: OpenTelemetryApi | undefined = loadOpenTelemetry();
 * api?.trace.getActiveSpan()?.setAttributes({ 'split_knex.node': 'replica1' });
 */
export interface OpenTelemetryApi {
  trace: {
    getActiveSpan(): SpanLike | undefined;
    getTracer(name: string): { startSpan(name: string, options?: { root?: boolean; attributes?: SpanAttributes }): SpanLike };
  };
}

/**
 * `@opentelemetry/api` when the application has it installed, else `undefined`: split-knex
 * works without it. The API package holds no state of its own (providers register on a
 * global), so this copy sees the SDK the application registered.
 *
 * @example
 * const api = loadOpenTelemetry(); // undefined without @opentelemetry/api
 * loadOpenTelemetry(() => { throw new Error('missing') }) // undefined
 */
export function loadOpenTelemetry(load: () => unknown = () => require('@opentelemetry/api')): OpenTelemetryApi | undefined {
  try {
    const api = load() as Partial<OpenTelemetryApi> | undefined;
    return typeof api?.trace?.getActiveSpan === 'function' ? (api as OpenTelemetryApi) : undefined;
  } catch {
    // Not installed (or broken): traces are an optional extra, never a reason to fail.
    return undefined;
  }
}
