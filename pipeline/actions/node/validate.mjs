// Runs GitHub's own workflow parser over each file given and prints every
// error as `file:line:column: message`. Exit 1 when any file has an error.
import { readFileSync } from "node:fs";
import { FeatureFlags } from "@actions/expressions/features";
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from "@actions/workflow-parser";
import { TemplateContext, TemplateValidationErrors } from "@actions/workflow-parser/templates/template-context";
import { getWorkflowSchema } from "@actions/workflow-parser/workflows/workflow-schema";

// What GitHub has made generally available that this parser version still keeps behind a flag:
// parallel steps (background, wait, wait-all, cancel, parallel; GA on 2026-06-25).
const GENERALLY_AVAILABLE = new FeatureFlags({ allowBackgroundSteps: true });

let failed = false;
for (const name of process.argv.slice(2)) {
  const content = readFileSync(name, "utf8");
  const context = new TemplateContext(new TemplateValidationErrors(), getWorkflowSchema(), new NoOperationTraceWriter());
  context.state.featureFlags = GENERALLY_AVAILABLE;
  const parsed = parseWorkflow({ name, content }, context);
  if (parsed.value !== undefined) {
    // Conversion adds the semantic errors (contexts, needs, matrices) to the same context.
    await convertWorkflowTemplate(parsed.context, parsed.value, undefined, { featureFlags: GENERALLY_AVAILABLE });
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
