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
    this.ajv = new Ajv2020({ strict: false, allErrors: true });
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
    const { target, note } = this.#narrow(name, definition, value);
    const validate = this.#compiled(target);
    const valid = validate(value);
    const errors = valid ? [] : summarise(validate.errors ?? []);
    if (note) errors.unshift(note);
    return { valid, def: target, errors };
  }

  // A discriminated union is checked against the one member its `type` names, so that the
  // errors are about that member and not about every other member of the union.
  #narrow(name, definition, value) {
    const mapping = definition.discriminator?.mapping;
    const key = definition.discriminator?.propertyName;
    if (!mapping || !key || value === null || typeof value !== "object") return { target: name };
    const ref = mapping[value[key]];
    if (ref) return { target: ref.replace("#/$defs/", "") };
    const known = Object.keys(mapping).length;
    return {
      target: name,
      note: { path: `/${key}`, message: `${JSON.stringify(value[key])} is none of the ${known} ${name} types` },
    };
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

// Deepest paths first: inside unions the shallow errors are mostly other members' complaints.
function summarise(errors) {
  const seen = new Set();
  const unique = [];
  for (const error of errors) {
    const message = describe(error);
    const key = `${error.instancePath} ${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push({ path: error.instancePath || "/", message, depth: error.instancePath.split("/").length });
  }
  unique.sort((a, b) => b.depth - a.depth);
  const shown = unique.slice(0, MAX_ERRORS).map(({ path, message }) => ({ path, message }));
  if (unique.length > MAX_ERRORS) shown.push({ path: "", message: `… and ${unique.length - MAX_ERRORS} more` });
  return shown;
}

function describe(error) {
  const params = error.params ?? {};
  if (error.keyword === "const") return `${error.message} ${JSON.stringify(params.allowedValue)}`;
  if (error.keyword === "enum") return `${error.message}: ${(params.allowedValues ?? []).map((v) => JSON.stringify(v)).join(", ")}`;
  if (error.keyword === "additionalProperties") return `${error.message}: ${params.additionalProperty}`;
  return error.message ?? error.keyword;
}
