"""The check behind the nvr-sanity example task.

A Koji NVR is name-version-release: the name may contain dashes, version and release may not, and
the release usually ends in a dist tag such as .fc40. The check writes a short report into the
artifacts directory and returns ResultYAML (written as JSON, which is valid YAML, so the task needs
nothing beyond the standard library).
"""
import json
import os
import re

NVR = re.compile(r"^(?P<name>[A-Za-z0-9._+-]+)-(?P<version>[A-Za-z0-9._+~^]+)-(?P<release>[A-Za-z0-9._+~^]+)$")
DIST_TAG = re.compile(r"\.(fc|el|eln|module_)[0-9a-z_]*")


def run(koji_build, artifactsdir="artifacts"):
    match = NVR.match(koji_build)
    problems = []
    if not match:
        problems.append("not of the form name-version-release")
    elif not DIST_TAG.search(match.group("release")):
        problems.append("release %r has no dist tag" % match.group("release"))

    report = os.path.join(artifactsdir, "nvr-sanity.txt")
    with open(report, "w", encoding="utf-8") as out:
        out.write("%s: %s\n" % (koji_build, "; ".join(problems) or "ok"))
    print("checked %s: %s" % (koji_build, "; ".join(problems) or "ok"))

    result = {
        "item": koji_build,
        "type": "koji_build",
        "checkname": "nvr-sanity",
        "outcome": "FAILED" if problems else "PASSED",
        "note": "; ".join(problems) or "well formed",
        "artifact": report,
    }
    return json.dumps({"results": [result]}, indent=2)
