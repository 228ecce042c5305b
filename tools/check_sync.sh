#!/usr/bin/env bash
# The export/clean sync check of nbdev's CI action: run `nbdev_clean` and `nbdev_export`, then `git status --porcelain`
# must be empty. Both tools rewrite files in place, so they run on a scratch copy of the tree (tracked files plus the
# untracked files git does not ignore, committed there as the baseline): the working tree is never touched.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bin=${NBDEV_BIN:-$repo/${VENV:-.venv}/bin}
[ -x "$bin/nbdev_export" ] || bin=$(dirname "$(command -v nbdev_export)")
bin=$(cd "$bin" && pwd)  # absolute: the check runs in a scratch folder
scratch=$(mktemp -d "${TMPDIR:-/tmp}/sync-XXXXXX")
trap 'rm -rf "$scratch"' EXIT

git -C "$repo" ls-files -z --cached --others --exclude-standard |
  (cd "$repo" && tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$scratch"
cd "$scratch"
git init -q && git config core.fileMode false
git add -A
git -c user.name=check_sync -c user.email=check_sync@localhost commit -qm baseline --no-verify

"$bin/nbdev_clean" >/dev/null
"$bin/nbdev_export" >/dev/null
if [ -n "$(git status --porcelain)" ]; then
  echo "check_sync: nbdev_clean / nbdev_export change the tree; run them (or \`pre-commit run -a\`) and commit:"
  git status --porcelain | sed 's/^/  /'
  git --no-pager diff --stat | tail -n 20
  exit 1
fi
echo "check_sync: notebooks and library in sync (nbdev_clean and nbdev_export change nothing)"
