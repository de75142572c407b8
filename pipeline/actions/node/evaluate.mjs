// Evaluates expressions with GitHub's own @actions/expressions, for the differential test of the Python port
// (pipeline/actions/expressions). Reads a JSON list of cases on stdin:
//   {expression, contexts, status?: {failed, cancelled}, workspace?: path, allowed?: {contexts, functions}}
// and prints one JSON list: {ok: true, value, typed} or {ok: false, error}. `value` is the result as JSON;
// `typed` keeps what JSON loses (kinds, NaN, infinities, -0, key order): ["num", "-0"], ["obj", [[k, v]...]]...
// The runner-side functions (status checks, hashFiles) are supplied here with the semantics of the port.
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { data, Evaluator, Lexer, Parser } from "@actions/expressions";

const GITHUB_CONTEXTS = ["github", "env", "vars", "job", "jobs", "steps", "runner", "secrets", "strategy", "matrix", "needs", "inputs"];
const MAX = Number.MAX_SAFE_INTEGER;
const SPECIAL = [
  { name: "always", minArgs: 0, maxArgs: 0 },
  { name: "cancelled", minArgs: 0, maxArgs: 0 },
  { name: "failure", minArgs: 0, maxArgs: 0 },
  { name: "success", minArgs: 0, maxArgs: 0 },
  { name: "hashFiles", minArgs: 1, maxArgs: 255 }
];

// ---- hashFiles: @actions/glob semantics as the port implements them (see hashfiles.py) ----
function segmentRegex(segment) {
  let out = "";
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i];
    const close = c === "[" ? segment.indexOf("]", i + 2) : -1;
    if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else if (c === "[" && close > 0) {
      let body = segment.substring(i + 1, close);
      const negated = body[0] === "!" || body[0] === "^";
      if (negated) body = body.substring(1);
      out += "[" + (negated ? "^" : "") + body.replaceAll("\\", "\\\\").replaceAll("[", "\\[") + "]";
      i = close;
    } else if (c === "\\" && i + 1 < segment.length) {
      i++;
      out += escapeRegex(segment[i]);
    } else out += escapeRegex(c);
  }
  return out;
}

function escapeRegex(c) {
  return c.replace(/[.*+?^${}()|[\]\\\/-]/g, "\\$&");
}

function compilePattern(line) {
  let text = line.trim();
  if (!text || text.startsWith("#")) return undefined;
  let negate = false;
  while (text.startsWith("!")) {
    negate = !negate;
    text = text.substring(1);
  }
  const directoryOnly = text.endsWith("/");
  const segments = [];
  for (const s of text.split("/")) {
    if (s !== "" && s !== "." && !(s === "**" && segments[segments.length - 1] === "**")) segments.push(s);
  }
  if (segments.length === 0) return { negate, regex: /^[\s\S]+$/ };
  let regex = "";
  segments.forEach((segment, position) => {
    if (segment === "**") regex += position ? "(?:/[\\s\\S]*)?" : segments.length > 1 ? "(?:[\\s\\S]*/)?" : "[\\s\\S]*";
    else {
      const leading = position === 0 || (position === 1 && segments[0] === "**");
      regex += (leading ? "" : "/") + segmentRegex(segment);
    }
  });
  if (segments[segments.length - 1] !== "**") regex += directoryOnly ? "/[\\s\\S]+" : "(?:/[\\s\\S]+)?";
  return { negate, regex: new RegExp("^(?:" + regex + ")$") };
}

function walk(root, prefix, out) {
  for (const entry of readdirSync(join(root, prefix))) {
    const relative = prefix ? prefix + "/" + entry : entry;
    const stats = lstatSync(join(root, relative));
    if (stats.isDirectory()) walk(root, relative, out);
    else if (!stats.isSymbolicLink() || !safeStat(join(root, relative))?.isDirectory()) out.push(relative);
  }
}

function safeStat(path) {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function hashFiles(workspace, args) {
  const lines = args.flatMap(a => a.coerceString().split("\n"));
  const patterns = lines.map(compilePattern).filter(p => p !== undefined);
  if (patterns.length === 0) throw new Error("hashFiles() requires at least one pattern");
  const files = [];
  walk(workspace, "", files);
  const selected = files
    .filter(path => {
      let included = false;
      for (const p of patterns) if (p.negate === included && p.regex.test(path)) included = !p.negate;
      return included && safeStat(join(workspace, path))?.isFile();
    })
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (selected.length === 0) return new data.StringData("");
  const total = createHash("sha256");
  for (const path of selected) total.update(createHash("sha256").update(readFileSync(join(workspace, path))).digest());
  return new data.StringData(total.digest("hex"));
}

// ---- one case ----
function runtimeFunctions(status, workspace) {
  const failed = !!status?.failed;
  const cancelled = !!status?.cancelled;
  const fns = new Map();
  fns.set("always", { call: () => new data.BooleanData(true) });
  fns.set("cancelled", { call: () => new data.BooleanData(cancelled) });
  fns.set("failure", { call: () => new data.BooleanData(failed && !cancelled) });
  fns.set("success", { call: () => new data.BooleanData(!failed && !cancelled) });
  fns.set("hashfiles", { call: (...args) => hashFiles(workspace ?? process.cwd(), args) });
  return fns;
}

function typed(d) {
  switch (d.kind) {
    case data.Kind.Null:
      return ["null"];
    case data.Kind.Boolean:
      return ["bool", d.value];
    case data.Kind.Number:
      return ["num", Object.is(d.value, -0) ? "-0" : String(d.value)];
    case data.Kind.String:
      return ["str", d.value];
    case data.Kind.Array:
      return ["arr", d.values().map(typed)];
    case data.Kind.Dictionary:
      return ["obj", d.pairs().map(p => [p.key, typed(p.value)])];
  }
  throw new Error(`unknown kind ${d.kind}`);
}

function evaluate(c) {
  const contexts = JSON.parse(JSON.stringify(c.contexts ?? {}), data.reviver);
  const allowed = c.allowed;
  const names = allowed ? allowed.contexts : [...GITHUB_CONTEXTS, ...contexts.pairs().map(p => p.key)];
  const allowedFunctions = allowed ? new Set(allowed.functions.map(f => f.toLowerCase())) : undefined;
  const special = SPECIAL.filter(f => !allowedFunctions || allowedFunctions.has(f.name.toLowerCase()));
  // The runner always has every context; one the case leaves out reads as null.
  for (const name of names) if (contexts.get(name) === undefined) contexts.add(name, new data.Null());
  const tokens = new Lexer(c.expression).lex().tokens;
  const tree = new Parser(tokens, names, special).parse();
  if (tree === undefined) return new data.Null();
  return new Evaluator(tree, contexts, runtimeFunctions(c.status, c.workspace)).evaluate();
}

const input = readFileSync(0, "utf8");
const results = JSON.parse(input).map(c => {
  try {
    const value = evaluate(c);
    return { ok: true, value: JSON.parse(JSON.stringify(value, data.replacer) ?? "null"), typed: typed(value) };
  } catch (e) {
    return { ok: false, error: e.message };
  }
});
process.stdout.write(JSON.stringify(results));
