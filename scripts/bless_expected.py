#!/usr/bin/env python3
"""Rewrite the expected verdicts of regression traces from what lifetrace
reports now. For maintainers, after reviewing that the new verdict is right:

    scripts/bless_expected.py build/dev/lifetrace corpus/regressions/trace/foo.jsonl ...

The policy and seeded bugs of an existing NAME.expected.json are kept; a new
trace gets policy "kernel" when its name ends in -kernel, else "audit".
"""
import json
import os
import subprocess
import sys


def bless(tool, path):
    exp = path.rsplit('.', 1)[0] + '.expected.json'
    policy = 'kernel' if path.endswith('-kernel.jsonl') else 'audit'
    bugs = ''
    if os.path.exists(exp):
        with open(exp) as f:
            old = json.load(f)
        policy, bugs = old.get('policy', policy), old.get('bugs', '')
    cmd = [tool, 'replay', '--json', '--policy', policy]
    cmd += ['--bugs', bugs] if bugs else []
    out = subprocess.run(cmd + [path], capture_output=True, text=True)
    if out.returncode not in (0, 1):
        sys.exit(f'{path}: lifetrace replay exited {out.returncode}: {out.stderr.strip()}')
    verdict = json.loads(out.stdout.strip().splitlines()[-1])
    new = {'policy': policy}
    if bugs:
        new['bugs'] = bugs
    new['findings'] = [{'kind': f['kind'], 'event': f['event'], 'severity': f['severity']}
                       for f in verdict['findings']]
    with open(exp, 'w') as f:
        f.write(json.dumps(new, indent=1) + '\n')
    print(f"{path}: {policy}: {[(f['kind'], f['event']) for f in new['findings']] or 'clean'}")


if __name__ == '__main__':
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    for p in sys.argv[2:]:
        bless(sys.argv[1], p)
