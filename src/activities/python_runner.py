"""Runs one `python` directive: import FILE from the task directory, call CALLABLE(**kwargs).

Invoked by the runner as: python3 python_runner.py TASKDIR FILE CALLABLE REQUEST_JSON RESULT_JSON.
The keyword arguments come from REQUEST_JSON; the return value goes to RESULT_JSON, so the task's
own prints stay in the log and never mix with the value. A string is returned as is; anything else
must be JSON-serialisable.
"""
import importlib.util
import json
import os
import sys
import traceback


def main():
    taskdir, file_name, callable_name, request_path, result_path = sys.argv[1:6]
    with open(request_path, encoding="utf-8") as request:
        kwargs = json.load(request)
    path = file_name if os.path.isabs(file_name) else os.path.join(taskdir, file_name)
    # Task modules import their siblings, as they did when runtask ran in the task directory.
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    os.chdir(taskdir)
    spec = importlib.util.spec_from_file_location("taskotron_task_module", path)
    if spec is None or spec.loader is None:
        print(f"[taskotron] cannot import {path}", file=sys.stderr)
        return 3
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    function = getattr(module, callable_name, None)
    if not callable(function):
        print(f"[taskotron] {path} has no callable named {callable_name!r}", file=sys.stderr)
        return 3
    value = function(**kwargs)
    if value is None:
        result = {"kind": "none"}
    elif isinstance(value, str):
        result = {"kind": "string", "value": value}
    else:
        try:
            result = {"kind": "json", "value": json.loads(json.dumps(value))}
        except (TypeError, ValueError) as error:
            print(f"[taskotron] {callable_name} returned a {type(value).__name__}, which is neither a string nor JSON: {error}", file=sys.stderr)
            return 4
    with open(result_path, "w", encoding="utf-8") as out:
        json.dump(result, out)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SystemExit:
        raise
    except BaseException:  # the traceback is what a task author needs to see
        traceback.print_exc()
        sys.exit(1)
