// Runs GitHub's own workflow parser over each file given and prints every
// error as `file:line:column: message`. Exit 1 when any file has an error.
import { readFileSync } from "node:fs";
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from "@actions/workflow-parser";

let failed = false;
for (const name of process.argv.slice(2)) {
  const content = readFileSync(name, "utf8");
  const parsed = parseWorkflow({ name, content }, new NoOperationTraceWriter());
  if (parsed.value !== undefined) {
    // Conversion adds the semantic errors (contexts, needs, matrices) to the same context.
    await convertWorkflowTemplate(parsed.context, parsed.value);
  }
  const errors = parsed.context.errors.getErrors();
  const seen = new Set();
  for (const error of errors) {
    const range = error.range;
    const where = range ? `${range.start.line}:${range.start.column}` : "1:1";
    const line = `${name}:${where}: ${error.rawMessage}`;
    if (!seen.has(line)) {
      seen.add(line);
      console.log(line);
      failed = true;
    }
  }
}
process.exit(failed ? 1 : 0);
