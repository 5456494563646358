"""Vulnerability audit of the locked dependencies (pip-audit on `uv export --frozen`).

Prints pip-audit's table, then one verdict line. Exit 1 when a locked dependency has a
known vulnerability that is not in IGNORED (each ignore needs a reason). When the
vulnerability service cannot be reached (every dependency skipped), the audit did not
happen: that is said loudly, and is a failure only with MAILLAGE_REQUIRE_AUDIT=1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

#: Vulnerability ids accepted on purpose, with the reason (none today).
IGNORED: dict[str, str] = {}


def main() -> int:
    """Run the audit and return the exit code of CI's audit step."""
    req = subprocess.run([".venv/bin/uv", "export", "--frozen", "--format", "requirements-txt",
                          "--no-emit-project", "--quiet"], capture_output=True, text=True,
                         check=True, env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"}).stdout
    args = [".venv/bin/pip-audit", "-r", "/dev/stdin", "--disable-pip", "--progress-spinner",
            "off", "--format", "json"]
    for vuln in IGNORED:
        args += ["--ignore-vuln", vuln]
    proc = subprocess.run(args, input=req, capture_output=True, text=True, check=False)
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        print(proc.stdout[-2000:], proc.stderr[-2000:], sep="\n")
        print("pip-audit : ÉCHEC (sortie illisible)")
        return 1
    deps = report.get("dependencies", [])
    audited = [d for d in deps if "skip_reason" not in d]
    found = [(d["name"], d["version"], v["id"], ", ".join(v.get("fix_versions", [])))
             for d in audited for v in d.get("vulns", [])]
    for name, version, vid, fix in found:
        print(f"  VULNÉRABLE {name} {version} : {vid} (corrigé dans : {fix or '—'})")
    for vid, reason in IGNORED.items():
        print(f"  ignorée {vid} : {reason}")
    print(f"pip-audit : {len(deps)} dépendances verrouillées, {len(audited)} auditées, "
          f"{len(deps) - len(audited)} non auditées, {len(found)} vulnérabilité(s) connue(s).")
    if found:
        return 1
    if deps and not audited:
        print("pip-audit : AUDIT NON FAIT — le service des vulnérabilités (PyPI/OSV) est "
              "injoignable depuis cette machine.")
        return 1 if os.environ.get("MAILLAGE_REQUIRE_AUDIT") == "1" else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
