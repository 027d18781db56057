// Checks a file against speedscope's own file-format schema (shipped in the
// speedscope package) and the rules its importer relies on beyond the schema:
// frame indices in range, one weight per sample. Prints a JSON summary (frame
// names and file:line pairs) for the caller; exits 1 with the reasons when the
// file is not a speedscope profile.
//   node validate-speedscope.mjs FILE
import { readFileSync } from "node:fs";
import Ajv from "ajv";

const here = new URL(".", import.meta.url);
const schema = JSON.parse(
  readFileSync(new URL("node_modules/speedscope/dist/release/file-format-schema.json", here), "utf8"),
);
const file = process.argv[2];
if (!file) {
  console.error("usage: node validate-speedscope.mjs FILE");
  process.exit(2);
}
let data;
try {
  data = JSON.parse(readFileSync(file, "utf8"));
} catch (e) {
  console.error(`${file}: not JSON: ${e.message}`);
  process.exit(1);
}
const ajv = new Ajv({ strict: false, allErrors: true });
const validate = ajv.compile(schema);
const errors = [];
if (!validate(data)) {
  for (const e of validate.errors) errors.push(`schema: ${e.instancePath || "/"} ${e.message}`);
}
const frames = data?.shared?.frames ?? [];
for (const [p, prof] of (data?.profiles ?? []).entries()) {
  if (prof.type !== "sampled") continue;
  if (prof.samples.length !== prof.weights.length) {
    errors.push(`profile ${p}: ${prof.samples.length} samples but ${prof.weights.length} weights`);
  }
  for (const [i, stack] of prof.samples.entries()) {
    for (const f of stack) {
      if (!Number.isInteger(f) || f < 0 || f >= frames.length) {
        errors.push(`profile ${p}: sample ${i} names frame ${f} of ${frames.length}`);
      }
    }
  }
  const total = prof.weights.reduce((a, b) => a + b, 0);
  if (Math.abs(total - (prof.endValue - prof.startValue)) > 1e-6 * Math.max(1, total)) {
    errors.push(`profile ${p}: weights sum to ${total}, not endValue - startValue`);
  }
}
if (errors.length) {
  console.error(errors.join("\n"));
  process.exit(1);
}
const samples = (data.profiles ?? []).reduce((n, p) => n + (p.samples?.length ?? 0), 0);
console.log(
  JSON.stringify({
    frames: frames.map((f) => f.name),
    lines: frames.filter((f) => f.file && f.line).map((f) => `${f.file}:${f.line}`),
    stacks: samples,
    weights: (data.profiles ?? []).map((p) => p.weights.reduce((a, b) => a + b, 0)),
  }),
);
