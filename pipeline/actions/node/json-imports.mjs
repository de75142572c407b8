// @actions/workflow-parser 0.3.61 imports its JSON schemas without import
// attributes, which Node 20 refuses. This hook loads them as JSON; nothing in
// node_modules is edited. Used as `node --import ./json-imports.mjs ...`.
import { register } from "node:module";

register("./json-loader.mjs", import.meta.url);
