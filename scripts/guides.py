#!/usr/bin/env python3
"""Runs the command blocks of README.md and the three role guides against a node, as a reader would paste them.

Every ```sh block in those files must be tagged by an HTML comment on the line before it:
    <!-- guide: step N -->          run it, in the order of N (ties: file order), all in one bash session
    <!-- guide: skip: reason -->    do not run it; the reason is printed in the summary
An untagged block is an error, so a new block cannot escape the run. The blocks run in the repository root with
`set -euo pipefail`; shell variables one block sets are seen by the next (the guides say where each comes from).
The files the guides write (deployment.json, tee-key.json, vouchers.json, ...) must not exist before the run and
are removed after it (they are in .gitignore).

    python3 scripts/guides.py [--list] [--check FILE]

--check FILE: a bash file run in the same session after the last block (it sees the guides' variables and files),
to assert what the story must have done.

Used by `make node-e2e` (scripts/node-e2e.sh) against a fresh dev node on ws://127.0.0.1:9944.
"""
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = ["README.md", "docs/owner-guide.md", "docs/provider-guide.md", "docs/user-guide.md"]
WRITTEN = ["deployment.json", "deployment.env", "tee-key.json", "vouchers.json", "vouchers-batch.json",
           "signed.json", "signed-batch.json", "signed.json.state.json", "signed-batch.json.state.json"]
TAG = re.compile(r"<!--\s*guide:\s*(step\s+(\d+)|skip:\s*(.+?))\s*-->")


def blocks():
    """(step or None, skip reason, file, line, text) for every ```sh block, in file order."""
    out, errors = [], []
    for doc in DOCS:
        lines = open(os.path.join(ROOT, doc), encoding="utf-8").read().split("\n")
        i = 0
        while i < len(lines):
            if lines[i].strip() == "```sh":
                start = i + 1
                j = start
                while j < len(lines) and lines[j].strip() != "```":
                    j += 1
                prev = lines[i - 1].strip() if i > 0 else ""
                m = TAG.fullmatch(prev)
                if not m:
                    errors.append(f"{doc}:{i + 1}: a ```sh block without a <!-- guide: step N --> or "
                                  f"<!-- guide: skip: reason --> tag on the line before it")
                else:
                    step = int(m.group(2)) if m.group(2) else None
                    out.append((step, m.group(3), doc, start, "\n".join(lines[start:j])))
                i = j
            i += 1
    if errors:
        sys.exit("\n".join(errors))
    return out


def main():
    all_blocks = blocks()
    run = sorted((b for b in all_blocks if b[0] is not None), key=lambda b: b[0])
    skipped = [b for b in all_blocks if b[0] is None]
    if "--list" in sys.argv:
        for step, _, doc, line, text in run:
            print(f"step {step:3}  {doc}:{line}  ({len(text.splitlines())} lines)")
        for _, why, doc, line, _ in skipped:
            print(f"skip      {doc}:{line}  {why}")
        return
    there = [f for f in WRITTEN if os.path.exists(os.path.join(ROOT, f))]
    if there:
        sys.exit(f"[guides] refusing to run: {', '.join(there)} exist(s) in {ROOT} (the guides would overwrite them)")
    script = ["set -euo pipefail", f"cd {ROOT}"]
    for n, (step, _, doc, line, text) in enumerate(run):
        script.append(f"echo '[guides] ({n + 1}/{len(run)}) step {step}: {doc}:{line}' >&2")
        script.append(f"GUIDE_BLOCK_START=$(date +%s)")
        script.append(text)
        script.append(f"echo \"[guides]   ok in $(( $(date +%s) - GUIDE_BLOCK_START )) s\" >&2")
    if "--check" in sys.argv:
        check = os.path.abspath(sys.argv[sys.argv.index("--check") + 1])
        script.append(f"echo '[guides] checking the outcome with {check}' >&2")
        script.append(f". {check}")
    os.makedirs(os.path.join(ROOT, "target/guides"), exist_ok=True)
    path = os.path.join(ROOT, "target/guides/run.sh")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(script) + "\n")
    t0 = time.time()
    try:
        rc = subprocess.call(["bash", path], cwd=ROOT)
    finally:
        for f in WRITTEN:
            p = os.path.join(ROOT, f)
            if os.path.exists(p):
                os.remove(p)
    for _, why, doc, line, _ in skipped:
        print(f"[guides] not run: {doc}:{line}: {why}", file=sys.stderr)
    if rc != 0:
        sys.exit(f"[guides] FAILED (exit {rc}) in the block named last above; the script is {path}")
    print(f"[guides] {len(run)} blocks ran as written, {len(skipped)} not run (reasons above), "
          f"in {time.time() - t0:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
