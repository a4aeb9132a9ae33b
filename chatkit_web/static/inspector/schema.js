// Checking JSON against the project's JSON Schema with Ajv (vendor/ajv2020.bundle.js).

const MAX_ERRORS = 8;
// RFC 3339 `date-time`, the format the schema names; Ajv leaves formats to the caller.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** A validator of `$defs` entries of the protocol schema served at `url`. */
export class SchemaChecker {
  constructor(url) {
    this.url = url;
    this.document = null;
    this.ajv = null;
    this.compiled = new Map();
  }

  /** Fetch the schema and set up Ajv (draft 2020-12). */
  async load() {
    const Ajv2020 = globalThis.ajv2020;
    if (typeof Ajv2020 !== "function") throw new Error("the Ajv bundle did not load");
    const response = await fetch(this.url);
    if (!response.ok) throw new Error(`GET ${this.url} answered ${response.status}`);
    this.document = await response.json();
    // strict: false — the schema carries pydantic's OpenAPI `discriminator` annotations.
    this.ajv = new Ajv2020({ strict: false, allErrors: true, verbose: true });
    this.ajv.addFormat("date-time", DATE_TIME);
    this.ajv.addSchema(this.document);
  }

  get ready() {
    return this.ajv !== null;
  }

  /** `{valid, def, errors: [{path, message}]}` for `value` checked against `$defs[name]`. */
  check(name, value) {
    const definition = this.document.$defs[name];
    if (!definition) return { valid: false, def: name, errors: [{ path: "", message: `no $defs entry ${name}` }] };
    const target = this.#narrow(definition, value) ?? name;
    const validate = this.#compiled(target);
    const valid = validate(value);
    return { valid, def: target, errors: valid ? [] : summarise(validate.errors ?? [], value) };
  }

  // A discriminated union is checked against the one member its `type` names, so that the
  // errors are about that member and not about every other member of the union.
  #narrow(definition, value) {
    const { propertyName, mapping } = definition.discriminator ?? {};
    if (!mapping || value === null || typeof value !== "object") return null;
    return mapping[value[propertyName]]?.replace("#/$defs/", "") ?? null;
  }

  #compiled(name) {
    let validate = this.compiled.get(name);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `${this.document.$id}#/$defs/${name}` });
      this.compiled.set(name, validate);
    }
    return validate;
  }
}

// Inside a union Ajv reports every member's complaints; keep those of the member whose `type`
// the value names, deepest paths first. When no member matches, say which types would.
function summarise(errors, value) {
  const mismatches = errors.filter((error) => isUnionNoise(error));
  const relevant = errors.filter((error) => !isUnionNoise(error) && ofMatchingMember(error, value));
  const chosen = relevant.length ? relevant.map(entry) : typeChoices(mismatches);
  const seen = new Set();
  const unique = chosen.filter(({ path, message }) => !seen.has(`${path} ${message}`) && seen.add(`${path} ${message}`));
  unique.sort((a, b) => depth(b.path) - depth(a.path));
  const shown = unique.slice(0, MAX_ERRORS);
  if (unique.length > MAX_ERRORS) shown.push({ path: "", message: `… and ${unique.length - MAX_ERRORS} more` });
  return shown;
}

function isUnionNoise(error) {
  if (error.keyword === "oneOf" || error.keyword === "anyOf") return true;
  return error.keyword === "const" && error.instancePath.endsWith("/type");
}

// An error raised inside a model whose `type` constant differs from the value's is another
// union member's complaint.
function ofMatchingMember(error, value) {
  const model = error.parentSchema?.properties?.type?.const;
  if (model === undefined) return true;
  const target = pointer(value, error.instancePath);
  return target === null || typeof target !== "object" || target.type === model;
}

function typeChoices(mismatches) {
  const byPath = new Map();
  for (const error of mismatches) {
    if (error.keyword !== "const") continue;
    byPath.set(error.instancePath, [...(byPath.get(error.instancePath) ?? []), JSON.stringify(error.params.allowedValue)]);
  }
  if (!byPath.size) return mismatches.map(entry);
  return [...byPath].map(([path, allowed]) => ({ path, message: `must be one of ${allowed.join(", ")}` }));
}

function entry(error) {
  return { path: error.instancePath || "/", message: describe(error) };
}

function depth(path) {
  return path.split("/").length;
}

function pointer(value, path) {
  let node = value;
  for (const token of path.split("/").slice(1)) {
    if (node === null || typeof node !== "object") return undefined;
    node = node[token.replaceAll("~1", "/").replaceAll("~0", "~")];
  }
  return node;
}

function describe(error) {
  const params = error.params ?? {};
  if (error.keyword === "const") return `${error.message} ${JSON.stringify(params.allowedValue)}`;
  if (error.keyword === "enum") return `${error.message}: ${(params.allowedValues ?? []).map((v) => JSON.stringify(v)).join(", ")}`;
  if (error.keyword === "additionalProperties") return `${error.message}: ${params.additionalProperty}`;
  return error.message ?? error.keyword;
}
