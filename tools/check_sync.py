"""Fail when the committed library or notebooks are out of sync with what `nbdev_export` / `nbdev_clean` produce.

Both tools rewrite files in place, so they run on a scratch copy of the tree (tracked files plus untracked files
that git does not ignore): the working tree is never touched, whatever state it is in.
"""
import filecmp
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def tree_files(repo):
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=repo, check=True, capture_output=True).stdout
    return [f for f in out.decode().split("\0") if f and (repo / f).is_file()]


def differences(repo, scratch, files):
    changed = [f for f in files if not filecmp.cmp(repo / f, scratch / f, shallow=False)]
    known = set(files)
    created = [str(p.relative_to(scratch)) for d in ("coursework_lib", "nbs") if (scratch / d).is_dir()
               for p in (scratch / d).rglob("*")
               if p.is_file() and "__pycache__" not in p.parts and str(p.relative_to(scratch)) not in known]
    return changed, created


def main():
    files = tree_files(REPO)
    with tempfile.TemporaryDirectory(prefix="sync-") as tmp:
        scratch = Path(tmp)
        for f in files:
            (scratch / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / f, scratch / f)
        for tool in ("nbdev_export", "nbdev_clean"):
            res = subprocess.run([str(BIN / tool)], cwd=scratch, capture_output=True, text=True)
            if res.returncode:
                print(f"check_sync: {tool} failed:\n{res.stdout}{res.stderr}", file=sys.stderr)
                return 1
        changed, created = differences(REPO, scratch, files)
    if changed or created:
        print("check_sync: nbdev_export / nbdev_clean would change the tree; run them and commit the result:")
        for f in changed:
            print(f"  modified: {f}")
        for f in created:
            print(f"  created:  {f}")
        return 1
    print(f"check_sync: library and notebooks in sync ({len(files)} files checked)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
